"""Schedulers run release containers. Which one an app uses: its `scheduler` app setting
(`berth scheduler:set APP NAME`), else the `scheduler` server setting, else docker-local.
Names are those registered through the `schedulers` hook (berth/schedulers/plugin.py for
the built-in). Everything else in berth reaches a scheduler through :func:`selected`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from berth.context import Ctx
    from berth.models import App
    from berth.schedulers.base import Scheduler

DEFAULT = "docker-local"
SETTING = "scheduler"  # the server setting and the app setting
_warned: set[str] = set()


def registered(root: Path | None = None) -> dict[str, Callable[[Ctx], Scheduler]]:
    """{name: factory(ctx)} of every scheduler the loaded plugins register."""
    from berth.hooks import manager

    return manager.registry("schedulers", root)


def check(name: str, root: Path | None = None) -> str:
    """``name`` if a scheduler is registered under it, else a ValidationError naming them."""
    from berth.hooks import manager

    return manager.registered_name("schedulers", name, root)


def _app(ctx: Ctx, app: App | str | None) -> App | None:
    if app is None or not isinstance(app, str):
        return app
    from berth.store import apps as store_apps

    return store_apps.find(ctx.conn, app)


def configured(ctx: Ctx, app: App | str | None = None) -> str:
    """The name the settings ask for (it may no longer be registered)."""
    from berth.store import apps as store_apps
    from berth.store import settings

    found = _app(ctx, app)
    own = store_apps.get_setting(ctx.conn, found, SETTING) if found is not None else None
    return own or settings.get(ctx.conn, SETTING) or DEFAULT


def name_for(ctx: Ctx, app: App | str | None = None) -> str:
    """The scheduler ``app`` uses (the server's default without an app). One whose plugin is
    gone (disabled, uninstalled) falls back to docker-local, with a warning."""
    name = configured(ctx, app)
    if name != DEFAULT and name not in registered(ctx.paths.root):
        if name not in _warned:
            _warned.add(name)
            sys.stderr.write(f" !     scheduler {name!r} is not registered (its plugin is "
                             f"gone?); using {DEFAULT}\n")
        return DEFAULT
    return name


def build(ctx: Ctx, name: str) -> Scheduler:
    return registered(ctx.paths.root)[check(name, ctx.paths.root)](ctx)


def selected(ctx: Ctx, app: App | str | None = None) -> Scheduler:
    """The scheduler that runs ``app`` (or the server's default one)."""
    return build(ctx, name_for(ctx, app))


def set_for(ctx: Ctx, app_name: str, name: str | None) -> None:
    """`scheduler:set`: the app's own scheduler; None follows the server setting again.
    An unknown name changes nothing."""
    from berth import apps
    from berth.deploy import app_lock
    from berth.store import apps as store_apps
    from berth.store import events
    from berth.store.db import transaction

    if name is not None:
        check(name, ctx.paths.root)
    app = apps.get(ctx, app_name)
    with app_lock(ctx, app.name), transaction(ctx.conn):  # not in the middle of a deploy
        store_apps.set_setting(ctx.conn, app, SETTING, name)
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action="scheduler.set",
                      details={"scheduler": name})


def report(ctx: Ctx, app_name: str) -> dict[str, Any]:
    from berth import apps
    from berth.store import apps as store_apps

    app = apps.get(ctx, app_name)
    return {"app": app.name, "selected": name_for(ctx, app),
            "app_setting": store_apps.get_setting(ctx.conn, app, SETTING) or "",
            "server_setting": configured(ctx),
            "registered": sorted(registered(ctx.paths.root))}
