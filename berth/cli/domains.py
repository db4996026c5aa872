"""domains:* commands: an app's hosts, its default vhost, and the global domains."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from berth import apps, domains, routing
from berth.cli.common import ctx, emit_json, format_option
from berth.cli.common import report as show_report
from berth.context import Ctx
from berth.store import events

T = TypeVar("T")


def _record(c: Ctx, app: str | None, action: str) -> None:
    events.record(c.conn, actor=c.actor, app=app, action=action)


def _change(c: Ctx, app: str | None, action: str, fn: Callable[[], T]) -> T:
    def run() -> T:
        result = fn()
        _record(c, app, action)
        return result

    result = routing.change(c, run)
    if app is not None:
        _updated(c, app)
    return result


def _updated(c: Ctx, app: str) -> None:
    """Tell plugins (post_domains_update) every host the app now answers on."""
    from berth.hooks import manager as hooks

    hooks.fire(c, "post_domains_update", app=app, domains=list(routing.hosts_for(c, app)))


@click.command("domains:add")
@click.argument("app")
@click.argument("domain", nargs=-1, required=True)
def add(app: str, domain: tuple[str, ...]) -> None:
    """Add custom domains to an app (IDN and *.wildcards allowed; existing ones are kept).

    \b
    Example:
      berth domains:add myapp www.example.com '*.example.org'
    """
    c = ctx()
    a = apps.require(c, app)

    def change() -> list[str]:
        added = domains.add(c, a, domain)
        _record(c, app, "domains.add")
        return added

    added = routing.change(c, change)
    _updated(c, app)
    click.echo(f"-----> Added {' '.join(added)} to {app}" if added
               else f"-----> {app} already has {' '.join(domain)}")


@click.command("domains:remove")
@click.argument("app")
@click.argument("domain", nargs=-1, required=True)
def remove(app: str, domain: tuple[str, ...]) -> None:
    """Remove custom domains from an app.

    \b
    Example:
      berth domains:remove myapp www.example.com
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, app, "domains.remove", lambda: domains.remove(c, a, domain))
    click.echo(f"-----> Removed {' '.join(domain)} from {app}")


@click.command("domains:set")
@click.argument("app")
@click.argument("domain", nargs=-1, required=True)
def set_(app: str, domain: tuple[str, ...]) -> None:
    """Replace an app's custom domains.

    \b
    Example:
      berth domains:set myapp example.com www.example.com
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, app, "domains.set", lambda: domains.set_(c, a, domain))
    click.echo(f"-----> Domains of {app} set")


@click.command("domains:clear")
@click.argument("app")
def clear(app: str) -> None:
    """Remove every custom domain of an app (its default vhost stays).

    \b
    Example:
      berth domains:clear myapp
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, app, "domains.clear", lambda: domains.clear(c, a))
    click.echo(f"-----> Cleared the domains of {app}")


@click.command("domains:enable")
@click.argument("app")
def enable(app: str) -> None:
    """Serve the app on its default vhost APP.<global domain> (the default).

    \b
    Example:
      berth domains:enable myapp
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, app, "domains.enable", lambda: domains.set_vhost(c, a, True))
    click.echo(f"-----> Default vhost of {app} enabled")


@click.command("domains:disable")
@click.argument("app")
def disable(app: str) -> None:
    """Stop serving the app on its default vhost; only its custom domains remain.

    \b
    Example:
      berth domains:disable myapp
    """
    c = ctx()
    a = apps.require(c, app)
    _change(c, app, "domains.disable", lambda: domains.set_vhost(c, a, False))
    click.echo(f"-----> Default vhost of {app} disabled")


@click.command("domains:add-global")
@click.argument("domain", nargs=-1, required=True)
def add_global(domain: tuple[str, ...]) -> None:
    """Add global domains: every app also answers on APP.DOMAIN for each.

    \b
    Example:
      berth domains:add-global apps.example.com
    """
    c = ctx()
    now = _change(c, None, "domains.add-global", lambda: domains.add_globals(c, domain))
    click.echo(f"-----> Global domains: {' '.join(now)}")


@click.command("domains:set-global")
@click.argument("domain", nargs=-1, required=True)
def set_global(domain: tuple[str, ...]) -> None:
    """Replace the global domains; the first is the one URLs show (settings key `domain`).

    \b
    Example:
      berth domains:set-global example.com apps.example.net
    """
    c = ctx()
    now = _change(c, None, "domains.set-global", lambda: domains.set_globals(c, domain))
    click.echo(f"-----> Global domains: {' '.join(now)}")


@click.command("domains:remove-global")
@click.argument("domain", nargs=-1, required=True)
def remove_global(domain: tuple[str, ...]) -> None:
    """Remove global domains (one must remain).

    \b
    Example:
      berth domains:remove-global apps.example.net
    """
    c = ctx()
    now = _change(c, None, "domains.remove-global", lambda: domains.remove_globals(c, domain))
    click.echo(f"-----> Global domains: {' '.join(now)}")


@click.command("domains:report")
@click.argument("app", required=False)
@click.option("--global", "is_global", is_flag=True, help="Show the global domains only.")
@format_option
def report(app: str | None, is_global: bool, fmt: str) -> None:
    """Show an app's hosts: default vhosts, custom domains, URL (or the global domains).

    \b
    Example:
      berth domains:report myapp --format json
      berth domains:report --global
    """
    c = ctx()
    if is_global or not app:
        data = {"global_domains": routing.global_domains(c)}
        title = "Global domains"
    else:
        data = domains.report(c, apps.require(c, app))
        title = f"{app} domains"
    emit_json(data) if fmt == "json" else show_report(data, title)
