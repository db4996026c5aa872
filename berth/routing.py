"""Routes for every app, computed from the store (hosts, ports, TLS, proxy settings) and the
apps' schedulers (upstreams), applied to the selected router (settings key ``router``: caddy,
nginx or a plugin's, any name registered through the `routers` hook) as one full table under
one lock so two deploys never undo each other.

    compute(ctx)            the whole table: one Route per routed app (pure reads)
    apply(ctx)              start the router if needed, then load the table
    change(ctx, fn)         run ``fn`` (a store change) and apply, in one transaction: a table
                            the router refuses rolls the change back
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from berth import locks
from berth.context import Ctx
from berth.errors import RouterError
from berth.models import App
from berth.routers.base import Listeners, PortMap, Redirect, Route, listen_port, port_suffix
from berth.store import apps as store_apps
from berth.store import settings
from berth.store.db import transaction

DEFAULT_ROUTER = "caddy"
T = TypeVar("T")


def global_domains(ctx: Ctx) -> list[str]:
    """The domains every app gets a default vhost APP.DOMAIN under; the first is primary."""
    from berth.store import domains

    first = settings.get(ctx.conn, "domain")
    out = [first] if first else []
    return out + [d for d in domains.extra_globals(ctx.conn) if d not in out]


def vhost_enabled(ctx: Ctx, app_id: int) -> bool:
    r = ctx.conn.execute("SELECT value FROM app_settings WHERE app_id = ? AND key = ?",
                         (app_id, "domains.vhost")).fetchone()
    return not (r and r[0] == "off")


def hosts_for(ctx: Ctx, app: str) -> tuple[str, ...]:
    """Default vhosts (unless disabled or taken as another app's custom domain), then the
    app's custom domains."""
    from berth.store import domains

    found = store_apps.find(ctx.conn, app)
    custom = domains.of_app(ctx.conn, found.id) if found else []
    taken = domains.all_domains(ctx.conn)
    out: list[str] = []
    if found is None or vhost_enabled(ctx, found.id):
        out = [f"{app}.{d}" for d in global_domains(ctx) if taken.get(f"{app}.{d}", app) == app]
    return tuple(dict.fromkeys([*out, *custom]))


def listeners(ctx: Ctx) -> Listeners:
    return Listeners(http=settings.get(ctx.conn, "listen"),
                     https=settings.get(ctx.conn, "https-listen") or ":443",
                     acme_ca=settings.get(ctx.conn, "acme-ca"),
                     acme_email=settings.get(ctx.conn, "acme-email"))


def url_for(ctx: Ctx, app: str) -> str:
    """The app's first URL: https when it has TLS, else http; "" when it has no host."""
    hosts = [h for h in hosts_for(ctx, app) if "*" not in h]
    if not hosts:
        return ""
    lst = listeners(ctx)
    found = store_apps.find(ctx.conn, app)
    if found is not None and tls_mode(ctx, found.id):
        return f"https://{hosts[0]}{port_suffix('https', listen_port(lst.https))}"
    return f"http://{hosts[0]}{port_suffix('http', listen_port(lst.http))}"


def tls_mode(ctx: Ctx, app_id: int) -> str:
    """"files" (a stored certificate), "auto" (ACME), or ""."""
    from berth.store import certs

    if certs.get(ctx.conn, app_id) is not None:
        return "files"
    r = ctx.conn.execute("SELECT value FROM app_settings WHERE app_id = ? AND key = ?",
                         (app_id, "tls.auto")).fetchone()
    return "auto" if r and r[0] == "on" else ""


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def compute(ctx: Ctx) -> list[Route]:
    """One Route per app that has a current release and is not proxy:disable'd."""
    from berth import certs as app_certs
    from berth import ports as app_ports
    from berth.store import http_auth, ports, redirects

    apps = [a for a in store_apps.all_apps(ctx.conn) if a.current_release is not None]
    ups = web_upstreams(ctx, apps)
    routes = []
    for app in apps:
        conf = store_apps.settings(ctx.conn, app)
        if conf.get("proxy.enabled") == "off":
            continue
        upstreams = tuple(ups.get(app.name, []))
        tls = tls_mode(ctx, app.id)
        cert = key = None
        if tls == "files":
            cert, key = (str(p) for p in app_certs.materialize(ctx, app))
        # The main mapping dials the port the running containers were started with (their
        # label), so a port change is routed only once the new release runs.
        primary = app_ports.primary_container_port(ctx, app.id)
        maps = tuple(PortMap(m.scheme, m.host_port, 0 if m.container_port == primary
                             else m.container_port) for m in ports.of_app(ctx.conn, app.id))
        hsts = conf.get("proxy.hsts", "off")
        routes.append(Route(
            app=app.name, hosts=hosts_for(ctx, app.name), upstreams=upstreams, ports=maps,
            tls=tls, tls_cert=cert, tls_key=key,
            hsts=int(hsts) if hsts.isdigit() else 0,
            redirects=tuple(Redirect(*r) for r in redirects.of_app(ctx.conn, app.id)),
            auth=tuple(http_auth.users(ctx.conn, app.id)),
            max_body=_int(conf.get("proxy.client-max-body-size")),
            read_timeout=_int(conf.get("proxy.read-timeout")),
            connect_timeout=_int(conf.get("proxy.connect-timeout")),
            compression=conf.get("proxy.compression") == "on",
            maintenance=conf.get("maintenance") == "on",
            maintenance_page=conf.get("maintenance.page", ""),
            snippet=conf.get("nginx.snippet", ""),
        ))
    app_certs.prune(ctx, {r.app for r in routes if r.tls == "files"})
    from berth.hooks import manager as hooks

    routes = [hooks.amend_route(ctx, r) for r in routes]  # plugins' router_config
    return sorted(routes, key=lambda r: r.app)


def web_upstreams(ctx: Ctx, apps: list[App]) -> dict[str, list[str]]:
    """``ip:port`` of each app's routable web containers, asked of the scheduler each app
    uses (one call per scheduler)."""
    from berth import schedulers

    by_scheduler: dict[str, dict[str, int]] = {}
    for app in apps:
        name = schedulers.name_for(ctx, app)
        by_scheduler.setdefault(name, {})[app.name] = app.current_release or 0
    out: dict[str, list[str]] = {}
    for name, current in sorted(by_scheduler.items()):
        out.update(schedulers.build(ctx, name).web_upstreams(current))
    return out


def registered_routers(root: Path | None = None) -> dict[str, Callable[[Ctx], Any]]:
    """{name: factory(ctx)} of every router the loaded plugins register (`routers` hook;
    berth/routers/plugin.py for caddy and nginx)."""
    from berth.hooks import manager

    return manager.registry("routers", root)


def check_router(name: str, root: Path | None = None) -> str:
    """``name`` if a router is registered under it, else a ValidationError naming them."""
    from berth.hooks import manager

    return manager.registered_name("routers", name, root)


def router_name(ctx: Ctx) -> str:
    """The `router` setting; caddy when its plugin is gone (disabled, uninstalled)."""
    name = settings.get(ctx.conn, "router") or DEFAULT_ROUTER
    return name if name in registered_routers(ctx.paths.root) else DEFAULT_ROUTER


def router(ctx: Ctx, name: str | None = None) -> Any:
    """The selected router (or ``name``), set up from the settings by its factory."""
    name = name or router_name(ctx)
    factories = registered_routers(ctx.paths.root)
    if name not in factories:
        raise RouterError(f"no router named {name!r} is registered")
    return factories[name](ctx)


def ensure_running(ctx: Ctx) -> bool:
    """Stop every other registered router (one still runs after `router:set`; stopping one
    that does not run costs nothing), then start the selected one if it is not running
    (True if it had to)."""
    selected = router_name(ctx)
    factories = registered_routers(ctx.paths.root)
    for name, factory in sorted(factories.items()):
        if name == selected:
            continue
        try:
            factory(ctx).stop()
        except Exception as e:  # the selected router must start even so
            sys.stderr.write(f" !     could not stop the {name} router: {e}\n")
    return bool(factories[selected](ctx).ensure_running())


def switch_delay(ctx: Ctx) -> float:
    """Seconds after an apply during which the router may still send requests to the
    containers it replaced (Caddy caches resolver answers; 0 for a router that reloads)."""
    return float(getattr(router(ctx), "switch_delay", 0.0))


def lock_path(ctx: Ctx) -> Path:
    return ctx.paths.locks / "router.lock"


@contextmanager
def locked(ctx: Ctx) -> Iterator[None]:
    with locks.hold(lock_path(ctx), what="the router", timeout=60):
        yield


def apply(ctx: Ctx, *, force: bool = False) -> list[Route]:
    """Recompute and apply every route; starts the router if it is not running."""
    with locked(ctx):
        return apply_unlocked(ctx, force=force)


def apply_unlocked(ctx: Ctx, *, force: bool = False) -> list[Route]:
    """:func:`apply` for a caller that holds :func:`locked` already."""
    started = ensure_running(ctx)
    routes = compute(ctx)
    router(ctx).apply(routes, force=force or started)
    return routes


def change(ctx: Ctx, fn: Callable[[], T]) -> T:
    """Run ``fn`` (store writes) and apply the new table in one transaction, under the router
    lock (taken first, as deploys do). If the router refuses, nothing was changed."""
    with locked(ctx), transaction(ctx.conn):
        result = fn()
        apply_unlocked(ctx)
        return result
