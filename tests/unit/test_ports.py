"""Port mappings: parsing rules, duplicates, conflicts with other apps, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from berth import ports
from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound, ValidationError
from berth.paths import Paths
from berth.store import apps as store_apps
from berth.store import settings
from berth.store.ports import PortMap


def test_parse() -> None:
    assert ports.parse("http:80:5000") == PortMap("http", 80, 5000)
    assert ports.parse(" https:443:8000 ") == PortMap("https", 443, 8000)


@pytest.mark.parametrize("bad,rule", [
    ("tcp:80:5000", "scheme:host-port:container-port"),
    ("http:80", "scheme:host-port:container-port"),
    ("80:5000", "scheme:host-port:container-port"),
    ("http:80:5000:1", "scheme:host-port:container-port"),
    ("HTTP:80:5000", "scheme:host-port:container-port"),
    ("http:-1:5000", "scheme:host-port:container-port"),
    ("http:0:5000", "host port must be 1-65535"),
    ("http:70000:5000", "host port must be 1-65535"),
    ("http:80:0", "container port must be 1-65535"),
    ("http:80:99999", "container port must be 1-65535"),
    ("http:080:5000", "host port must be 1-65535"),
    ("http:8o:5000", "scheme:host-port:container-port"),
    ("http:80:5000;id", "scheme:host-port:container-port"),
])
def test_invalid_mappings_are_refused(bad: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        ports.parse(bad)


def test_one_mapping_per_host_port() -> None:
    assert ports.parse_all(["http:80:5000", "http:80:5000"]) == [PortMap("http", 80, 5000)]
    with pytest.raises(ValidationError, match="host port 80 is mapped twice"):
        ports.parse_all(["http:80:5000", "http:80:5001"])
    with pytest.raises(ValidationError, match="host port 8080 is mapped twice"):
        ports.parse_all(["http:8080:5000", "https:8080:5000"])
    with pytest.raises(ValidationError, match="at least one"):
        ports.parse_all([])


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    c = Ctx(paths=Paths(tmp_path / "root"))
    store_apps.create(c.conn, "web")
    store_apps.create(c.conn, "api")
    return c


def test_add_set_remove_clear(ctx: Ctx) -> None:
    web = store_apps.get(ctx.conn, "web")
    assert ports.primary_container_port(ctx, web.id) is None
    ports.add(ctx, web, ("http:80:5000",))
    ports.add(ctx, web, ("http:8080:5001", "http:80:5000"))  # an existing one is kept
    assert ports.effective(ctx, web) == [
        {"scheme": "http", "host_port": 80, "container_port": 5000, "source": "set"},
        {"scheme": "http", "host_port": 8080, "container_port": 5001, "source": "set"},
    ]
    with pytest.raises(AlreadyExists, match="already mapped"):
        ports.add(ctx, web, ("http:8080:6000",))
    ports.remove(ctx, web, ("8080",))
    with pytest.raises(NotFound):
        ports.remove(ctx, web, ("http:9999",))
    ports.set_(ctx, web, ("http:80:8000",))
    assert ports.primary_container_port(ctx, web.id) == 8000
    ports.clear(ctx, web)
    assert ports.effective(ctx, web) == [
        {"scheme": "http", "host_port": 80, "container_port": 5000, "source": "default"}]


def test_the_main_listeners_keep_their_scheme(ctx: Ctx) -> None:
    web = store_apps.get(ctx.conn, "web")
    with pytest.raises(ValidationError, match="router's http listener"):
        ports.set_(ctx, web, ("https:80:5000",))
    settings.put(ctx.conn, "https-listen", "127.0.0.1:8443")
    with pytest.raises(ValidationError, match="router's https listener"):
        ports.set_(ctx, web, ("http:8443:5000",))


def test_a_port_is_one_scheme_across_apps(ctx: Ctx) -> None:
    ports.set_(ctx, store_apps.get(ctx.conn, "web"), ("http:80:5000", "http:9000:5000"))
    with pytest.raises(AlreadyExists, match="host port 9000 is http for app 'web'"):
        ports.set_(ctx, store_apps.get(ctx.conn, "api"), ("https:9000:5000",))
    ports.set_(ctx, store_apps.get(ctx.conn, "api"), ("http:9000:5000",))  # same scheme: ok


def test_https_mappings_wait_for_a_certificate(ctx: Ctx) -> None:
    web = store_apps.get(ctx.conn, "web")
    ports.set_(ctx, web, ("http:80:5000", "https:443:5000"))
    rows = ports.effective(ctx, web)
    assert {"scheme": "https", "host_port": 443, "container_port": 5000,
            "source": "set (no certificate)"} in rows
