"""Routers: the reverse proxies that send each app's hosts to its web processes.

``base`` holds the contract (:class:`Route`, :class:`Router`); ``caddy`` is the default
router, driven only through Caddy's admin API. Backends are imported lazily by name.
"""

from __future__ import annotations

from berth.routers.base import Listeners, PortMap, Redirect, Route, Router

__all__ = ["Listeners", "PortMap", "Redirect", "Route", "Router"]
