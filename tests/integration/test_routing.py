"""Routing through the berth CLI with `git push`ed apps: domains, wildcards, 404s, TLS with a
generated and a custom certificate, maintenance, basic auth, redirects, body limits,
websockets, extra ports, proxy:disable, access logs, a killed router coming back, and the
same app served by nginx after `router:set nginx`."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.routers.logs import router_log_lines
from tests.integration import wsclient
from tests.integration.conftest import APPS, Env, free_port, make_repo, push
from tests.integration.test_routers import make_ca_and_leaf

pytestmark = pytest.mark.integration


def request(port: int, host: str, path: str = "/", *, method: str = "GET",
            body: bytes | None = None, headers: dict[str, str] | None = None,
            cafile: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    if cafile is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        context = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
        conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
                                        server_hostname=host)
    try:
        conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def until(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, OSError, ssl.SSLError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.25)


class Site:
    """The two pushed apps and the listener ports."""

    def __init__(self, env: Env, https_port: int) -> None:
        self.env = env
        self.http = env.router_port
        self.https = https_port

    def get(self, host: str, path: str = "/", **kw) -> tuple[int, bytes, dict[str, str]]:  # type: ignore[no-untyped-def]
        return request(self.http, host, path, **kw)

    def expect(self, host: str, status: int, text: bytes = b"", **kw):  # type: ignore[no-untyped-def]
        def check():  # type: ignore[no-untyped-def]
            got = self.get(host, **kw)
            assert got[0] == status and text in got[1], (host, got[:2])
            return got
        return until(check)


@pytest.fixture(scope="module")
def site(berth_env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("routing")
    https_port = free_port()
    berth_env.berth("settings:set", "https-listen", f"127.0.0.1:{https_port}")
    for app, src in (("rt-ws", "websocket"), ("rt-site", "static")):
        repo = make_repo(APPS / src, tmp / app)
        res = push(berth_env, repo, berth_env.ssh_remote(app))
        assert res.returncode == 0, res.stdout + res.stderr
    s = Site(berth_env, https_port)
    s.expect("rt-ws.localhost", 200, b"hello from websocket app")
    yield s
    berth_env.berth("router:set", "caddy", check=False)
    for app in ("rt-ws", "rt-site"):
        berth_env.berth("apps:destroy", app, "--force", check=False)


def test_hosts_custom_domains_wildcards_and_404(site: Site) -> None:
    env = site.env
    site.expect("rt-site.localhost", 200, b"hello from static")
    res = env.berth("domains:add", "rt-site", "WWW.Site.Test", "*.wild.test")
    assert "Added www.site.test *.wild.test" in res.stdout
    assert "already has" in env.berth("domains:add", "rt-site", "www.site.test").stdout
    site.expect("www.site.test", 200, b"hello from static")
    site.expect("anything.wild.test", 200, b"hello from static")
    assert site.get("rt-ws.localhost")[1] == b"hello from websocket app"
    assert site.get("nobody.test")[:2] == (404, b"no app here\n")
    assert site.get("deep.anything.wild.test")[0] == 404
    # refused: another app's domain, a URL, a port; nothing changes
    res = env.berth("domains:add", "rt-ws", "www.site.test", check=False)
    assert res.returncode == 4 and "already used by app 'rt-site'" in res.stderr
    res = env.berth("domains:add", "rt-ws", "https://x.test/path", check=False)
    assert res.returncode == 2 and "no scheme" in res.stderr
    res = env.berth("domains:add", "rt-ws", "x.test:8080", check=False)
    assert res.returncode == 2 and "no port" in res.stderr
    report = json.loads(env.berth("domains:report", "rt-site", "--format", "json").stdout)
    assert report["custom_domains"] == ["www.site.test", "*.wild.test"]
    assert report["hosts"][0] == "rt-site.localhost"
    # the default vhost can be switched off and on
    env.berth("domains:disable", "rt-site")
    assert site.get("rt-site.localhost")[0] == 404
    site.expect("www.site.test", 200, b"hello from static")
    env.berth("domains:enable", "rt-site")
    site.expect("rt-site.localhost", 200, b"hello from static")
    # over SSH the same command works
    res = env.ssh("domains:report rt-site")
    assert res.returncode == 0 and "www.site.test" in res.stdout


def test_https_with_generated_and_custom_certificates(site: Site, tmp_path: Path) -> None:
    env = site.env
    env.berth("domains:add", "rt-site", "www.site.test")
    res = env.berth("certs:generate", "rt-site")
    assert f"https://rt-site.localhost:{site.https}" in res.stdout
    gen = str(tmp_path / "generated.pem")
    Path(gen).write_bytes(next((env.root / "tls" / "rt-site").glob("*/cert.pem")).read_bytes())
    until(lambda: request(site.https, "www.site.test", cafile=gen))
    status, body, _ = request(site.https, "www.site.test", cafile=gen)
    assert (status, b"hello from static" in body) == (200, True)
    status, _, headers = site.get("www.site.test", "/a?b=c")
    assert status == 308
    assert headers["location"] == f"https://www.site.test:{site.https}/a?b=c"
    # a new certificate replaces the old one at once
    env.berth("certs:generate", "rt-site", "--days", "30")
    gen2 = str(next((env.root / "tls" / "rt-site").glob("*/cert.pem")))
    assert Path(gen2).read_text() != Path(gen).read_text()
    until(lambda: request(site.https, "www.site.test", cafile=gen2))
    with pytest.raises(ssl.SSLError):
        request(site.https, "www.site.test", cafile=gen)
    report = json.loads(env.berth("certs:report", "rt-site", "--format", "json").stdout)
    assert report["source"] == "generated" and "www.site.test" in report["sans"]
    assert report["self_signed"] and 28 <= report["expires_in_days"] <= 30
    # a custom certificate from a CA, given as files
    ca, cert, key = make_ca_and_leaf(tmp_path, ["rt-ws.localhost"])
    res = env.berth("certs:add", "rt-ws", str(key), str(cert), check=False)
    assert res.returncode == 2 and "not a PEM X.509 certificate" in res.stderr
    env.berth("certs:add", "rt-ws", str(cert), str(key))
    env.berth("proxy:set", "rt-ws", "hsts", "on")
    status, body, headers = until(lambda: request(site.https, "rt-ws.localhost", cafile=str(ca)))
    assert (status, body) == (200, b"hello from websocket app")
    assert headers["strict-transport-security"] == "max-age=31536000"
    seen = request(site.https, "rt-ws.localhost", "/headers", cafile=str(ca))[1].decode()
    assert "X-Forwarded-Proto: https" in seen and "X-Request-Id: " in seen
    # websockets over TLS
    ws = wsclient.connect(site.https, "rt-ws.localhost", cafile=str(ca))
    ws.send("over tls")
    assert ws.recv() == "over tls"
    ws.close()
    env.berth("certs:remove", "rt-ws")
    env.berth("proxy:set", "rt-ws", "hsts")
    site.expect("rt-ws.localhost", 200, b"hello from websocket app")
    env.berth("certs:remove", "rt-site")
    site.expect("www.site.test", 200, b"hello from static")


def test_maintenance_auth_redirects_and_limits(site: Site) -> None:
    env = site.env
    env.berth("maintenance:on", "rt-site")
    status, body, _ = site.expect("rt-site.localhost", 503, b"rt-site is down for maintenance")
    env.berth("maintenance:set-page", "rt-site", input="<h1>Back at 5 $HOME</h1>\n")
    site.expect("rt-site.localhost", 503, b"<h1>Back at 5 $HOME</h1>")
    report = json.loads(env.berth("maintenance:report", "rt-site", "--format", "json").stdout)
    assert report == {"app": "rt-site", "maintenance": True, "custom_page": True}
    env.berth("maintenance:off", "rt-site")
    site.expect("rt-site.localhost", 200, b"hello from static")

    env.berth("http-auth:enable", "rt-ws", "alice", "open sesame")
    site.expect("rt-ws.localhost", 401)
    good = {"Authorization": "Basic " + base64.b64encode(b"alice:open sesame").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"alice:nope").decode()}
    assert site.get("rt-ws.localhost", headers=bad)[0] == 401
    assert site.get("rt-ws.localhost", headers=good)[:2] == (200, b"hello from websocket app")
    assert "open sesame" not in (env.root / "berth.db").read_bytes().decode(errors="replace")
    env.berth("http-auth:disable", "rt-ws")
    site.expect("rt-ws.localhost", 200, b"hello from websocket app")

    env.berth("redirect:set", "rt-site", "old.site.test", "rt-site.localhost", "302")
    status, _, headers = until(lambda: site.get("old.site.test", "/x?y=1"))
    assert status == 302
    assert headers["location"] == f"http://rt-site.localhost:{site.http}/x?y=1"
    env.berth("redirect:unset", "rt-site", "old.site.test")
    site.expect("old.site.test", 404)

    env.berth("proxy:set", "rt-ws", "client-max-body-size", "1m")
    big = b"z" * (2 * 1024 * 1024)
    assert site.get("rt-ws.localhost", method="POST", body=big)[0] == 413
    assert site.get("rt-ws.localhost", method="POST", body=b"z" * 900)[:2] == \
        (200, b"got 900 bytes")
    env.berth("proxy:set", "rt-ws", "client-max-body-size")
    assert site.get("rt-ws.localhost", method="POST", body=big)[:2] == \
        (200, f"got {len(big)} bytes".encode())
    res = env.berth("proxy:set", "rt-ws", "read-timeout", "forever", check=False)
    assert res.returncode == 2 and "seconds like" in res.stderr


def test_websocket_echo_through_the_router(site: Site) -> None:
    ws = wsclient.connect(site.http, "rt-ws.localhost")
    try:
        for text in ("ping", "ünïcode", "y" * 3000):
            ws.send(text)
            assert ws.recv() == text
    finally:
        ws.close()


def test_ports_and_proxy_disable(site: Site) -> None:
    env = site.env
    extra = free_port()
    env.berth("ports:add", "rt-ws", f"http:{site.http}:5000", f"http:{extra}:5000")
    rows = json.loads(env.berth("ports:list", "rt-ws", "--format", "json").stdout)
    assert {(r["host_port"], r["container_port"]) for r in rows} == {(site.http, 5000),
                                                                    (extra, 5000)}
    until(lambda: request(extra, "rt-ws.localhost")[0] == 200 or 1 / 0)
    res = env.berth("ports:add", "rt-ws", "tcp:1:2", check=False)
    assert res.returncode == 2 and "scheme:host-port:container-port" in res.stderr
    env.berth("ports:clear", "rt-ws")
    with pytest.raises(OSError):
        until(lambda: request(extra, "rt-ws.localhost") and 1 / 0, timeout=3)

    # a new main container port: a new release listens there (PORT), then traffic moves
    res = env.berth("ports:set", "rt-ws", f"http:{site.http}:6000")
    assert f"http:{site.http}:6000" in res.stdout
    rels = json.loads(env.berth("releases", "rt-ws", "--format", "json").stdout)
    assert rels[0]["description"] == "Set port 6000" and rels[0]["current"]
    seen = site.expect("rt-ws.localhost", 200, b"hello from websocket app")
    assert site.get("rt-ws.localhost", "/headers")[0] == 200 and seen
    env.berth("ports:clear", "rt-ws")
    site.expect("rt-ws.localhost", 200, b"hello from websocket app")

    env.berth("proxy:disable", "rt-site")
    site.expect("rt-site.localhost", 404)
    report = json.loads(env.berth("apps:report", "rt-site", "--format", "json").stdout)
    assert report["containers"]  # still running, only unrouted
    env.berth("proxy:enable", "rt-site")
    site.expect("rt-site.localhost", 200, b"hello from static")


def test_access_logs_per_app(site: Site) -> None:
    site.get("rt-site.localhost", "/logged-by-test", headers={"User-Agent": "routing-test"})

    def find():  # type: ignore[no-untyped-def]
        hits = [e for e in router_log_lines(site.env.root, "rt-site")
                if e["uri"] == "/logged-by-test"]
        assert hits
        return hits[-1]

    entry = until(find)
    assert entry["host"] == "rt-site.localhost" and entry["user_agent"] == "routing-test"
    assert entry["app"] == "rt-site"


def test_a_killed_router_comes_back(site: Site) -> None:
    env = site.env
    report = json.loads(env.berth("router:report", "--format", "json").stdout)
    assert report["router"] == "caddy" and report["running"]
    apps = {r["app"]: r for r in report["routes"]}
    assert apps["rt-ws"]["upstreams"] and apps["rt-ws"]["state"] == "up"
    os.kill(int(report["pid"]), signal.SIGKILL)
    started = time.monotonic()
    site.expect("rt-ws.localhost", 200, b"hello from websocket app")
    assert time.monotonic() - started < 15


def test_the_same_apps_on_nginx(site: Site, tmp_path: Path) -> None:
    env = site.env
    from berth.routers import nginx

    if not nginx.available():
        pytest.skip("nginx is not installed (scripts/host.sh install_packages brings it)")
    env.berth("domains:add", "rt-site", "www.site.test")
    try:
        env.berth("router:set", "nginx")
        report = json.loads(env.berth("router:report", "--format", "json").stdout)
        assert report["router"] == "nginx" and report["running"]
        assert any("ACME" in x for x in report["lacks"])
        site.expect("rt-site.localhost", 200, b"hello from static")
        site.expect("www.site.test", 200, b"hello from static")
        assert site.get("nobody.test")[:2] == (404, b"no app here\n")
        ws = wsclient.connect(site.http, "rt-ws.localhost")
        ws.send("via nginx")
        assert ws.recv() == "via nginx"
        ws.close()
        env.berth("certs:generate", "rt-site")
        gen = str(next((env.root / "tls" / "rt-site").glob("*/cert.pem")))
        status, body, _ = until(lambda: request(site.https, "www.site.test", cafile=gen))
        assert status == 200 and b"hello from static" in body
        env.berth("maintenance:on", "rt-ws")
        site.expect("rt-ws.localhost", 503, b"rt-ws is down for maintenance")
        env.berth("maintenance:off", "rt-ws")
        # a broken snippet is refused by nginx -t; every app keeps serving
        res = env.berth("nginx:snippet", "rt-ws", input="not_a_directive on;\n", check=False)
        assert res.returncode == 8 and "not_a_directive" in res.stderr
        site.expect("rt-ws.localhost", 200, b"hello from websocket app")
        site.expect("rt-site.localhost", 308)
        # the server brings a killed nginx back
        os.kill(int(report["pid"]), signal.SIGKILL)
        site.expect("rt-ws.localhost", 200, b"hello from websocket app")
        assert list(router_log_lines(env.root, "rt-ws"))[-1]["router"] == "nginx"
    finally:
        env.berth("certs:remove", "rt-site", check=False)
        env.berth("router:set", "caddy")
    site.expect("rt-ws.localhost", 200, b"hello from websocket app")
    assert not nginx.is_running(env.root)
