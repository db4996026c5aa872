"""Routes for every app, computed from the store (hosts) and the engine (upstreams), applied
to the router as one full config under one lock so two deploys never undo each other."""

from __future__ import annotations

from pathlib import Path

from berth import locks
from berth.context import Ctx
from berth.routers.base import Route
from berth.schedulers import docker_local
from berth.store import apps as store_apps
from berth.store import settings


def hosts_for(ctx: Ctx, app: str) -> tuple[str, ...]:
    domain = settings.get(ctx.conn, "domain")
    return (f"{app}.{domain}",)


def url_for(ctx: Ctx, app: str) -> str:
    listen = settings.get(ctx.conn, "listen")
    port = listen.rsplit(":", 1)[-1]
    suffix = "" if port in ("", "80") else f":{port}"
    return f"http://{hosts_for(ctx, app)[0]}{suffix}"


def compute(ctx: Ctx) -> list[Route]:
    current = {a.name: a.current_release for a in store_apps.all_apps(ctx.conn)
               if a.current_release is not None}
    ups = docker_local.web_upstreams(current)  # type: ignore[arg-type]
    return [Route(app=name, hosts=hosts_for(ctx, name), upstreams=tuple(ups.get(name, [])))
            for name in sorted(current)]


def router(ctx: Ctx):  # type: ignore[no-untyped-def]
    from berth.routers.caddy import CaddyRouter

    return CaddyRouter(ctx.paths.root, listen=settings.get(ctx.conn, "listen"))


def lock_path(ctx: Ctx) -> Path:
    return ctx.paths.locks / "router.lock"


def apply(ctx: Ctx, *, force: bool = False) -> list[Route]:
    """Recompute and apply every route; starts Caddy if it is not running."""
    from berth.routers import caddy

    with locks.hold(lock_path(ctx), what="the router", timeout=60):
        caddy.ensure_running(ctx.paths.root, settings.get(ctx.conn, "listen"))
        routes = compute(ctx)
        router(ctx).apply(routes, force=force)
        return routes
