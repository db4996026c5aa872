"""router:* commands: which reverse proxy berth drives, and what it routes."""

from __future__ import annotations

import contextlib
import sys

import click

from berth import apps, routing
from berth.cli.common import ctx, emit_json, format_option
from berth.context import Ctx
from berth.errors import BerthError
from berth.store import apps as store_apps
from berth.store import events, settings


@click.command("router:set")
@click.argument("name")
def set_(name: str) -> None:
    """Choose the router for this host: caddy (default), nginx, or one a plugin registers
    (`berth router:report` lists them). The other one is stopped and the new one started
    with every route; if it fails to start, nothing changes.

    \b
    Example:
      berth router:set nginx
    """
    c = ctx()
    routing.check_router(name, c.paths.root)
    if name == "nginx":
        from berth.routers import nginx

        nginx.nginx_binary()  # a clear error when it is not installed

    def change() -> None:
        settings.put(c.conn, "router", name)
        events.record(c.conn, actor=c.actor, app=None, action="router.set",
                      details={"router": name})

    try:
        routing.change(c, change)
    except BerthError:
        with contextlib.suppress(BerthError):
            routing.apply(c)  # the setting is back: start the old router again at once
        raise
    click.echo(f"-----> Router set to {name}")


def _report(c: Ctx) -> dict:
    status = routing.router(c).status()
    status["selected"] = routing.router_name(c)
    status["registered"] = sorted(routing.registered_routers(c.paths.root))
    status["https_listen"] = routing.listeners(c).https
    return status


@click.command("router:report")
@format_option
def report(fmt: str) -> None:
    """Show the router: which one, whether it runs, its listeners, routes and upstreams,
    refused app configs, and the features it lacks.

    \b
    Example:
      berth router:report --format json
    """
    data = _report(ctx())
    if fmt == "json":
        emit_json(data)
        return
    click.echo(f"=====> Router: {data['router']} "
               f"({'running' if data['running'] else 'NOT running'}, pid {data.get('pid')})")
    click.echo(f"       listen: {' '.join(data.get('listeners') or data.get('listen') or [])}")
    for missing in data.get("lacks", []):
        click.echo(f"       lacks: {missing}")
    for app, error in sorted((data.get("errors") or {}).items()):
        click.echo(f" !     {app}: config refused, last good one serving: {error}")
    for r in data.get("routes", []):
        click.echo(f"       {r['app']:<20} {r['state']:<11} {' '.join(r['hosts'])} -> "
                   f"{' '.join(r['upstreams']) or '-'}")


@click.command("nginx:snippet")
@click.argument("app")
def nginx_snippet(app: str) -> None:
    """Set raw nginx directives for the app's server block from stdin (empty input clears
    them). Checked with `nginx -t`; a refused snippet changes nothing. Admin only.

    \b
    Example:
      echo 'add_header X-Frame-Options DENY;' | berth nginx:snippet myapp
    """
    c = ctx()
    a = apps.require(c, app)
    text = sys.stdin.read(64 * 1024)

    def change() -> None:
        store_apps.set_setting(c.conn, a, "nginx.snippet", text if text.strip() else None)
        events.record(c.conn, actor=c.actor, app=app, action="nginx.snippet")

    routing.change(c, change)
    click.echo(f"-----> nginx snippet of {app} " + ("set" if text.strip() else "cleared"))
