"""Requests/s and latency through the router (Caddy) against the same load straight at the
container's own IP:port, with wrk: 2 threads, 50 keep-alive connections, a small response
from the Node fixture (Express)."""

from __future__ import annotations

from pathlib import Path

from bench import load
from bench.env import BenchEnv
from bench.figures.deploys import _source
from bench.plan import Plan
from bench.stats import Figure

APP = "load"


def upstreams(env: BenchEnv, app: str) -> list[str]:
    """IP:port of the app's running web containers, as the router dials them."""
    from berth import schedulers
    from berth.store import apps as store_apps

    ctx = env.ctx()
    found = store_apps.get(ctx.conn, app)
    sched = schedulers.selected(ctx, found)
    return sched.web_upstreams({app: found.current_release or 0}).get(app, [])


def throughput(env: BenchEnv, plan: Plan, work: Path) -> list[Figure]:
    floor = "the same wrk load straight at the container's IP:port"
    rps = Figure(key="router_rps", title="requests/s through the router (50 connections)",
                 unit="req/s", target=">= 0.9x floor", ratio_min=0.9, floor_title=floor)
    p50 = Figure(key="router_p50", title="p50 latency through the router", unit="ms",
                 target="(reported)", floor_title=floor)
    p99 = Figure(key="router_p99", title="p99 latency through the router", unit="ms",
                 target="<= floor + 1 ms", diff_max=1.0, floor_title=floor)
    figs = [rps, p50, p99]
    try:
        repo = _source("node", work, APP)
        env.push(repo, APP)
        direct = upstreams(env, APP)
        if len(direct) != 1:
            raise RuntimeError(f"expected one web container, found {direct}")
        via_router = (env.url(), env.host(APP))
        straight = (f"http://{direct[0]}/", None)
        load.wrk(via_router[0], seconds=2, host=via_router[1])  # warm both paths
        load.wrk(straight[0], seconds=2)
        for i in range(plan.reps_load):
            results = {}
            for side in (("router", "direct") if i % 2 == 0 else ("direct", "router")):
                url, host = via_router if side == "router" else straight
                results[side] = load.wrk(url, seconds=plan.load_seconds, host=host)
            r, d = results["router"], results["direct"]
            for fig, get in ((rps, "rps"), (p50, "p50_ms"), (p99, "p99_ms")):
                fig.value.append(getattr(r, get))
                fig.floor.append(getattr(d, get))
            rps.extra.setdefault("failed_router", []).append(r.failed)
            rps.extra.setdefault("failed_direct", []).append(d.failed)
    except Exception as e:
        for fig in figs:
            fig.error = f"{type(e).__name__}: {e}"
    rps.note = (f"wrk -t2 -c50 -d{plan.load_seconds}s on the same 2-core host as Caddy and "
                "the app: the router's CPU comes out of the same budget as the load's")
    return figs
