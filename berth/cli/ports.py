"""ports:* commands: scheme:host-port:container-port mappings of an app."""

from __future__ import annotations

from collections.abc import Callable

import click

from berth import apps, ports, routing
from berth.cli.common import ctx, emit_json, format_option, table
from berth.context import Ctx
from berth.models import App
from berth.store import events


def _change(c: Ctx, a: App, action: str, fn: Callable[[], object]) -> None:
    def run() -> None:
        fn()
        events.record(c.conn, actor=c.actor, app=a.name, action=action)

    routing.change(c, run)
    _follow_port(c, a)
    click.echo(f"-----> Ports of {a.name}: "
               + " ".join(f"{m['scheme']}:{m['host_port']}:{m['container_port']}"
                          for m in ports.effective(c, a)))


def _follow_port(c: Ctx, a: App) -> None:
    """A new main container port means a new release, so PORT and the checks follow it."""
    from berth import deploy
    from berth.schedulers import specs
    from berth.store import releases

    want = ports.primary_container_port(c, a.id)
    cur = releases.current(c.conn, a)
    if want is None or cur is None or cur.image is None or specs.port_of(cur) == want \
            or "PORT" in cur.config:
        return
    with deploy.app_lock(c, a.name):
        deploy.redeploy_config(c, apps.get(c, a.name), f"Set port {want}")


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
