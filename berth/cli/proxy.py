"""proxy:*, http-auth:*, redirect:* and maintenance:* commands."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from berth import apps, proxy, routing
from berth.cli.common import ctx, emit_json, format_option
from berth.cli.common import report as show_report
from berth.context import Ctx
from berth.models import App
from berth.store import events


def _change(c: Ctx, app: str, action: str, fn: Callable[[App], object]) -> None:
    a = apps.require(c, app)

    def run() -> None:
        fn(a)
        events.record(c.conn, actor=c.actor, app=app, action=action)

    routing.change(c, run)


@click.command("proxy:set")
@click.argument("app")
@click.argument("key", type=click.Choice(sorted(proxy.SETTINGS)))
@click.argument("value", required=False)
def set_(app: str, key: str, value: str | None) -> None:
    """Set a proxy setting of an app; without a value it returns to the default.

    Settings: client-max-body-size (10m; 0 = no limit), read-timeout and connect-timeout
    (30s, 5m), compression (on/off: gzip and zstd), hsts (on, off or a max-age).

    \b
    Example:
      berth proxy:set myapp client-max-body-size 20m
      berth proxy:set myapp read-timeout 120s
    """
    c = ctx()
    _change(c, app, f"proxy.set.{key}", lambda a: proxy.set_setting(c, a, key, value))
    click.echo(f"-----> {key} of {app} " + ("set" if value is not None else "reset"))


@click.command("proxy:report")
@click.argument("app")
@format_option
def report(app: str, fmt: str) -> None:
    """Show an app's proxy settings.

    \b
    Example:
      berth proxy:report myapp --format json
    """
    c = ctx()
    data = proxy.report(c, apps.require(c, app))
    emit_json(data) if fmt == "json" else show_report(data, f"{app} proxy")


@click.command("proxy:disable")
@click.argument("app")
def disable(app: str) -> None:
    """Stop routing an app (it keeps running; its hosts answer 404).

    \b
    Example:
      berth proxy:disable myapp
    """
    c = ctx()
    _change(c, app, "proxy.disable", lambda a: proxy.set_enabled(c, a, False))
    click.echo(f"-----> {app} is no longer routed")


@click.command("proxy:enable")
@click.argument("app")
def enable(app: str) -> None:
    """Route an app again after proxy:disable.

    \b
    Example:
      berth proxy:enable myapp
    """
    c = ctx()
    _change(c, app, "proxy.enable", lambda a: proxy.set_enabled(c, a, True))
    click.echo(f"-----> {app} is routed")


@click.command("http-auth:enable")
@click.argument("app")
@click.argument("user")
@click.argument("password", required=False)
def auth_enable(app: str, user: str, password: str | None) -> None:
    """Require HTTP basic auth for an app; adds or replaces USER (password read from stdin
    when not given). Passwords are stored as bcrypt hashes only.

    \b
    Example:
      berth http-auth:enable myapp alice 's3cret'
      printf 's3cret' | berth http-auth:enable myapp alice
    """
    c = ctx()
    if password is None:
        password = sys.stdin.readline().rstrip("\n")
    _change(c, app, "http-auth.enable", lambda a: proxy.auth_enable(c, a, user, password))
    click.echo(f"-----> HTTP auth enabled for {app} (user {user})")


@click.command("http-auth:disable")
@click.argument("app")
def auth_disable(app: str) -> None:
    """Remove HTTP basic auth (and every user) from an app.

    \b
    Example:
      berth http-auth:disable myapp
    """
    c = ctx()
    _change(c, app, "http-auth.disable", lambda a: proxy.auth_disable(c, a))
    click.echo(f"-----> HTTP auth disabled for {app}")


@click.command("http-auth:report")
@click.argument("app")
@format_option
def auth_report(app: str, fmt: str) -> None:
    """Show whether an app needs HTTP basic auth, and its users.

    \b
    Example:
      berth http-auth:report myapp
    """
    c = ctx()
    data = proxy.report(c, apps.require(c, app))
    out = {"app": app, "enabled": bool(data["http_auth_users"]),
           "users": data["http_auth_users"]}
    emit_json(out) if fmt == "json" else show_report(out, f"{app} HTTP auth")


@click.command("redirect:set")
@click.argument("app")
@click.argument("source")
@click.argument("target")
@click.argument("code", required=False, default=301, type=int)
def redirect_set(app: str, source: str, target: str, code: int) -> None:
    """Redirect requests for SOURCE host to TARGET host (path and query kept).

    \b
    Example:
      berth redirect:set myapp old.example.com new.example.com 301
    """
    c = ctx()
    _change(c, app, "redirect.set", lambda a: proxy.redirect_set(c, a, source, target, code))
    click.echo(f"-----> {source} now redirects to {target} ({code})")


@click.command("redirect:unset")
@click.argument("app")
@click.argument("source")
def redirect_unset(app: str, source: str) -> None:
    """Remove a redirect.

    \b
    Example:
      berth redirect:unset myapp old.example.com
    """
    c = ctx()
    _change(c, app, "redirect.unset", lambda a: proxy.redirect_unset(c, a, source))
    click.echo(f"-----> Removed the redirect from {source}")


@click.command("redirect:report")
@click.argument("app")
@format_option
def redirect_report(app: str, fmt: str) -> None:
    """List an app's redirects.

    \b
    Example:
      berth redirect:report myapp
    """
    c = ctx()
    data = {"app": app, "redirects": proxy.report(c, apps.require(c, app))["redirects"]}
    emit_json(data) if fmt == "json" else show_report(data, f"{app} redirects")


@click.command("maintenance:on")
@click.argument("app")
def maintenance_on(app: str) -> None:
    """Answer every request with a 503 maintenance page (the app keeps running).

    \b
    Example:
      berth maintenance:on myapp
    """
    c = ctx()
    _change(c, app, "maintenance.on", lambda a: proxy.maintenance(c, a, True))
    click.echo(f"-----> {app} is in maintenance mode")


@click.command("maintenance:off")
@click.argument("app")
def maintenance_off(app: str) -> None:
    """Leave maintenance mode.

    \b
    Example:
      berth maintenance:off myapp
    """
    c = ctx()
    _change(c, app, "maintenance.off", lambda a: proxy.maintenance(c, a, False))
    click.echo(f"-----> {app} is out of maintenance mode")


@click.command("maintenance:set-page")
@click.argument("app")
def maintenance_set_page(app: str) -> None:
    """Set the maintenance page from stdin (HTML); empty input restores the default.

    \b
    Example:
      berth maintenance:set-page myapp < maintenance.html
    """
    c = ctx()
    page = sys.stdin.buffer.read(proxy.MAX_PAGE + 1).decode(errors="replace")
    _change(c, app, "maintenance.set-page", lambda a: proxy.maintenance_page(c, a, page))
    click.echo(f"-----> Maintenance page of {app} set")


@click.command("maintenance:report")
@click.argument("app")
@format_option
def maintenance_report(app: str, fmt: str) -> None:
    """Show whether an app is in maintenance mode.

    \b
    Example:
      berth maintenance:report myapp
    """
    c = ctx()
    data = proxy.maintenance_report(c, apps.require(c, app))
    emit_json(data) if fmt == "json" else show_report(data, f"{app} maintenance")
