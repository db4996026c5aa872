"""Router-wide settings: https-listen, router, acme-ca, acme-email are checked at the edge."""

from __future__ import annotations

import pytest

from berth.cli.settings import validate
from berth.errors import ValidationError


@pytest.mark.parametrize("key,value", [
    ("https-listen", ":443"),
    ("https-listen", "127.0.0.1:8443"),
    ("https-listen", "[::1]:8443"),
    ("router", "caddy"),
    ("router", "nginx"),
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
    ("router", "traefik", "caddy or nginx"),
    ("acme-ca", "ftp://ca.example/dir", "ACME directory URL"),
    ("acme-ca", "https://ca.example/dir?x=$(id)", "ACME directory URL"),
    ("acme-email", "not-an-address", "an address like"),
    ("acme-email", "a@b", "an address like"),
])
def test_bad_values(key: str, value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        validate(key, value)
