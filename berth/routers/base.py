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
class Route:
    """The hosts of one app and where to send their requests.

    ``upstreams`` are ``"ip:port"`` dials of the app's running web processes. An empty tuple
    means the app is down: its hosts answer 503 "no running web process" (never another app).
    """

    app: str
    hosts: tuple[str, ...]
    upstreams: tuple[str, ...]


@runtime_checkable
class Router(Protocol):
    """A reverse proxy berth can drive (``caddy``, ``nginx``)."""

    def apply(self, routes: Sequence[Route]) -> None:
        """Make ``routes`` (the full table) live, atomically; raise RouterError if refused."""
        ...

    def status(self) -> dict[str, Any]:
        """Report whether the proxy is up and what it routes, read back from the proxy."""
        ...
