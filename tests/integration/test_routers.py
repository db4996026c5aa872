"""Both routers, Caddy and nginx, driven directly with the same Route table and checked with
real HTTP(S) and websocket traffic to small backends on 127.0.0.1.

Everything listens on loopback only; request loops are bounded in count and time.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import http.client
import importlib.util
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from berth import certs
from berth.errors import RouterError
from berth.routers import Listeners, PortMap, Redirect, Route, caddy, nginx
from berth.routers.logs import router_log_lines
from tests.integration import wsclient

REPO = Path(__file__).resolve().parents[2]


def _have(name: str) -> bool:
    try:
        caddy.caddy_binary() if name == "caddy" else nginx.nginx_binary()
    except RouterError:
        return False
    return True


pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- backends ----------------------------------------------------------------------------------


def _ws_module() -> Any:
    spec = importlib.util.spec_from_file_location("ws_app", REPO / "tests/apps/websocket/app.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def start_named(name: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/headers":
                body = "".join(f"{k.lower()}: {v}\n" for k, v in self.headers.items()).encode()
            elif self.path == "/big":
                body = (name + " ").encode() * 4000
            else:
                body = name.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture(scope="module")
def backends() -> Iterator[dict[str, str]]:
    servers = {n: start_named(n) for n in ("one", "two", "three")}
    ws = _ws_module().serve(0, "127.0.0.1")
    threading.Thread(target=ws.serve_forever, daemon=True).start()
    dials = {n: f"127.0.0.1:{s.server_port}" for n, s in servers.items()}
    dials["ws"] = f"127.0.0.1:{ws.server_port}"
    yield dials
    for s in [*servers.values(), ws]:
        s.shutdown()
        s.server_close()


# -- certificates --------------------------------------------------------------------------------


def make_ca_and_leaf(tmp: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """A test CA and a leaf for ``hosts`` signed by it: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "berth test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = (tmp / "ca.pem", tmp / "custom.pem", tmp / "custom.key")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


# -- the router under test -------------------------------------------------------------------------


@dataclass
class Proxy:
    kind: str
    root: Path
    lst: Listeners
    router: Any

    @property
    def http_port(self) -> int:
        return int(self.lst.http.rsplit(":", 1)[1])

    @property
    def https_port(self) -> int:
        return int(self.lst.https.rsplit(":", 1)[1])

    def apply(self, routes: list[Route]) -> None:
        self.router.apply(routes)

    def request(self, host: str, path: str = "/", *, method: str = "GET",
                body: bytes | None = None, headers: dict[str, str] | None = None,
                port: int | None = None, cafile: str | None = None
                ) -> tuple[int, bytes, dict[str, str]]:
        hdrs = {"Host": host, **(headers or {})}
        if cafile is None:
            conn = http.client.HTTPConnection("127.0.0.1", port or self.http_port, timeout=10)
        else:
            context = ssl.create_default_context(cafile=cafile)
            conn = http.client.HTTPSConnection("127.0.0.1", port or self.https_port,
                                               timeout=10, context=context)
            sock = socket.create_connection(("127.0.0.1", port or self.https_port), timeout=10)
            conn.sock = context.wrap_socket(sock, server_hostname=host)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()


@pytest.fixture(scope="module", params=["caddy", "nginx"])
def proxy(request: pytest.FixtureRequest) -> Iterator[Proxy]:
    kind = request.param
    if not _have(kind):
        pytest.skip(f"{kind} is not installed (scripts/host.sh install_packages brings it)")
    root = Path(tempfile.mkdtemp(prefix="brt-"))
    lst = Listeners(http=f"127.0.0.1:{free_port()}", https=f"127.0.0.1:{free_port()}",
                    acme_ca="internal")
    log_dir = root / "logs" / "router"
    try:
        if kind == "caddy":
            caddy.ensure_running(root, lst.http)
            router: Any = caddy.CaddyRouter(root, listeners=lst, log_dir=log_dir)
        else:
            nginx.ensure_running(root, lst)
            router = nginx.NginxRouter(root, listeners=lst, log_dir=log_dir)
        yield Proxy(kind, root, lst, router)
    finally:
        caddy.stop_caddy(root) if kind == "caddy" else nginx.stop(root)
        shutil.rmtree(root, ignore_errors=True)


def eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, OSError, ssl.SSLError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


# -- the scenarios ---------------------------------------------------------------------------------


def test_hosts_wildcards_and_unknown_hosts(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([
        Route("app-a", ("a.test", "www.a.test"), (backends["one"],)),
        Route("app-b", ("b.test", "special.wild.test"), (backends["two"],)),
        Route("app-w", ("*.wild.test",), (backends["three"],)),
        Route("app-down", ("down.test",), ()),
    ])
    assert proxy.request("a.test")[:2] == (200, b"one")
    assert proxy.request("WWW.A.test")[:2] == (200, b"one")
    assert proxy.request("b.test")[:2] == (200, b"two")
    assert proxy.request("x.wild.test")[:2] == (200, b"three")
    assert proxy.request("special.wild.test")[:2] == (200, b"two")  # exact beats wildcard
    status, body, _ = proxy.request("nobody.test")
    assert (status, body) == (404, b"no app here\n")
    status, body, headers = proxy.request("down.test")
    assert (status, body) == (503, b"no running web process\n")


def test_forwarded_headers_and_request_id(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([Route("app-a", ("a.test",), (backends["one"],))])
    status, body, headers = proxy.request("a.test", "/headers",
                                          headers={"X-Request-Id": "forged",
                                                   "X-Forwarded-For": "6.6.6.6"})
    seen = dict(line.split(": ", 1) for line in body.decode().splitlines())
    assert status == 200
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == "a.test"
    assert seen["x-request-id"] != "forged" and len(seen["x-request-id"]) >= 16
    assert headers["x-request-id"] == seen["x-request-id"]


def test_https_with_a_generated_and_a_custom_cert(proxy: Proxy, backends: dict[str, str],
                                                  tmp_path: Path) -> None:
    gen_cert, gen_key = certs.generate(["s.test", "*.s.test"])
    (tmp_path / "gen.pem").write_text(gen_cert)
    (tmp_path / "gen.key").write_text(gen_key)
    ca, cert, key = make_ca_and_leaf(tmp_path, ["c.test"])
    proxy.apply([
        Route("app-s", ("s.test", "*.s.test"), (backends["one"],), tls="files",
              tls_cert=str(tmp_path / "gen.pem"), tls_key=str(tmp_path / "gen.key"),
              hsts=3600),
        Route("app-c", ("c.test",), (backends["two"],), tls="files", tls_cert=str(cert),
              tls_key=str(key)),
        Route("app-p", ("p.test",), (backends["three"],)),
    ])
    status, body, headers = eventually(
        lambda: proxy.request("s.test", cafile=str(tmp_path / "gen.pem")))
    assert (status, body) == (200, b"one")
    assert headers["strict-transport-security"] == "max-age=3600"
    assert proxy.request("x.s.test", cafile=str(tmp_path / "gen.pem"))[:2] == (200, b"one")
    status, body, headers = proxy.request("c.test", cafile=str(ca))
    assert (status, body) == (200, b"two")
    assert "strict-transport-security" not in headers
    seen = proxy.request("c.test", "/headers", cafile=str(ca))[1].decode()
    assert "x-forwarded-proto: https" in seen
    # plain HTTP to an app with TLS is redirected; an app without TLS is not
    status, _, headers = proxy.request("c.test", "/path?q=1")
    assert status == 308
    assert headers["location"] == f"https://c.test:{proxy.https_port}/path?q=1"
    assert proxy.request("p.test")[:2] == (200, b"three")
    # the wrong CA is refused
    with pytest.raises(ssl.SSLError):
        proxy.request("c.test", cafile=str(tmp_path / "gen.pem"))


def test_redirects(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([Route("app-a", ("new.test",), (backends["one"],),
                       redirects=(Redirect("old.test", "new.test", 301),
                                  Redirect("tmp.test", "new.test", 302)))])
    status, _, headers = proxy.request("old.test", "/a/b?c=d")
    assert status == 301
    assert headers["location"] == f"http://new.test:{proxy.http_port}/a/b?c=d"
    assert proxy.request("tmp.test")[0] == 302
    assert proxy.request("new.test")[:2] == (200, b"one")


def test_basic_auth(proxy: Proxy, backends: dict[str, str]) -> None:
    from berth.proxy import hash_password

    proxy.apply([Route("app-a", ("a.test",), (backends["one"],),
                       auth=(("alice", hash_password("s3cret pass")),))])

    def basic(user: str, pw: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}

    status, _, headers = proxy.request("a.test")
    assert status == 401 and headers["www-authenticate"].lower().startswith("basic")
    assert proxy.request("a.test", headers=basic("alice", "wrong"))[0] == 401
    assert proxy.request("a.test", headers=basic("bob", "s3cret pass"))[0] == 401
    assert proxy.request("a.test", headers=basic("alice", "s3cret pass"))[:2] == (200, b"one")


def test_maintenance_page(proxy: Proxy, backends: dict[str, str]) -> None:
    page = "<h1>Back soon: $dollar \"quotes\" {braces};</h1>\n"
    proxy.apply([Route("app-a", ("a.test",), (backends["one"],), maintenance=True,
                       maintenance_page=page),
                 Route("app-d", ("d.test",), (backends["two"],), maintenance=True),
                 Route("app-b", ("b.test",), (backends["two"],))])
    status, body, headers = proxy.request("a.test", "/any/path")
    assert (status, body.decode()) == (503, page)
    assert headers["content-type"].startswith("text/html")
    status, body, _ = proxy.request("d.test")
    assert status == 503 and b"app-d is down for maintenance" in body
    assert proxy.request("b.test")[:2] == (200, b"two")
    proxy.apply([Route("app-a", ("a.test",), (backends["one"],))])
    assert proxy.request("a.test")[:2] == (200, b"one")


def test_websocket_echo(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([Route("ws", ("ws.test",), (backends["ws"],), read_timeout=30)])
    ws = wsclient.connect(proxy.http_port, "ws.test")
    try:
        for text in ("hello", "ünïcode ✓", "x" * 5000):
            ws.send(text)
            assert ws.recv() == text
    finally:
        ws.close()


def test_body_size_limit(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([Route("ws", ("ws.test",), (backends["ws"],), max_body=1024 * 1024),
                 Route("free", ("free.test",), (backends["ws"],))])
    big = b"x" * (2 * 1024 * 1024)
    assert proxy.request("ws.test", method="POST", body=big)[0] == 413
    status, body, _ = proxy.request("ws.test", method="POST", body=b"y" * 1000)
    assert (status, body) == (200, b"got 1000 bytes")
    # the refused request did not mark the app as down
    assert proxy.request("ws.test")[0] == 200
    status, body, _ = proxy.request("free.test", method="POST", body=big)
    assert (status, body) == (200, f"got {len(big)} bytes".encode())


def test_compression(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([Route("app-a", ("a.test",), (backends["one"],), compression=True),
                 Route("app-b", ("b.test",), (backends["two"],))])
    status, body, headers = proxy.request("a.test", "/big", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    assert gzip.decompress(body) == b"one " * 4000
    status, body, headers = proxy.request("b.test", "/big", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers and body == b"two " * 4000


def test_an_extra_port_listener(proxy: Proxy, backends: dict[str, str]) -> None:
    extra = free_port()
    ws_port = int(backends["ws"].rsplit(":", 1)[1])
    proxy.apply([Route("ws", ("ws.test",), (backends["one"],),
                       ports=(PortMap("http", proxy.http_port, ws_port),
                              PortMap("http", extra, ws_port)))])
    assert proxy.request("ws.test")[:2] == (200, b"hello from websocket app")
    assert proxy.request("ws.test", port=extra)[:2] == (200, b"hello from websocket app")
    assert proxy.request("other.test", port=extra)[0] == 404


def test_access_logs_per_app(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([Route("logged", ("l.test",), (backends["one"],)),
                 Route("other", ("o.test",), (backends["two"],))])
    proxy.request("l.test", "/logged?x=1", headers={"User-Agent": "berth-test"})
    proxy.request("o.test", "/elsewhere")

    def find() -> dict[str, Any]:
        lines = list(router_log_lines(proxy.root, "logged"))
        hits = [e for e in lines if e["uri"] == "/logged?x=1"]
        assert hits
        assert not [e for e in lines if e["uri"] == "/elsewhere"]
        return hits[-1]

    entry = eventually(find)
    assert entry["router"] == proxy.kind and entry["app"] == "logged"
    assert (entry["host"], entry["method"], entry["status"]) == ("l.test", "GET", 200)
    assert entry["user_agent"] == "berth-test" and entry["request_id"]
    assert entry["size"] == 3 and entry["time"] > time.time() - 60


def test_caddy_internal_ca_issues_certificates(proxy: Proxy, backends: dict[str, str]) -> None:
    if proxy.kind != "caddy":
        assert any("ACME" in x for x in proxy.router.status()["lacks"])
        pytest.skip("ACME is Caddy's; nginx says so in router:report")
    proxy.apply([Route("auto", ("auto.test",), (backends["one"],), tls="auto")])
    root_ca = proxy.root / "caddy/data/caddy/pki/authorities/local/root.crt"
    status, body, _ = eventually(lambda: proxy.request("auto.test", cafile=str(root_ca)), 20)
    assert (status, body) == (200, b"one")


def test_status_reports_routes(proxy: Proxy, backends: dict[str, str]) -> None:
    proxy.apply([Route("app-a", ("a.test",), (backends["one"],)),
                 Route("app-m", ("m.test",), (backends["two"],), maintenance=True)])
    status = proxy.router.status()
    assert status["running"] is True and status["router"] == proxy.kind
    routes = {r["app"]: r for r in status["routes"]}
    assert routes["app-a"]["hosts"] == ["a.test"]
    assert routes["app-a"]["upstreams"] == [backends["one"]]
    assert routes["app-a"]["state"] == "up" and routes["app-m"]["state"] == "maintenance"


def test_nginx_broken_app_config_leaves_the_others_serving(
        proxy: Proxy, backends: dict[str, str]) -> None:
    if proxy.kind != "nginx":
        pytest.skip("per-app config files are nginx's")
    good = [Route("app-a", ("a.test",), (backends["one"],)),
            Route("app-b", ("b.test",), (backends["two"],))]
    proxy.apply(good)
    broken = Route("app-b", ("b.test", "b2.test"), (backends["three"],),
                   snippet="this_is_not_a_directive on;")
    with pytest.raises(RouterError, match="app-b") as err:
        proxy.apply([Route("app-a", ("a.test", "a2.test"), (backends["one"],)), broken])
    assert "this_is_not_a_directive" in str(err.value)
    # app-a's change went live; app-b keeps its last good config
    assert proxy.request("a2.test")[:2] == (200, b"one")
    assert proxy.request("b.test")[:2] == (200, b"two")
    assert proxy.request("b2.test")[0] == 404
    assert "app-b" in proxy.router.status()["errors"]
    # fixed: the error is gone
    proxy.apply(good)
    assert proxy.router.status()["errors"] == {}
    assert proxy.request("b.test")[:2] == (200, b"two")
