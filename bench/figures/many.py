"""100 apps deployed: resident memory of `berth server` + Caddy, and the time a route change
takes (`berth domains:add`, which returns once the router has the new table) with 100 apps
against the same with 1.

To make 100 apps cheap, one static app is pushed (a real build) and 99 more are created with
berth's own calls (apps.create, deploy.new_release with the already-built image,
deploy.deploy_release): each runs its own container with checks and gets its own route,
exactly as `releases:rollback` deploys an existing image; only the build is skipped.

Each berth app gets a bridge network of its own, and Docker's default address pools hold
about 30 such networks per host; so the bench creates the 99 networks itself, with the name
and label berth uses, on explicit /28 subnets (berth reuses a network that exists)."""

from __future__ import annotations

import ipaddress
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.env import APPS, BenchEnv, make_repo, wait_until
from bench.plan import Plan
from bench.stats import Figure

FIRST = "s0"
SUBNET_CANDIDATES = ("10.213.0.0/16", "10.214.0.0/16", "10.215.0.0/16", "172.30.128.0/17")


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory(env: BenchEnv) -> tuple[float, float]:
    """(berth server, router: Caddy + berth's resolver) resident MB."""
    return rss_mb(env.server_pid), rss_mb(env.caddy_pid()) + rss_mb(env.resolver_pid())


def _free_block() -> ipaddress.IPv4Network:
    used = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    nets = subprocess.run(["docker", "network", "inspect", "--format",
                           "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
                           *subprocess.run(["docker", "network", "ls", "-q"], capture_output=True,
                                           text=True).stdout.split()],
                          capture_output=True, text=True).stdout.split()
    taken = [ipaddress.ip_network(n, strict=False) for n in nets if "/" in n and ":" not in n]
    taken += [ipaddress.ip_network(w, strict=False) for w in used.split()
              if "/" in w and w[0].isdigit()]
    for cand in SUBNET_CANDIDATES:
        block = ipaddress.IPv4Network(cand)
        if not any(block.overlaps(t) for t in taken):
            return block
    raise RuntimeError("no free private block for the bench's app networks")


def _route_change(env: BenchEnv, n: int, reps: int) -> list[float]:
    out = []
    for i in range(reps):
        host = f"bench-{n}-{i}.example"
        start = time.monotonic()
        env.berth("domains:add", FIRST, host)
        out.append(time.monotonic() - start)
        status, _ = env.get(FIRST, host=host)
        if status != 200:
            raise RuntimeError(f"{host} answered {status} after domains:add")
        env.berth("domains:remove", FIRST, host)
    return out


def _in_process_apply(env: BenchEnv, reps: int) -> dict[str, float]:
    """Median seconds of routing.compute and of the router's load, in this process."""
    import statistics

    from berth import routing

    ctx = env.ctx()
    comp, load = [], []
    for _ in range(reps):
        t0 = time.monotonic()
        routes = routing.compute(ctx)
        t1 = time.monotonic()
        with routing.locked(ctx):
            routing.router(ctx).apply(routes, force=True)
        t2 = time.monotonic()
        comp.append(t1 - t0)
        load.append(t2 - t1)
    return {"compute_s": statistics.median(comp), "load_s": statistics.median(load),
            "routes": len(routes)}


def _copy_app(env: BenchEnv, name: str, subnet: str, base: Any) -> None:
    from berth import apps, checks_config, deploy
    from berth.instance import prefix
    from berth.schedulers import specs
    from berth.store import apps as store_apps

    subprocess.run(["docker", "network", "create", "--driver", "bridge", "--subnet", subnet,
                    "--label", f"{specs.LABEL_APP}={name}", f"{prefix()}-{name}"],
                   capture_output=True, check=True)
    ctx = env.ctx()
    apps.create(ctx, name)
    checks_config.set_value(ctx, name, "wait-to-retire", "0")
    app = store_apps.get(ctx.conn, name)
    with deploy.app_lock(ctx, name):  # as every deploy: the reconciler leaves it alone
        rel = deploy.new_release(ctx, app, image=base.image, git_sha=base.git_sha,
                                 processes=base.processes, app_json=base.app_json,
                                 port=base.port, description=f"Copy of {FIRST}'s image (bench)")
        deploy.deploy_release(ctx, app, rel)


