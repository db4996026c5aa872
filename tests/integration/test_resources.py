"""Resource limits for real: the cgroup inside the container shows them after the next
deploy, per process type; builds get theirs; bad values change nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration
MEM = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
SOFT = "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes"
QUOTA = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"
SHARES = "/sys/fs/cgroup/cpu/cpu.shares"


def cgroup(env: Env, app: str, process: str, path: str) -> int:
    res = env.berth("enter", app, process, "cat", path, input="")
    return int(res.stdout.strip())


def test_limits_reach_the_cgroup_on_the_next_deploy(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "res1")
    (repo / "Procfile").write_text("web: python app.py\nworker: sleep infinity\n")
    (repo / "app.json").write_text(json.dumps({"formation": {"worker": {"quantity": 1}}}))
    commit(repo, "worker")
    assert push(berth_env, repo, berth_env.ssh_remote("res1")).returncode == 0
    unlimited = cgroup(berth_env, "res1", "web.1", MEM)
    assert unlimited > 2**40

    berth_env.berth("resource:limit", "res1", "--memory", "256m", "--cpu", "0.5")
    berth_env.berth("resource:limit", "res1", "--process-type", "worker", "--memory", "96m")
    # a reservation above any type's limit is refused
    bad = berth_env.berth("resource:reserve", "res1", "--memory", "128m", check=False)
    assert bad.returncode == 2 and "limit (96m) of worker" in bad.stderr
    berth_env.berth("resource:reserve", "res1", "--memory", "64m", "--cpu", "0.25")
    # stored, not applied yet
    assert cgroup(berth_env, "res1", "web.1", MEM) == unlimited
    report = json.loads(berth_env.berth("resource:report", "res1", "--format", "json").stdout)
    assert report["effective"]["web"]["limit"] == {"memory": "256m", "cpu": 0.5}
    assert report["effective"]["worker"]["limit"] == {"memory": "96m", "cpu": 0.5}
    assert report["effective"]["worker"]["reserve"] == {"memory": "64m", "cpu": 0.25}

    berth_env.berth("config:set", "res1", "REDEPLOY=1")  # the next deploy applies them
    assert cgroup(berth_env, "res1", "web.1", MEM) == 256 * 2**20
    assert cgroup(berth_env, "res1", "web.1", QUOTA) == 50000
    assert cgroup(berth_env, "res1", "web.1", SOFT) == 64 * 2**20
    assert cgroup(berth_env, "res1", "web.1", SHARES) == 256
    assert cgroup(berth_env, "res1", "worker.1", MEM) == 96 * 2**20
    # one-offs get the app-wide limits too
    res = berth_env.berth("run", "res1", "cat", MEM, input="")
    assert int(res.stdout) == 256 * 2**20

    # the memory limit is enforced: allocating past it gets the process killed
    res = berth_env.berth("run", "res1", "python", "-c",
                          "b = bytearray(400 * 2**20); print('survived')", input="",
                          check=False)
    assert res.returncode == 137 and "survived" not in res.stdout

    # bad values are refused with the rule, and change nothing
    for args in (["--memory", "lots"], ["--cpu", "0"], ["--cpu", "1000"], []):
        bad = berth_env.berth("resource:limit", "res1", *args, check=False)
        assert bad.returncode == 2, bad.stderr
    assert "memory size" in berth_env.berth("resource:limit", "res1", "--memory", "1x",
                                            check=False).stderr
    after = json.loads(berth_env.berth("resource:report", "res1", "--format", "json").stdout)
    assert after == report

    berth_env.berth("resource:limit-clear", "res1")
    berth_env.berth("resource:reserve-clear", "res1")
    berth_env.berth("config:set", "res1", "REDEPLOY=2")
    assert cgroup(berth_env, "res1", "web.1", MEM) == unlimited
    assert cgroup(berth_env, "res1", "worker.1", MEM) == 96 * 2**20
    evs = json.loads(berth_env.berth("events", "res1", "--format", "json").stdout)
    assert [e["action"] for e in evs if e["action"].startswith("resource.")] == [
        "resource.limit", "resource.limit", "resource.reserve", "resource.limit-clear",
        "resource.reserve-clear"]
    berth_env.berth("apps:destroy", "res1", "--force")


def test_build_limits_apply_to_build_steps(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "dockerfile", tmp_path / "res2")
    dockerfile = repo / "Dockerfile"
    lines = dockerfile.read_text().splitlines()
    nonce = os.urandom(4).hex()  # a step the layer cache cannot skip
    lines.insert(1, f"RUN echo {nonce} build-memory-limit=$(cat {MEM})")
    dockerfile.write_text("\n".join(lines) + "\n")
    commit(repo, "show the build limit")
    berth_env.berth("apps:create", "res2")
    berth_env.berth("resource:limit", "res2", "--process-type", "build", "--memory", "300m")
    res = push(berth_env, repo, berth_env.ssh_remote("res2"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"build-memory-limit={300 * 2**20}" in res.stderr
    # the build output is kept with the release
    out = berth_env.berth("releases:output", "res2", "v1").stdout
    assert f"build-memory-limit={300 * 2**20}" in out
    # build limits are not the app's limits
    web = subprocess.run(["berth", "enter", "res2", "web.1", "cat", MEM], env=berth_env.env(),
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert int(web.stdout) > 2**40, web.stderr
    berth_env.berth("apps:destroy", "res2", "--force")
