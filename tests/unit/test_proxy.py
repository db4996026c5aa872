"""Proxy settings, basic auth, redirects and maintenance: every validation rule."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest

from berth import proxy
from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound, ValidationError
from berth.paths import Paths
from berth.store import apps as store_apps
from berth.store import http_auth


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    c = Ctx(paths=Paths(tmp_path / "root"))
    store_apps.create(c.conn, "web")
    store_apps.create(c.conn, "api")
    return c


def web(c: Ctx):  # type: ignore[no-untyped-def]
    return store_apps.get(c.conn, "web")


@pytest.mark.parametrize("key,value,stored", [
    ("client-max-body-size", "1048576", "1048576"),
    ("client-max-body-size", "512k", str(512 * 1024)),
    ("client-max-body-size", "10M", str(10 * 1024**2)),
    ("client-max-body-size", "1g", str(1024**3)),
    ("client-max-body-size", "10mb", str(10 * 1024**2)),
    ("client-max-body-size", "0", None),
    ("read-timeout", "30", "30"),
    ("read-timeout", "30s", "30"),
    ("read-timeout", "5m", "300"),
    ("connect-timeout", "1h", "3600"),
    ("compression", "on", "on"),
    ("compression", "OFF", "off"),
    ("compression", "true", "on"),
    ("hsts", "on", "31536000"),
    ("hsts", "off", "off"),
    ("hsts", "600", "600"),
])
def test_settings_are_normalised(ctx: Ctx, key: str, value: str, stored: str | None) -> None:
    assert proxy.set_setting(ctx, web(ctx), key, value) == stored
    assert store_apps.get_setting(ctx.conn, web(ctx), f"proxy.{key}") == stored


@pytest.mark.parametrize("key,value,rule", [
    ("client-max-body-size", "10x", "a size like"),
    ("client-max-body-size", "-1", "a size like"),
    ("client-max-body-size", "100g", "at most 64g"),
    ("client-max-body-size", "", "a size like"),
    ("read-timeout", "0", "1s to 24h"),
    ("read-timeout", "25h", "1s to 24h"),
    ("read-timeout", "10ms", "seconds like"),
    ("connect-timeout", "soon", "seconds like"),
    ("compression", "maybe", "on or off"),
    ("hsts", "forever", "max-age in seconds"),
    ("hsts", "-5", "max-age in seconds"),
    ("nonsense", "1", "unknown proxy setting"),
])
def test_bad_settings_are_refused(ctx: Ctx, key: str, value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        proxy.set_setting(ctx, web(ctx), key, value)
    assert store_apps.settings(ctx.conn, web(ctx)) == {}


def test_a_setting_resets_without_a_value(ctx: Ctx) -> None:
    proxy.set_setting(ctx, web(ctx), "read-timeout", "60")
    proxy.set_setting(ctx, web(ctx), "read-timeout", None)
    assert store_apps.settings(ctx.conn, web(ctx)) == {}


def test_passwords_are_stored_as_bcrypt_only(ctx: Ctx) -> None:
    proxy.auth_enable(ctx, web(ctx), "alice", "correct horse")
    proxy.auth_enable(ctx, web(ctx), "alice", "battery staple")  # replaces
    [(user, hashed)] = http_auth.users(ctx.conn, web(ctx).id)
    assert user == "alice" and hashed.startswith("$2b$") and "battery" not in hashed
    assert bcrypt.checkpw(b"battery staple", hashed.encode())
    proxy.auth_disable(ctx, web(ctx))
    assert http_auth.users(ctx.conn, web(ctx).id) == []


@pytest.mark.parametrize("user,password,rule", [
    ("al:ice", "pw", "invalid user"),
    ("", "pw", "invalid user"),
    ("a" * 65, "pw", "invalid user"),
    ("alice", "", "invalid password"),
    ("alice", "x" * 73, "invalid password"),
    ("alice", "line\nbreak", "invalid password"),
])
def test_bad_auth_input(ctx: Ctx, user: str, password: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        proxy.auth_enable(ctx, web(ctx), user, password)
    assert http_auth.users(ctx.conn, web(ctx).id) == []


def test_redirect_rules(ctx: Ctx) -> None:
    r = proxy.redirect_set(ctx, web(ctx), "Old.Example.com", "new.example.com", 302)
    assert (r.from_host, r.to_host, r.code) == ("old.example.com", "new.example.com", 302)
    with pytest.raises(ValidationError, match="use 301, 302, 307 or 308"):
        proxy.redirect_set(ctx, web(ctx), "a.example.com", "b.example.com", 200)
    with pytest.raises(ValidationError, match="loop"):
        proxy.redirect_set(ctx, web(ctx), "a.example.com", "A.example.com", 301)
    with pytest.raises(ValidationError, match="is a domain of web"):
        proxy.redirect_set(ctx, web(ctx), "web.localhost", "b.example.com", 301)
    with pytest.raises(AlreadyExists, match="already used by app 'web'"):
        proxy.redirect_set(ctx, store_apps.get(ctx.conn, "api"), "old.example.com",
                           "x.example.com", 301)
    with pytest.raises(ValidationError, match="no scheme"):
        proxy.redirect_set(ctx, web(ctx), "a.example.com", "https://b.example.com", 301)
    with pytest.raises(ValidationError, match="wildcards"):
        proxy.redirect_set(ctx, web(ctx), "*.example.com", "b.example.com", 301)
    proxy.redirect_unset(ctx, web(ctx), "old.example.com")
    with pytest.raises(NotFound):
        proxy.redirect_unset(ctx, web(ctx), "old.example.com")


def test_maintenance_page_rules(ctx: Ctx) -> None:
    proxy.maintenance(ctx, web(ctx), True)
    proxy.maintenance_page(ctx, web(ctx), "<h1>soon</h1>")
    assert proxy.maintenance_report(ctx, web(ctx)) == {"app": "web", "maintenance": True,
                                                       "custom_page": True}
    with pytest.raises(ValidationError, match="larger than 256 KiB"):
        proxy.maintenance_page(ctx, web(ctx), "x" * (300 * 1024))
    with pytest.raises(ValidationError, match="NUL"):
        proxy.maintenance_page(ctx, web(ctx), "a\0b")
    proxy.maintenance_page(ctx, web(ctx), "  ")  # empty: back to the default page
    proxy.maintenance(ctx, web(ctx), False)
    assert proxy.maintenance_report(ctx, web(ctx))["maintenance"] is False
    assert proxy.maintenance_report(ctx, web(ctx))["custom_page"] is False
