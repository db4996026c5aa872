"""Per-app proxy settings: body size, timeouts, compression, HSTS, basic auth, redirects,
maintenance mode, and whether the app is routed at all. Stored as app settings
(``proxy.*``, ``maintenance*``) and tables (redirects, http_auth_users); every change is
applied to the router through routing.change, so a refused config changes nothing."""

from __future__ import annotations

import re
from typing import Any

from berth import names
from berth.context import Ctx
from berth.errors import NotFound, ValidationError
from berth.models import App
from berth.store import apps as store_apps
from berth.store import http_auth, redirects
from berth.store.redirects import Redirect

MAX_PAGE = 256 * 1024
_SIZE = re.compile(r"([0-9]{1,12})([kmg]?)b?")
_TIME = re.compile(r"([0-9]{1,6})(s|m|h)?")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_SECONDS = {None: 1, "s": 1, "m": 60, "h": 3600}
_USER = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def _size(value: str) -> str:
    m = _SIZE.fullmatch(value.strip().lower())
    if not m or int(m.group(1)) * _UNITS[m.group(2)] > 64 * 1024**3:
        raise ValidationError(f"invalid client-max-body-size {value!r}: a size like 1048576, "
                              "512k, 10m or 1g (at most 64g; 0 = no limit)")
    return str(int(m.group(1)) * _UNITS[m.group(2)])


def _timeout(key: str) -> Any:
    def check(value: str) -> str:
        m = _TIME.fullmatch(value.strip().lower())
        seconds = int(m.group(1)) * _SECONDS[m.group(2)] if m else 0
        if not m or not 0 < seconds <= 86400:
            raise ValidationError(f"invalid {key} {value!r}: seconds like 30, 30s, 5m or 1h "
                                  "(1s to 24h)")
        return str(seconds)
    return check


def _on_off(key: str) -> Any:
    def check(value: str) -> str:
        v = value.strip().lower()
        if v not in ("on", "off", "true", "false", "1", "0"):
            raise ValidationError(f"invalid {key} {value!r}: on or off")
        return "on" if v in ("on", "true", "1") else "off"
    return check


def _hsts(value: str) -> str:
    v = value.strip().lower()
    if v in ("on", "true"):
        return "31536000"
    if v in ("off", "false", "0"):
        return "off"
    if v.isdigit() and 0 < int(v) <= 2 * 31536000:
        return str(int(v))
    raise ValidationError(f"invalid hsts {value!r}: on, off, or a max-age in seconds")


SETTINGS = {
    "client-max-body-size": _size,
    "read-timeout": _timeout("read-timeout"),
    "connect-timeout": _timeout("connect-timeout"),
    "compression": _on_off("compression"),
    "hsts": _hsts,
}


def set_setting(ctx: Ctx, app: App, key: str, value: str | None) -> str | None:
    """Set (or with None reset) one proxy setting; returns the stored value."""
    if key not in SETTINGS:
        raise ValidationError(f"unknown proxy setting {key!r}: use one of "
                              + ", ".join(SETTINGS))
    stored = SETTINGS[key](value) if value is not None else None
    if key == "client-max-body-size" and stored == "0":
        stored = None
    store_apps.set_setting(ctx.conn, app, f"proxy.{key}", stored)
    return stored


def set_enabled(ctx: Ctx, app: App, enabled: bool) -> None:
    store_apps.set_setting(ctx.conn, app, "proxy.enabled", None if enabled else "off")


def report(ctx: Ctx, app: App) -> dict[str, Any]:
    from berth import routing

    conf = store_apps.settings(ctx.conn, app)
    return {
        "app": app.name,
        "router": routing.router_name(ctx),
        "enabled": conf.get("proxy.enabled") != "off",
        **{key: conf.get(f"proxy.{key}") for key in SETTINGS},
        "http_auth_users": [u for u, _ in http_auth.users(ctx.conn, app.id)],
        "redirects": [f"{r.from_host} -> {r.to_host} ({r.code})"
                      for r in redirects.of_app(ctx.conn, app.id)],
        "maintenance": conf.get("maintenance") == "on",
    }


# -- basic auth --------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """bcrypt, which both Caddy and nginx (through the system's crypt) check."""
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def auth_enable(ctx: Ctx, app: App, user: str, password: str) -> None:
    if not _USER.fullmatch(user):
        raise ValidationError(f"invalid user {user!r}: 1-64 of A-Z, a-z, 0-9, '.', '_', '@', "
                              "'-' (no ':')")
    if not password or len(password.encode()) > 72 or any(c in password for c in "\r\n\0"):
        raise ValidationError("invalid password: 1 to 72 bytes, no line breaks or NUL")
    http_auth.put(ctx.conn, app.id, user, hash_password(password))


def auth_disable(ctx: Ctx, app: App) -> None:
    http_auth.clear(ctx.conn, app.id)


# -- redirects ---------------------------------------------------------------------------------


def redirect_set(ctx: Ctx, app: App, source: str, target: str, code: int) -> Redirect:
    from berth import domains

    src = names.domain(source, wildcard=False)
    dst = names.domain(target, wildcard=False)
    if code not in (301, 302, 307, 308):
        raise ValidationError(f"invalid redirect code {code}: use 301, 302, 307 or 308")
    if src == dst:
        raise ValidationError(f"a redirect from {src!r} to itself would loop")
    if src in _app_hosts(ctx, app):
        raise ValidationError(f"{src!r} is a domain of {app.name}; remove it with "
                              "domains:remove before redirecting it")
    domains.check_free(ctx, app, [src])
    redirect = Redirect(src, dst, code)
    redirects.put(ctx.conn, app.id, redirect)
    return redirect


def _app_hosts(ctx: Ctx, app: App) -> tuple[str, ...]:
    from berth import routing

    return routing.hosts_for(ctx, app.name)


def redirect_unset(ctx: Ctx, app: App, source: str) -> None:
    src = names.domain(source, wildcard=False)
    if not redirects.remove(ctx.conn, app.id, src):
        raise NotFound(f"app {app.name!r} has no redirect from {src!r}")


# -- maintenance -------------------------------------------------------------------------------


def maintenance(ctx: Ctx, app: App, on: bool) -> None:
    store_apps.set_setting(ctx.conn, app, "maintenance", "on" if on else None)


def maintenance_page(ctx: Ctx, app: App, page: str) -> None:
    if len(page.encode()) > MAX_PAGE:
        raise ValidationError(f"the maintenance page is larger than {MAX_PAGE // 1024} KiB")
    if "\0" in page:
        raise ValidationError("the maintenance page contains NUL bytes")
    store_apps.set_setting(ctx.conn, app, "maintenance.page", page if page.strip() else None)


def maintenance_report(ctx: Ctx, app: App) -> dict[str, Any]:
    conf = store_apps.settings(ctx.conn, app)
    return {"app": app.name, "maintenance": conf.get("maintenance") == "on",
            "custom_page": "maintenance.page" in conf}
