"""ports:* commands: scheme:host-port:container-port mappings of an app."""

from __future__ import annotations

from collections.abc import Callable

import click

from berth import apps, ports, routing
from berth.cli.common import ctx, emit_json, format_option, table
from berth.context import Ctx
from berth.models import App
from berth.store import events
from berth.store.db import transaction


def _change(c: Ctx, a: App, action: str, fn: Callable[[], object]) -> None:
    """Store the new mappings and route them. When the app's main container port changes,
    the app is redeployed first (a new release gets it as PORT) and the switch to the new
    containers routes the new port; if that deploy fails, the old mappings come back."""
    from berth import deploy
    from berth.store import ports as store_ports

    before = store_ports.of_app(c.conn, a.id)

    def run() -> bool:
        fn()
        events.record(c.conn, actor=c.actor, app=a.name, action=action)
        return _needs_release(c, a)

    with routing.locked(c), transaction(c.conn):
        release = run()
        if not release:
            routing.apply_unlocked(c)
    if release:
        try:
            with deploy.app_lock(c, a.name):
                deploy.redeploy_config(c, apps.get(c, a.name),
                                       f"Set port {ports.primary_container_port(c, a.id)}")
        except BaseException:
            with transaction(c.conn):
                store_ports.put(c.conn, a.id, before)
            routing.apply(c)
            raise
    click.echo(f"-----> Ports of {a.name}: "
               + " ".join(f"{m['scheme']}:{m['host_port']}:{m['container_port']}"
                          for m in ports.effective(c, a)))


def _needs_release(c: Ctx, a: App) -> bool:
    """True when the main container port differs from the running release's PORT."""
    from berth.schedulers import specs
    from berth.store import releases

    want = ports.primary_container_port(c, a.id)
    cur = releases.current(c.conn, a)
    return not (want is None or cur is None or cur.image is None
                or specs.port_of(cur) == want or "PORT" in cur.config)


@click.command("ports:list")
@click.argument("app")
@format_option
def list_(app: str, fmt: str) -> None:
    """List the port mappings the router serves for an app (set or default).

    \b
    Example:
      berth ports:list myapp
    """
    c = ctx()
    rows = ports.effective(c, apps.require(c, app))
    if fmt == "json":
        emit_json(rows)
        return
    table([[r["scheme"], str(r["host_port"]), str(r["container_port"]), r["source"]]
           for r in rows], ["SCHEME", "HOST PORT", "CONTAINER PORT", "SOURCE"])


@click.command("ports:add")
@click.argument("app")
@click.argument("mapping", nargs=-1, required=True)
def add(app: str, mapping: tuple[str, ...]) -> None:
    """Add port mappings scheme:host-port:container-port.

    \b
    Example:
      berth ports:add myapp http:8080:5000
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, a, "ports.add", lambda: ports.add(c, a, mapping))


@click.command("ports:set")
@click.argument("app")
@click.argument("mapping", nargs=-1, required=True)
def set_(app: str, mapping: tuple[str, ...]) -> None:
    """Replace an app's port mappings.

    \b
    Example:
      berth ports:set myapp http:80:8000 https:443:8000
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, a, "ports.set", lambda: ports.set_(c, a, mapping))


@click.command("ports:remove")
@click.argument("app")
@click.argument("mapping", nargs=-1, required=True)
def remove(app: str, mapping: tuple[str, ...]) -> None:
    """Remove port mappings (scheme:host:container, scheme:host or a host port).

    \b
    Example:
      berth ports:remove myapp http:8080
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, a, "ports.remove", lambda: ports.remove(c, a, mapping))


@click.command("ports:clear")
@click.argument("app")
def clear(app: str) -> None:
    """Remove every port mapping of an app; the defaults apply again.

    \b
    Example:
      berth ports:clear myapp
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, a, "ports.clear", lambda: ports.clear(c, a))
