"""Deploys, scaling, config changes and rollbacks reach Caddy through berth's resolver, not
a config reload (a reload drops requests under load): checked with a real Caddy, pushes over
SSH and pollers on new and kept-alive connections. The resolver is a process of its own that
outlives `berth server`, and a dead or hung one is replaced."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import APPS
from tests.integration.private import Site, private_site, wait_until

pytestmark = pytest.mark.integration
APP = "dnsapp"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with private_site(tmp_path_factory.mktemp("resolver")) as s:
        s.deploy(APP, APPS / "flask", "hello from flask")
        yield s


def applied(site: Site) -> tuple[str, int]:
    """The hashes of the last config load, and when it was written (every load rewrites it)."""
    path = site.env.root / "caddy" / "applied.sha256"
    return path.read_text(), path.stat().st_mtime_ns


def live_proxies(site: Site) -> list[dict[str, Any]]:
    from berth.routers import caddy

    config = caddy.read_config(site.env.root)
    out = []
    for srv in config["apps"]["http"]["servers"].values():
        for route in srv.get("routes", []):
            if route.get("@id", "").startswith(f"berth.app.{APP}."):
                out += [h for h in route["handle"] if h.get("handler") == "reverse_proxy"]
    return out


class Pollers:
    """Two clients on new connections and two on kept-alive ones, each request checked,
    until stopped (at most 300 s)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.count = 0
        self.threads = [threading.Thread(target=self.run, args=(keep,)) for keep in
                        (False, False, True, True)]

    def run(self, keep: bool) -> None:
        deadline = time.monotonic() + 300
        conn: http.client.HTTPConnection | None = None
        while not self.stop.is_set() and time.monotonic() < deadline:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                conn.request("GET", "/env/GEN", headers={"Host": f"{APP}.localhost"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    self.failures.append(f"{resp.status} {body[:80]!r}")
            except (OSError, http.client.HTTPException) as e:
                self.failures.append(repr(e))
                conn.close()
                conn = None
            self.count += 1
            if not keep and conn is not None:
                conn.close()
                conn = None
            time.sleep(0.005)
        if conn is not None:
            conn.close()

    def __enter__(self) -> Pollers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def test_container_changes_need_no_caddy_reload_and_drop_nothing(site: Site) -> None:
    env = site.env
    [proxy] = live_proxies(site)
    port = int((env.root / "caddy" / "resolver.port").read_text())
    assert proxy["dynamic_upstreams"]["resolver"]["addresses"] == [f"udp/127.0.0.1:{port}"]
    before = applied(site)
    with Pollers(env.router_port) as polls:
        for gen in ("1", "2"):
            env.berth("config:set", APP, f"GEN={gen}", timeout=300)
            assert env.get(APP, "/env/GEN") == (200, gen)
        env.berth("ps:scale", APP, "web=2", timeout=300)
        table = json.loads((env.root / "caddy" / "upstreams.json").read_text())
        assert len(table[f"{APP}.berth.internal."]) == 2
        env.berth("ps:scale", APP, "web=1", timeout=300)
        env.berth("releases:rollback", APP, timeout=300)
        assert env.get(APP, "/env/GEN") == (200, "1")
        time.sleep(1.5)  # requests after the last retire are checked too
    assert polls.count > 100
    assert polls.failures == []
    assert applied(site) == before  # not one config load: the resolver told Caddy
    report = json.loads(env.berth("router:report", "--format", "json").stdout)
    [route] = [r for r in report["routes"] if r["app"] == APP]
    ips = [c["ip"] for c in site.containers(APP)
           if c["state"] == "running" and c["role"] != "oneoff"]
    assert [u.rsplit(":", 1)[0] for u in route["upstreams"]] == sorted(ips)


def resolver_pid(site: Site) -> int | None:
    from berth.routers import resolver

    return resolver._daemon(site.env.root / "caddy").pid()


def test_resolver_outlives_the_server_and_comes_back_when_killed(site: Site) -> None:
    env = site.env
    port = (env.root / "caddy" / "resolver.port").read_text()
    pid = resolver_pid(site)
    assert pid is not None
    site.kill_server()
    try:
        before = applied(site)
        env.berth("config:set", APP, "GEN=down", timeout=300)
        assert env.get(APP, "/env/GEN") == (200, "down")
        assert applied(site) == before  # still no reload: the resolver runs on its own
        assert resolver_pid(site) == pid
    finally:
        site.start_server()
    os.kill(pid, signal.SIGKILL)
    # the server's next pass starts a new one on the same port
    wait_until("a new resolver", lambda: resolver_pid(site) not in (None, pid), timeout=30,
               step=0.1)
    assert (env.root / "caddy" / "resolver.port").read_text() == port
    env.berth("config:set", APP, "GEN=up", timeout=300)
    assert env.get(APP, "/env/GEN") == (200, "up")


def test_a_hung_resolver_is_replaced_and_caddy_gets_current_upstreams(site: Site) -> None:
    env = site.env
    pid = resolver_pid(site)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # alive but deaf: ensure_running must replace it
    try:
        env.berth("ps:scale", APP, "web=2", timeout=300)
        assert resolver_pid(site) not in (None, pid)
        ips = {c["ip"] for c in site.containers(APP)
               if c["state"] == "running" and c["role"] != "oneoff"}
        table = json.loads((env.root / "caddy" / "upstreams.json").read_text())
        assert len(ips) == 2 and set(table[f"{APP}.berth.internal."]) == ips
        assert env.get(APP, "/env/GEN")[0] == 200
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    env.berth("ps:scale", APP, "web=1", timeout=300)
