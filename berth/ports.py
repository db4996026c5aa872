"""Port mappings ``scheme:host-port:container-port`` (``http:80:5000``, ``https:443:5000``).

With none set, an app gets ``http:<router port>:<app port>`` (the app port is PORT from
config, else the Dockerfile's EXPOSE, else 5000), plus ``https:<https port>:<app port>``
once it has TLS. A host port other than the router's own means an extra listener on it.
The container port of the main mapping is the app's port: new releases get it as PORT.
"""

from __future__ import annotations

import re
from typing import Any

from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound, ValidationError
from berth.models import App
from berth.routers.base import listen_port
from berth.store import ports as store
from berth.store.ports import PortMap

_MAP = re.compile(r"(http|https):([0-9]{1,5}):([0-9]{1,5})")
_KEY = re.compile(r"(?:(http|https):)?([0-9]{1,5})(?::([0-9]{1,5}))?")
RULE = "use scheme:host-port:container-port with scheme http or https, e.g. http:80:5000"


def _port(value: str, what: str, raw: str) -> int:
    n = int(value)
    if not 0 < n < 65536 or value != str(n):
        raise ValidationError(f"invalid port mapping {raw!r}: {what} must be 1-65535")
    return n


def parse(value: str) -> PortMap:
    m = _MAP.fullmatch(value.strip())
    if not m:
        raise ValidationError(f"invalid port mapping {value!r}: {RULE}")
    return PortMap(m.group(1), _port(m.group(2), "the host port", value),
                   _port(m.group(3), "the container port", value))


def parse_all(values: tuple[str, ...] | list[str]) -> list[PortMap]:
    if not values:
        raise ValidationError(f"give at least one port mapping: {RULE}")
    maps = list(dict.fromkeys(parse(v) for v in values))
    check(maps)
    return maps


def check(maps: list[PortMap]) -> None:
    """One mapping per host port: no two container ports or schemes for the same one."""
    seen: dict[int, PortMap] = {}
    for m in maps:
        other = seen.setdefault(m.host_port, m)
        if other != m:
            raise ValidationError(f"host port {m.host_port} is mapped twice ({other} and {m}); "
                                  "one mapping per host port")


def _check_others(ctx: Ctx, app: App, maps: list[PortMap]) -> None:
    from berth.store import settings

    http = listen_port(settings.get(ctx.conn, "listen"))
    https = listen_port(settings.get(ctx.conn, "https-listen") or ":443")
    for m in maps:
        if (m.host_port == http and m.scheme != "http") or \
                (m.host_port == https and m.scheme != "https"):
            raise ValidationError(f"host port {m.host_port} is the router's "
                                  f"{'http' if m.host_port == http else 'https'} listener; "
                                  f"{m} would need it to be {m.scheme}")
    for name, theirs in store.all_ports(ctx.conn).items():
        if name == app.name:
            continue
        for t in theirs:
            for m in maps:
                if t.host_port == m.host_port and t.scheme != m.scheme:
                    raise AlreadyExists(f"host port {m.host_port} is {t.scheme} for app "
                                        f"{name!r}; it cannot also be {m.scheme}")


def _save(ctx: Ctx, app: App, maps: list[PortMap]) -> list[PortMap]:
    check(maps)
    _check_others(ctx, app, maps)
    store.put(ctx.conn, app.id, maps)
    return maps


def add(ctx: Ctx, app: App, values: tuple[str, ...]) -> list[PortMap]:
    have = store.of_app(ctx.conn, app.id)
    new = [m for m in parse_all(values) if m not in have]
    for m in new:
        clash = next((h for h in have if h.host_port == m.host_port), None)
        if clash is not None:
            raise AlreadyExists(f"host port {m.host_port} is already mapped ({clash}); "
                                "remove it first or use ports:set")
    return _save(ctx, app, have + new)


def set_(ctx: Ctx, app: App, values: tuple[str, ...]) -> list[PortMap]:
    return _save(ctx, app, parse_all(values))


def remove(ctx: Ctx, app: App, values: tuple[str, ...]) -> list[PortMap]:
    """Remove mappings given as ``scheme:host:container``, ``scheme:host`` or ``host``."""
    have = store.of_app(ctx.conn, app.id)
    left = list(have)
    for value in values:
        m = _KEY.fullmatch(value.strip())
        if not m:
            raise ValidationError(f"invalid port mapping {value!r}: {RULE} (or just the "
                                  "host port)")
        host = _port(m.group(2), "the host port", value)
        hit = [x for x in left if x.host_port == host
               and (m.group(1) is None or x.scheme == m.group(1))
               and (m.group(3) is None or x.container_port == int(m.group(3)))]
        if not hit:
            raise NotFound(f"app {app.name!r} has no port mapping {value!r}")
        left = [x for x in left if x not in hit]
    store.put(ctx.conn, app.id, left)
    return left


def clear(ctx: Ctx, app: App) -> None:
    store.put(ctx.conn, app.id, [])


def app_port(ctx: Ctx, app: App) -> int:
    """The port the app's web process listens on (PORT, EXPOSE or 5000)."""
    from berth.schedulers import specs
    from berth.store import releases

    cur = releases.current(ctx.conn, app)
    return specs.port_of(cur) if cur is not None else specs.DEFAULT_PORT


def primary_container_port(ctx: Ctx, app_id: int) -> int | None:
    """The container port of the main mapping (http on the router's port, else the first
    http one, else the first), or None when the app has no mappings."""
    from berth.store import settings

    maps = store.of_app(ctx.conn, app_id)
    if not maps:
        return None
    http = listen_port(settings.get(ctx.conn, "listen"))
    for pick in ([m for m in maps if m.scheme == "http" and m.host_port == http],
                 [m for m in maps if m.scheme == "http"], maps):
        if pick:
            return pick[0].container_port
    return None


def effective(ctx: Ctx, app: App) -> list[dict[str, Any]]:
    """What the router serves for the app: its mappings, or the defaults."""
    from berth import routing
    from berth.routers import base

    port = app_port(ctx, app)
    explicit = store.of_app(ctx.conn, app.id)
    route = base.Route(app=app.name, hosts=(), upstreams=(f"0.0.0.0:{port}",),
                       ports=tuple(base.PortMap(*m) for m in explicit),
                       tls=routing.tls_mode(ctx, app.id))
    out = []
    for m in base.effective_ports(route, routing.listeners(ctx)):
        key = PortMap(m.scheme, m.host_port, m.container_port or port)
        out.append({"scheme": m.scheme, "host_port": m.host_port,
                    "container_port": m.container_port or port,
                    "source": "set" if key in explicit else "default"})
    for e in explicit:
        if e.scheme == "https" and not route.tls:
            out.append({"scheme": e.scheme, "host_port": e.host_port,
                        "container_port": e.container_port, "source": "set (no certificate)"})
    return out
