"""The built-in router, registered through the `routers` hook like any plugin's."""

from __future__ import annotations

from typing import Any

from berth.context import Ctx
from berth.hooks import hookimpl


def caddy(ctx: Ctx) -> Any:
    from berth.routers.caddy import CaddyRouter
    from berth.store import settings

    return CaddyRouter(ctx.paths.root, listen=settings.get(ctx.conn, "listen"))


@hookimpl
def routers() -> dict[str, Any]:
    return {"caddy": caddy}
