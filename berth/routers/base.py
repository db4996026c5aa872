"""What every router takes and offers.

A router turns the desired routing table (one :class:`Route` per app) into a live proxy
configuration. ``apply`` always receives the *whole* table, never a diff, so a router can load
it atomically and a crash half-way is healed by applying again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class PortMap:
    """``scheme:host_port:container_port``: a listener port of the router and the port of the
    app's containers it sends to."""

    scheme: str  # http | https
    host_port: int
    container_port: int


@dataclass(frozen=True)
class Redirect:
    """Requests for ``from_host`` are answered ``code`` with Location on ``to_host``."""

    from_host: str
    to_host: str
    code: int = 301


@dataclass(frozen=True)
class Route:
    """The hosts of one app, where to send their requests, and how.

    ``upstreams`` are ``"ip:port"`` dials of the app's running web processes. An empty tuple
    means the app is down: its hosts answer 503 "no running web process" (never another app).
    ``ports`` empty means one plain-HTTP mapping on the router's main listener to the
    upstreams' own port. Every other field is optional and off by default:

    tls             "" (none), "files" (``tls_cert``/``tls_key`` paths) or "auto" (ACME)
    hsts            Strict-Transport-Security max-age on HTTPS answers, 0 = not sent
    redirects       other hosts of this app answered with a redirect
    auth            (user, bcrypt hash) pairs: HTTP basic auth in front of the app
    max_body        largest request body in bytes (413 above it), None = no limit
    read_timeout    seconds to wait for the next read from the app, None = router default
    connect_timeout seconds to connect to the app, None = router default
    compression     gzip/zstd responses for clients that accept them
    maintenance     answer 503 with ``maintenance_page`` (HTML) instead of proxying
    snippet         raw directives for the app's nginx server block (nginx only)
    """

    app: str
    hosts: tuple[str, ...]
    upstreams: tuple[str, ...]
    ports: tuple[PortMap, ...] = ()
    tls: str = ""
    tls_cert: str | None = None
    tls_key: str | None = None
    hsts: int = 0
    redirects: tuple[Redirect, ...] = ()
    auth: tuple[tuple[str, str], ...] = ()
    max_body: int | None = None
    read_timeout: int | None = None
    connect_timeout: int | None = None
    compression: bool = False
    maintenance: bool = False
    maintenance_page: str = ""
    snippet: str = ""


@dataclass(frozen=True)
class Listeners:
    """Router-wide settings: where to listen, and the ACME account for ``tls == "auto"``.

    ``acme_ca`` is an ACME directory URL, "" for the router's default (Let's Encrypt), or
    "internal" for Caddy's own local CA (offline; clients must trust its root)."""

    http: str = ":80"
    https: str = ":443"
    acme_ca: str = ""
    acme_email: str = ""


def listen_port(address: str) -> int:
    """The port of ``[HOST]:PORT`` (0 if it is not a number: the router will refuse it)."""
    tail = address.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def listen_host(address: str) -> str:
    """The host part of ``[HOST]:PORT`` ("" for all addresses)."""
    return address.rsplit(":", 1)[0]


def with_port(address: str, port: int) -> str:
    return f"{listen_host(address)}:{port}"


def port_suffix(scheme: str, port: int) -> str:
    """":PORT" unless the port is the scheme's default."""
    return "" if (scheme, port) in (("http", 80), ("https", 443)) else f":{port}"


def effective_ports(route: Route, listeners: Listeners) -> list[PortMap]:
    """The mappings a router serves for ``route``: the given ones, or plain HTTP on the main
    listener to the app's own port; HTTPS mappings only when the app has TLS."""
    maps = list(route.ports)
    if not maps:  # container port 0: the upstreams' own ports
        maps = [PortMap("http", listen_port(listeners.http), 0)]
        if route.tls:
            maps.append(PortMap("https", listen_port(listeners.https), 0))
    if not route.tls:
        maps = [m for m in maps if m.scheme == "http"]
    return sorted(set(maps), key=lambda m: (m.scheme, m.host_port, m.container_port))


def dials(route: Route, container_port: int) -> list[str]:
    """The upstreams of ``route`` on ``container_port`` (same addresses, that port; 0 keeps
    each upstream's own port)."""
    if not container_port:
        return sorted(set(route.upstreams))
    return sorted({f"{up.rsplit(':', 1)[0]}:{container_port}" for up in route.upstreams})


@runtime_checkable
class Router(Protocol):
    """A reverse proxy berth can drive (``caddy``, ``nginx``, or a plugin's, registered
    through the `routers` hook). berth/routing.py keeps the selected one running and every
    other registered one stopped."""

    def apply(self, routes: Sequence[Route], *, force: bool = False) -> None:
        """Make ``routes`` (the full table) live, atomically; raise RouterError if refused.
        ``force``: load it even if it equals the last one loaded (the proxy just started)."""
        ...

    def status(self) -> dict[str, Any]:
        """Report whether the proxy is up and what it routes, read back from the proxy."""
        ...

    def ensure_running(self) -> bool:
        """Start the proxy unless it runs; True if it had to (a full apply follows)."""
        ...

    def stop(self) -> bool:
        """Stop the proxy if it runs (another router was selected); True if it ran."""
        ...