def many_apps(env: BenchEnv, plan: Plan, work: Path) -> list[Figure]:
    mem = Figure(key="many_memory", title=f"{plan.apps} apps: berth server + Caddy + resolver RSS",
                 unit="MB", target="< 150 MB", value_max=150.0,
                 floor_title="the same with 1 app")
    route = Figure(key="many_route_change", title=f"route change with {plan.apps} apps",
                   unit="s", target="<= 2x floor", ratio_max=2.0,
                   floor_title="the same with 1 app")
    try:
        _many(env, plan, work, mem, route)
    except Exception as e:
        for fig in (mem, route):
            fig.error = fig.error or f"{type(e).__name__}: {e}"
    return [mem, route]


def _many(env: BenchEnv, plan: Plan, work: Path, mem: Figure, route: Figure) -> None:
    from berth.store import apps as store_apps
    from berth.store import releases

    for name in _app_names(env):
        env.berth("apps:destroy", name, "--force")
    repo = make_repo(APPS / "static", work / FIRST)
    env.push(repo, FIRST)
    wait_until(lambda: env.get(FIRST), "hello from static", timeout=30)
    time.sleep(env_settle(plan))
    one = _memory(env)
    route.floor = _route_change(env, 1, plan.reps_route)
    one_apply = _in_process_apply(env, plan.reps_route)
    ctx = env.ctx()
    base = releases.current(ctx.conn, store_apps.get(ctx.conn, FIRST))
    assert base is not None
    block = _free_block()
    subnets = list(block.subnets(new_prefix=28))
    names = [f"s{i}" for i in range(1, plan.apps)]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda a: _copy_app(env, a[0], str(subnets[a[1]]), base),
                      zip(names, range(len(names)), strict=True)))
    created = time.monotonic() - start
    for name in names[:: max(1, len(names) // 10)]:  # spot-check that copies answer
        wait_until(lambda n=name: env.get(n), "hello from static", timeout=30)
    time.sleep(env_settle(plan))
    cpu0, t0 = cpu_seconds(env.server_pid), time.monotonic()
    samples = []
    for _ in range(5):
        samples.append(_memory(env))
        time.sleep(1.0)
    cpu = (cpu_seconds(env.server_pid) - cpu0) / (time.monotonic() - t0)
    mem.value = [s + c for s, c in samples]
    mem.floor = [one[0] + one[1]] * len(samples)
    mem.extra = {"server_mb": [s for s, _ in samples],
                 "caddy_and_resolver_mb": [c for _, c in samples],
                 "resolver_mb": rss_mb(env.resolver_pid()),
                 "one_app": {"server_mb": one[0], "caddy_mb": one[1]},
                 "server_cpu_share_idle": cpu, "create_99_apps_s": created}
    route.value = _route_change(env, plan.apps, plan.reps_route)
    route.extra = {"one_app": one_apply, "many_apps": _in_process_apply(env, plan.reps_route)}
    list_wall = []
    for _ in range(5):
        t = time.monotonic()
        env.berth("apps:list")
        list_wall.append(time.monotonic() - t)
    route.extra["apps_list_s"] = list_wall
    mem.note = (f"{plan.apps - 1} apps reuse the pushed static app's image through berth's "
                "own release + deploy calls (no build); networks pre-created on /28 subnets")


def env_settle(plan: Plan) -> float:
    return 6.0  # a reconcile pass (5 s) and the log shipper catching up


def _app_names(env: BenchEnv) -> list[str]:
    import json

    return [a["name"] for a in json.loads(env.berth("apps:list", "--format", "json").stdout)]
