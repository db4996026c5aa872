"""Router-wide settings: https-listen, router, scheduler, acme-ca, acme-email are checked at
the edge (router and scheduler against the names plugins register)."""

from __future__ import annotations

import pytest

from berth.cli.settings import validate
from berth.errors import ValidationError
from berth.hooks import manager


@pytest.fixture(autouse=True)
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTH_ROOT", str(tmp_path / "root"))
    monkeypatch.delenv("BERTH_PLUGINS", raising=False)
    manager.reset()
    yield
    manager.reset()


@pytest.mark.parametrize("key,value", [
    ("https-listen", ":443"),
    ("https-listen", "127.0.0.1:8443"),
    ("https-listen", "[::1]:8443"),
    ("router", "caddy"),
    ("router", "nginx"),
    ("scheduler", "docker-local"),
    ("acme-ca", ""),
    ("acme-ca", "internal"),
    ("acme-ca", "https://acme-staging-v02.api.letsencrypt.org/directory"),
    ("acme-ca", "http://127.0.0.1:14000/dir"),
    ("acme-email", "ops@example.com"),
    ("acme-email", ""),
])
def test_good_values(key: str, value: str) -> None:
    assert validate(key, value) == value


@pytest.mark.parametrize("key,value,rule", [
    ("https-listen", "443", "use \\[ADDRESS\\]:PORT"),
    ("https-listen", ":99999", "use \\[ADDRESS\\]:PORT"),
    ("router", "traefik", "registered routers: caddy, nginx$"),
    ("scheduler", "k8s", "registered schedulers: docker-local$"),
    ("acme-ca", "ftp://ca.example/dir", "ACME directory URL"),
    ("acme-ca", "https://ca.example/dir?x=$(id)", "ACME directory URL"),
    ("acme-email", "not-an-address", "an address like"),
    ("acme-email", "a@b", "an address like"),
])
def test_bad_values(key: str, value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        validate(key, value)
