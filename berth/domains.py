"""Domains: an app's custom domains, its default vhost APP.<global domain>, and the global
domains themselves.

Global domains work as a list: the first is the settings key ``domain`` (what URLs show), the
others are extra; every app with its default vhost enabled answers on APP.D for each D.
A host belongs to one app at most: a custom domain, a redirect source or another app's
default vhost already in use is refused.
"""

from __future__ import annotations

from typing import Any

from berth import names, routing
from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound, ValidationError
from berth.models import App
from berth.store import apps as store_apps
from berth.store import domains as store
from berth.store import redirects, settings


def parse(values: tuple[str, ...] | list[str], *, wildcard: bool = True) -> list[str]:
    if not values:
        raise ValidationError("give at least one domain")
    return list(dict.fromkeys(names.domain(v, wildcard=wildcard) for v in values))


def owner(ctx: Ctx, host: str) -> str | None:
    """The app that answers (or redirects) ``host``, if any."""
    found = store.owner(ctx.conn, host) or redirects.owner(ctx.conn, host)
    if found:
        return found
    for app in store_apps.all_apps(ctx.conn):
        if host in routing.hosts_for(ctx, app.name):
            return app.name
    return None


def check_free(ctx: Ctx, app: App, hosts: list[str]) -> None:
    for host in hosts:
        other = owner(ctx, host)
        if other is not None and other != app.name:
            raise AlreadyExists(f"domain {host!r} is already used by app {other!r}")


def add(ctx: Ctx, app: App, values: tuple[str, ...]) -> list[str]:
    """Add custom domains; ones the app already has are a no-op. Returns those added."""
    hosts = parse(values)
    have = set(store.of_app(ctx.conn, app.id))
    new = [h for h in hosts if h not in have]
    check_free(ctx, app, new)
    for host in new:
        store.add(ctx.conn, app.id, host)
    return new


def remove(ctx: Ctx, app: App, values: tuple[str, ...]) -> None:
    hosts = parse(values)
    have = set(store.of_app(ctx.conn, app.id))
    missing = [h for h in hosts if h not in have]
    if missing:
        raise NotFound(f"app {app.name!r} has no domain {missing[0]!r}")
    for host in hosts:
        store.remove(ctx.conn, app.id, host)


def set_(ctx: Ctx, app: App, values: tuple[str, ...]) -> None:
    hosts = parse(values)
    check_free(ctx, app, hosts)
    store.clear(ctx.conn, app.id)
    for host in hosts:
        store.add(ctx.conn, app.id, host)


def clear(ctx: Ctx, app: App) -> None:
    store.clear(ctx.conn, app.id)


def set_vhost(ctx: Ctx, app: App, enabled: bool) -> None:
    if enabled:
        hosts = [f"{app.name}.{d}" for d in routing.global_domains(ctx)]
        taken = store.all_domains(ctx.conn)
        clash = [h for h in hosts if taken.get(h, app.name) != app.name]
        if clash:
            raise AlreadyExists(f"domain {clash[0]!r} is already used by app "
                                f"{taken[clash[0]]!r}")
    store_apps.set_setting(ctx.conn, app, "domains.vhost", None if enabled else "off")


def set_globals(ctx: Ctx, values: tuple[str, ...]) -> list[str]:
    hosts = parse(values, wildcard=False)
    settings.put(ctx.conn, "domain", hosts[0])
    store.set_extra_globals(ctx.conn, hosts[1:])
    return hosts


def add_globals(ctx: Ctx, values: tuple[str, ...]) -> list[str]:
    current = routing.global_domains(ctx)
    hosts = current + [h for h in parse(values, wildcard=False) if h not in current]
    return set_globals(ctx, tuple(hosts))


def remove_globals(ctx: Ctx, values: tuple[str, ...]) -> list[str]:
    current = routing.global_domains(ctx)
    gone = parse(values, wildcard=False)
    missing = [h for h in gone if h not in current]
    if missing:
        raise NotFound(f"{missing[0]!r} is not a global domain")
    left = [h for h in current if h not in gone]
    if not left:
        raise ValidationError("at least one global domain must remain; use domains:disable "
                              "APP to turn off an app's default vhost")
    return set_globals(ctx, tuple(left))


def report(ctx: Ctx, app: App) -> dict[str, Any]:
    vhost = routing.vhost_enabled(ctx, app.id)
    return {
        "app": app.name,
        "vhost_enabled": vhost,
        "default_vhosts": [f"{app.name}.{d}" for d in routing.global_domains(ctx)]
        if vhost else [],
        "custom_domains": store.of_app(ctx.conn, app.id),
        "hosts": list(routing.hosts_for(ctx, app.name)),
        "global_domains": routing.global_domains(ctx),
        "url": routing.url_for(ctx, app.name),
    }
