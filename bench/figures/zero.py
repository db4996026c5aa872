"""Failed requests under steady load while the app is redeployed (git push of a one-line
change) N times, scaled 1 -> 3 -> 1, given a config var, and rolled back.

Three clients run at once, each counted on its own:
    wrk          keep-alive connections as fast as they go (no retries)
    keep-alive   paced Python workers, one connection each, reused after checking the server
                 has not closed it (as urllib3 does); a request on it that fails counts
    new-conn     paced Python workers opening a new connection for every request
Every failure is attributed to the operation running when it happened."""

from __future__ import annotations

import time
from pathlib import Path

from bench import load
from bench.env import BenchEnv, commit, wait_until
from bench.figures.deploys import _edit, _source
from bench.plan import Plan
from bench.stats import Figure

APP = "steady"


def _ok(status: int, body: str) -> bool:
    return status == 200 and body.startswith("hello from flask")


def steady_load(env: BenchEnv, plan: Plan, work: Path) -> list[Figure]:
    figs = {
        "wrk": Figure(key="zero_wrk", title="failed requests: wrk keep-alive (4 conns)",
                      unit="failed", target="0", value_max=0),
        "keepalive": Figure(key="zero_keepalive", title="failed requests: paced keep-alive",
                            unit="failed", target="0", value_max=0),
        "close": Figure(key="zero_newconn", title="failed requests: new connection each",
                        unit="failed", target="0", value_max=0),
    }
    try:
        _run(env, plan, work, figs)
    except Exception as e:
        for fig in figs.values():
            fig.error = f"{type(e).__name__}: {e}"
    return list(figs.values())


def _run(env: BenchEnv, plan: Plan, work: Path, figs: dict[str, Figure]) -> None:
    repo = _source("python", work, APP)
    env.push(repo, APP)
    wait_until(lambda: env.get(APP), "hello from flask", timeout=30)
    ops: list[tuple[str, float, float]] = []

    def op(name: str, fn: object) -> None:
        start = time.monotonic()
        fn()  # type: ignore[operator]
        ops.append((name, start, time.monotonic()))

    client = load.PacedClient(env.router_port, env.host(APP), workers=4, interval=0.02,
                              ok=_ok)
    with load.Wrk(env.url(), connections=4, threads=1, host=env.host(APP)) as bg, client:
        time.sleep(1.0)
        current = "hello from flask"
        for i in range(plan.redeploys):
            new = f"hello from flask z{i}"
            _edit(repo / "app.py", current, new)
            current = new
            commit(repo, f"z{i}")
            op("redeploy", lambda: env.push(repo, APP))
        op("scale 1->3", lambda: env.berth("ps:scale", APP, "web=3"))
        op("scale 3->1", lambda: env.berth("ps:scale", APP, "web=1"))
        op("config:set", lambda: env.berth("config:set", APP, "BENCH=1"))
        op("rollback", lambda: env.berth("releases:rollback", APP))
        time.sleep(3.0)  # the rollback's old containers retire after 2 s
        wrk_result = bg.stop()
    total = sum(end - start for _, start, end in ops)
    for mode, fig in figs.items():
        if mode == "wrk":
            fig.value = [float(wrk_result.failed)]
            fig.extra = {"requests": wrk_result.requests,
                         "socket_errors": wrk_result.socket_errors,
                         "non_2xx": wrk_result.non_2xx}
            continue
        st = client.stats[mode]
        fig.value = [float(len(st.failures))]
        fig.extra = {"requests": st.requests, "idle_closed_by_server": st.idle_closed,
                     "by_operation": _attribute(st.failures, ops),
                     "kinds": sorted({f.what for f in st.failures})}
    figs["wrk"].note = (f"{plan.redeploys} redeploys + scale 1->3->1 + config:set + rollback "
                        f"in {total:.0f} s")


def _attribute(failures: list[load.Failure], ops: list[tuple[str, float, float]]
               ) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in failures:
        name = next((n for n, s, e in ops if s <= f.at <= e), "between operations")
        out[name] = out.get(name, 0) + 1
    return out


def caddy_alone(plan: Plan, work: Path) -> list[Figure]:
    """The same three clients against a bare Caddy (a fixed 200 response, no berth) while its
    config is loaded ``plan.redeploys`` times: what Caddy's reload itself costs clients."""
    from bench.env import free_port
    from berth.routers import caddy

    root = work / "bare-caddy"
    port = free_port()
    titles = {"wrk": "wrk keep-alive", "keepalive": "paced keep-alive",
              "close": "new connection each"}
    figs = {m: Figure(key=f"bare_caddy_{m}", unit="failed", target="(reference)",
                      title=f"bare Caddy, {plan.redeploys} config loads: {t}")
            for m, t in titles.items()}

    def config(i: int) -> dict:
        return {"admin": {"listen": f"unix/{caddy.admin_socket(root)}",
                          "config": {"persist": False}},
                "apps": {"http": {"grace_period": "10s", "servers": {"bare": {
                    "listen": [f"127.0.0.1:{port}"],
                    "routes": [{"handle": [{"handler": "static_response", "status_code": 200,
                                            "body": f"hello from flask {i}"}]}]}}}}}

    try:
        caddy.start_caddy(root)
        caddy.load_config(root, config(0))
        client = load.PacedClient(port, "bare", workers=4, interval=0.02, ok=_ok)
        with load.Wrk(f"http://127.0.0.1:{port}/", connections=4, threads=1) as bg, client:
            time.sleep(1.0)
            for i in range(plan.redeploys):
                caddy.load_config(root, config(i + 1))
                time.sleep(0.5)
            time.sleep(1.0)
            wrk_result = bg.stop()
        figs["wrk"].value = [float(wrk_result.failed)]
        figs["wrk"].extra = {"requests": wrk_result.requests,
                             "socket_errors": wrk_result.socket_errors}
        for mode in ("keepalive", "close"):
            st = client.stats[mode]
            figs[mode].value = [float(len(st.failures))]
            figs[mode].extra = {"requests": st.requests, "idle_closed_by_server": st.idle_closed,
                                "kinds": sorted({f.what for f in st.failures})}
        migrate = Path("/proc/sys/net/ipv4/tcp_migrate_req")
        figs["wrk"].note = ("net.ipv4.tcp_migrate_req = "
                            f"{migrate.read_text().strip() if migrate.exists() else 'absent'}")
    except Exception as e:
        for fig in figs.values():
            fig.error = f"{type(e).__name__}: {e}"
    finally:
        caddy.stop_caddy(root)
    return list(figs.values())
