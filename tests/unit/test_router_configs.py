"""Both routers' configs as data: TLS, redirects, auth, limits, maintenance, ports, logs.
Pure functions, no proxy running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from berth.errors import RouterError
from berth.routers import Listeners, PortMap, Redirect, Route, nginx
from berth.routers.base import dials, effective_ports, port_suffix
from berth.routers.caddy import build_config
from berth.routers.logs import normalise

ADMIN = "unix//srv/berth/caddy/admin.sock"
UP = ("10.0.0.1:5000", "10.0.0.2:5000")


def caddy_cfg(routes: list[Route], **kw: Any) -> dict[str, Any]:
    kw.setdefault("admin", ADMIN)
    kw.setdefault("access_log", None)
    return build_config(routes, **kw)


def servers(config: dict[str, Any]) -> dict[str, Any]:
    return config["apps"]["http"]["servers"]  # type: ignore[no-any-return]


def route_of(config: dict[str, Any], server: str, host: str) -> dict[str, Any]:
    return next(r for r in servers(config)[server]["routes"]
                if host in (r.get("match") or [{}])[0].get("host", []))


def handlers(route: dict[str, Any]) -> list[str]:
    return [h["handler"] for h in route["handle"]]


# -- shared helpers ----------------------------------------------------------------------------


def test_effective_ports_default_and_tls() -> None:
    lst = Listeners(http=":80", https=":443")
    # container port 0: each upstream's own port
    assert effective_ports(Route("a", ("a.t",), UP), lst) == [PortMap("http", 80, 0)]
    assert effective_ports(Route("a", ("a.t",), UP, tls="files"), lst) == [
        PortMap("http", 80, 0), PortMap("https", 443, 0)]
    assert dials(Route("a", (), ("10.0.0.1:1", "10.0.0.2:2")), 0) == ["10.0.0.1:1", "10.0.0.2:2"]
    explicit = Route("a", ("a.t",), UP, ports=(PortMap("https", 8443, 6000),
                                               PortMap("http", 8080, 6000)))
    assert effective_ports(explicit, lst) == [PortMap("http", 8080, 6000)]  # no cert: no https
    assert dials(explicit, 6000) == ["10.0.0.1:6000", "10.0.0.2:6000"]
    assert port_suffix("http", 80) == "" and port_suffix("https", 8443) == ":8443"


# -- Caddy -------------------------------------------------------------------------------------


def test_caddy_tls_files_give_an_https_server_and_a_redirect() -> None:
    route = Route("a", ("a.test",), UP, tls="files", tls_cert="/t/a/cert.pem",
                  tls_key="/t/a/key.pem", hsts=600)
    config = caddy_cfg([route], listen="127.0.0.1:8080", https_listen="127.0.0.1:8443")
    https = servers(config)["berth-https"]
    assert https["listen"] == ["127.0.0.1:8443"] and https["tls_connection_policies"] == [{}]
    assert config["apps"]["tls"]["certificates"]["load_files"] == [
        {"certificate": "/t/a/cert.pem", "key": "/t/a/key.pem", "tags": ["berth-a"]}]
    plain = route_of(config, "berth", "a.test")
    assert plain["handle"] == [{"handler": "static_response", "status_code": 308, "headers": {
        "Location": ["https://{http.request.host}:8443{http.request.uri}"]}}]
    secure = route_of(config, "berth-https", "a.test")
    headers = secure["handle"][0]["response"]["set"]
    assert headers["Strict-Transport-Security"] == ["max-age=600"]
    assert config["apps"]["http"]["https_port"] == 8443


def test_caddy_without_tls_binds_no_https_listener() -> None:
    config = caddy_cfg([Route("a", ("a.test",), UP)])
    assert list(servers(config)) == ["berth"] and "tls" not in config["apps"]


@pytest.mark.parametrize("ca,issuer", [
    ("", {"module": "acme", "email": "ops@example.com"}),
    ("https://acme.example/dir", {"module": "acme", "ca": "https://acme.example/dir",
                                  "email": "ops@example.com"}),
    ("internal", {"module": "internal"}),
])
def test_caddy_tls_auto_uses_the_acme_settings(ca: str, issuer: dict[str, str]) -> None:
    route = Route("a", ("a.test", "*.w.test"), UP, tls="auto")
    config = caddy_cfg([route], acme_ca=ca, acme_email="ops@example.com")
    tls = config["apps"]["tls"]
    wild = ["*.w.test"] if ca == "internal" else []  # ACME wildcards need DNS challenges
    assert tls["certificates"]["automate"] == sorted(["a.test", *wild])
    assert tls["automation"]["policies"][0]["issuers"] == [issuer]
    if ca == "internal":
        assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] \
            is False


def test_caddy_handler_chain_order() -> None:
    route = Route("a", ("a.test",), UP, auth=(("u", "$2b$10$hash"),), max_body=1000,
                  compression=True, read_timeout=30, connect_timeout=3)
    chain = route_of(caddy_cfg([route]), "berth", "a.test")["handle"]
    assert [h["handler"] for h in chain] == ["headers", "authentication", "subroute",
                                             "request_body", "encode", "reverse_proxy"]
    assert chain[1]["providers"]["http_basic"]["accounts"] == [
        {"username": "u", "password": "$2b$10$hash"}]
    refuse = chain[2]["routes"][0]
    assert "> 1000" in refuse["match"][0]["expression"]
    assert refuse["handle"][0]["status_code"] == 413
    assert chain[3]["max_size"] == 1000
    assert chain[4]["prefer"] == ["zstd", "gzip"]
    assert chain[5]["transport"] == {"protocol": "http", "dial_timeout": "3s",
                                     "read_timeout": "30s"}


def test_caddy_maintenance_replaces_the_chain() -> None:
    route = Route("a", ("a.test",), UP, maintenance=True, maintenance_page="<p>soon</p>")
    [answer] = route_of(caddy_cfg([route]), "berth", "a.test")["handle"]
    assert (answer["status_code"], answer["body"]) == (503, "<p>soon</p>")
    assert answer["headers"]["Content-Type"] == ["text/html; charset=utf-8"]
    default = route_of(caddy_cfg([Route("b", ("b.test",), (), maintenance=True)]), "berth",
                       "b.test")["handle"][0]
    assert "b is down for maintenance" in default["body"]


def test_caddy_redirects_and_extra_ports() -> None:
    route = Route("a", ("a.test",), UP, redirects=(Redirect("old.test", "a.test", 302),),
                  ports=(PortMap("http", 8080, 5000), PortMap("http", 9090, 7000)))
    config = caddy_cfg([route], listen="127.0.0.1:8080")
    assert set(servers(config)) == {"berth", "berth-9090"}
    assert servers(config)["berth-9090"]["listen"] == ["127.0.0.1:9090"]
    redirect = route_of(config, "berth", "old.test")["handle"][0]
    assert redirect["status_code"] == 302
    assert redirect["headers"]["Location"] == ["http://a.test:8080{http.request.uri}"]
    extra = route_of(config, "berth-9090", "a.test")
    proxy = next(h for h in extra["handle"] if h["handler"] == "reverse_proxy")
    assert [u["dial"] for u in proxy["upstreams"]] == ["10.0.0.1:7000", "10.0.0.2:7000"]


def test_caddy_refuses_conflicts() -> None:
    with pytest.raises(RouterError, match="claimed by both"):
        caddy_cfg([Route("a", ("a.test",), UP, redirects=(Redirect("x.test", "a.test"),)),
                   Route("b", ("x.test",), UP)])
    with pytest.raises(RouterError, match="both http and https"):
        caddy_cfg([Route("a", ("a.test",), UP, ports=(PortMap("http", 9000, 5000),)),
                   Route("b", ("b.test",), UP, tls="files", tls_cert="c", tls_key="k",
                         ports=(PortMap("https", 9000, 5000),))])


def test_caddy_access_logs_per_app(tmp_path: Path) -> None:
    config = caddy_cfg([Route("a", ("a.test",), UP), Route("b", ("b.test",), UP)],
                       log_dir=tmp_path)
    logs = config["logging"]["logs"]
    assert logs["app.a"]["writer"]["filename"] == str(tmp_path / "a.log")
    assert logs["app.a"]["include"] == ["http.log.access.a"]
    assert servers(config)["berth"]["logs"]["logger_names"] == {"a.test": ["a"],
                                                                "b.test": ["b"]}


# -- nginx -------------------------------------------------------------------------------------


ROOT = Path("/srv/berth")
LST = Listeners(http="127.0.0.1:8080", https="127.0.0.1:8443")


def test_nginx_main_config_has_a_404_default_server_per_listener() -> None:
    route = Route("a", ("a.test",), UP, tls="files", tls_cert="/c", tls_key="/k")
    text = nginx.main_config(ROOT, [route], LST)
    assert "listen 127.0.0.1:8080 default_server;" in text
    assert 'return 404 "no app here\\n";' in text
    assert "listen 127.0.0.1:8443 ssl default_server;" in text
    assert "ssl_reject_handshake on;" in text
    assert 'include "/srv/berth/nginx/apps/*.conf";' in text
    assert "listen 80 default_server;" in nginx.main_config(ROOT, [], Listeners(http=":80"))


def test_nginx_app_config() -> None:
    route = Route("my-app", ("b.test", "*.w.test"), UP, tls="files", tls_cert="/t/c.pem",
                  tls_key="/t/k.pem", hsts=600, auth=(("u", "h"),), max_body=2048,
                  read_timeout=30, compression=True, redirects=(Redirect("old.test", "b.test"),))
    text = nginx.app_config(ROOT, route, LST, log_dir=ROOT / "logs")
    assert "upstream berth_my_app {" in text
    assert "server 10.0.0.1:5000 max_fails=1 fail_timeout=5s;" in text
    assert "server_name *.w.test b.test;" in text
    assert "return 308 https://$host:8443$request_uri;" in text
    assert "listen 127.0.0.1:8443 ssl;" in text
    assert 'ssl_certificate "/t/c.pem";' in text
    assert 'add_header Strict-Transport-Security "max-age=600" always;' in text
    assert 'auth_basic_user_file "/srv/berth/nginx/apps/my-app.htpasswd";' in text
    assert "client_max_body_size 2048;" in text
    assert "proxy_read_timeout 30s;" in text and "gzip on;" in text
    assert "proxy_set_header Connection $berth_connection_upgrade;" in text
    assert "proxy_set_header X-Request-Id $request_id;" in text
    assert "return 301 $scheme://b.test:8080$request_uri;" in text
    assert 'access_log "/srv/berth/logs/my-app.log" berth_json;' in text
    assert nginx.htpasswd(route) == "u:h\n"


def test_nginx_down_and_maintenance() -> None:
    down = nginx.app_config(ROOT, Route("d", ("d.test",), ()), LST)
    assert 'return 503 "no running web process\\n";' in down and "upstream" not in down
    maint = nginx.app_config(ROOT, Route("m", ("m.test",), UP, maintenance=True), LST)
    assert "return 503;" in maint and 'alias "/srv/berth/nginx/pages/m.html";' in maint


def test_nginx_refuses_unsafe_paths() -> None:
    bad = Route("a", ("a.test",), UP, tls="files", tls_cert='/t/"; evil', tls_key="/k")
    with pytest.raises(RouterError, match="cannot use"):
        nginx.app_config(ROOT, bad, LST)


def test_nginx_lacks_acme() -> None:
    assert any("ACME" in x for x in nginx.LACKS)


# -- access logs -------------------------------------------------------------------------------


def test_log_lines_are_normalised_for_both_routers() -> None:
    caddy_line = {"ts": 1.5, "logger": "http.log.access.a", "status": 200, "size": 3,
                  "duration": 0.01, "request": {"host": "a.test", "method": "GET", "uri": "/x",
                                                "proto": "HTTP/1.1", "client_ip": "1.2.3.4",
                                                "headers": {"User-Agent": ["ua"]}},
                  "resp_headers": {"X-Request-Id": ["rid"]}}
    nginx_line = {"router": "nginx", "ts": 1.5, "host": "a.test", "method": "GET", "uri": "/x",
                  "proto": "HTTP/1.1", "status": 200, "size": 3, "duration": 0.01,
                  "remote_ip": "1.2.3.4", "request_id": "rid", "user_agent": "ua"}
    one, two = normalise(caddy_line, "a"), normalise(nginx_line, "a")
    assert one.pop("router") == "caddy" and two.pop("router") == "nginx"
    assert one == two
