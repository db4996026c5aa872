"""The built-in routers, registered through the `routers` hook like any plugin's:
routing.router() builds the selected one (`berth router:set`) from this table."""

from __future__ import annotations

from typing import Any

from berth.context import Ctx
from berth.hooks import hookimpl


def caddy(ctx: Ctx) -> Any:
    from berth import routing
    from berth.routers.caddy import CaddyRouter

    return CaddyRouter(ctx.paths.root, listeners=routing.listeners(ctx),
                       log_dir=ctx.paths.logs / "router")


def nginx(ctx: Ctx) -> Any:
    from berth import routing
    from berth.routers.nginx import NginxRouter

    return NginxRouter(ctx.paths.root, listeners=routing.listeners(ctx),
                       log_dir=ctx.paths.logs / "router")


@hookimpl
def routers() -> dict[str, Any]:
    return {"caddy": caddy, "nginx": nginx}
