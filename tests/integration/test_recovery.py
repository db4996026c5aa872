"""A crashed web process answers again through the router within seconds: the engine's restart
policy brings the container back, and Caddy dials it again once its short passive
health-check spell (1 s) is over."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, make_repo, push

pytestmark = pytest.mark.integration


def _web_container(app: str) -> str:
    from berth.instance import prefix

    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=berth.instance={prefix()}",
                          "--filter", f"label=berth.app={app}",
                          "--filter", "label=berth.process=web"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(ids) == 1, ids
    return ids[0]


def _inspect(cid: str, fmt: str) -> str:
    return subprocess.run(["docker", "inspect", "-f", fmt, cid], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_crashed_web_process_is_served_again_within_seconds(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "revive")
    res = push(berth_env, repo, berth_env.ssh_remote("revive"))
    assert res.returncode == 0, res.stdout + res.stderr
    berth_env.wait_for("revive", "hello from flask")
    cid = _web_container("revive")
    took = []
    for _ in range(2):
        time.sleep(1.0)
        start = time.monotonic()
        os.kill(int(_inspect(cid, "{{.State.Pid}}")), signal.SIGKILL)  # as an OOM kill would
        berth_env.wait_for("revive", "hello from flask", timeout=30)
        took.append(time.monotonic() - start)
    assert int(_inspect(cid, "{{.RestartCount}}")) >= 2  # the engine restarted it, in place
    # Caddy's passive health check used to set the only upstream aside for 5 s
    assert min(took) < 4.0, took
