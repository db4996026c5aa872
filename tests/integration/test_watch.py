"""`berth server` reconciles as soon as the engine reports one of its containers died or was
removed: with timed passes a minute apart, a killed or removed web container is replaced
and served again within seconds."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.integration.conftest import APPS
from tests.integration.private import Site, private_site, wait_until

pytestmark = pytest.mark.integration
APP = "watched"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with private_site(tmp_path_factory.mktemp("watch")) as s:
        s.deploy(APP, APPS / "static", "hello from static")
        s.kill_server()
        s.start_server(interval=60)  # only engine events can explain a quick repair
        time.sleep(2)  # the first pass is over and the watcher follows the events
        yield s


def web(site: Site) -> list[dict[str, str]]:
    return [c for c in site.containers(APP) if c["role"] != "oneoff"]


@pytest.mark.parametrize("how", [["kill"], ["rm", "-f"]])
def test_a_dead_container_is_replaced_at_once(site: Site, how: list[str]) -> None:
    [before] = web(site)
    subprocess.run(["docker", *how, before["name"]], check=True, capture_output=True,
                   timeout=60)
    start = time.monotonic()

    def serving_again() -> bool:
        running = [c for c in web(site) if c["state"] == "running"]
        if not running:
            return False
        try:
            return site.env.get(APP)[0] == 200
        except OSError:
            return False

    wait_until("the app to be served again", serving_again, timeout=20, step=0.1)
    assert time.monotonic() - start < 20  # passes are 60 s apart: events woke the server
    assert "reconcile failed" not in site.server_log()


def test_crashes_the_engine_restarts_change_no_route(site: Site) -> None:
    """The engine's restart policy brings a crashed process back (after a backoff that
    doubles with each crash); the pass woken by its death waits for that instead of routing
    the app to "no web process" and back. A Flask app, crashed repeatedly as the bench does:
    it takes long enough to come back for that pass to see it down."""
    site.deploy("crashy", APPS / "flask", "hello from flask")
    time.sleep(2)
    hashes = site.env.root / "caddy" / "applied.sha256"
    applied = (hashes.read_text(), hashes.stat().st_mtime_ns)  # rewritten by every load
    [before] = [c for c in site.containers("crashy") if c["role"] != "oneoff"]
    for _ in range(4):
        pid = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", before["name"]],
                             capture_output=True, text=True, check=True,
                             timeout=60).stdout.strip()
        subprocess.run(["kill", "-9", pid], check=True, timeout=10)
        time.sleep(0.3)
        wait_until("the app to be served again",
                   lambda: site.env.get("crashy", timeout=3)[0] == 200, timeout=30, step=0.05)
        time.sleep(1.0)
    [after] = [c for c in site.containers("crashy") if c["role"] != "oneoff"]
    assert after["name"] == before["name"] and after["state"] == "running"
    assert (hashes.read_text(), hashes.stat().st_mtime_ns) == applied  # no load at all
