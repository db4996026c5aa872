"""Persistent storage for real: a directory owned by the app user, mounted on the next deploy,
written by the app, still there after a redeploy, a rebuild and a rollback; paths are checked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration


def sh(env: Env, app: str, process: str, script: str) -> subprocess.CompletedProcess[str]:
    return env.berth("enter", app, process, "sh", "-c", script, input="", check=False)


def test_mounted_data_survives_redeploy_and_rollback(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "vol1")
    assert push(berth_env, repo, berth_env.ssh_remote("vol1")).returncode == 0

    out = berth_env.berth("storage:ensure-directory", "vol1-data").stdout
    data = berth_env.root / "storage" / "vol1-data"
    assert str(data) in out and data.is_dir()
    assert (data.stat().st_uid, data.stat().st_gid) == (1000, 1000)
    res = berth_env.ssh(f"storage:mount vol1 {data}:/app/data")
    assert res.returncode == 0 and "next deploy" in res.stdout, res.stderr
    listed = json.loads(berth_env.berth("storage:list", "vol1", "--format", "json").stdout)
    assert listed == [{"host": str(data), "container": "/app/data", "read_only": False,
                       "exists": True}]
    # not mounted until the next deploy or restart
    assert sh(berth_env, "vol1", "web.1", "test -d /app/data").returncode != 0

    berth_env.berth("ps:restart", "vol1")  # a restart applies it
    # the app (uid 1000) writes to it; so does a one-off
    res = sh(berth_env, "vol1", "web.1", "id -u; echo from-web > /app/data/kept.txt")
    assert (res.returncode, res.stdout) == (0, "1000\n"), res.stderr
    res = berth_env.berth("run", "vol1", "sh", "-c", "cat /app/data/kept.txt; "
                          "echo from-run >> /app/data/kept.txt", input="")
    assert res.stdout == "from-web\n"
    assert (data / "kept.txt").read_text() == "from-web\nfrom-run\n"

    # a redeploy with new code keeps it, and so do a rebuild and a rollback to v1
    (repo / "app.py").write_text((repo / "app.py").read_text().replace(
        "hello from flask", "hello from flask v2"))
    commit(repo, "v2")
    assert push(berth_env, repo, berth_env.ssh_remote("vol1")).returncode == 0
    berth_env.wait_for("vol1", "hello from flask v2")
    assert sh(berth_env, "vol1", "web.1", "cat /app/data/kept.txt").stdout == \
        "from-web\nfrom-run\n"
    berth_env.berth("ps:rebuild", "vol1")
    assert sh(berth_env, "vol1", "web.1", "echo rebuilt >> /app/data/kept.txt").returncode == 0
    berth_env.berth("releases:rollback", "vol1", "v1")
    berth_env.wait_for("vol1", "hello from flask")
    assert "v2" not in berth_env.get("vol1")[1]
    assert sh(berth_env, "vol1", "web.1", "cat /app/data/kept.txt").stdout == \
        "from-web\nfrom-run\nrebuilt\n"

    # unmount: the data stays on the host, the next deploy runs without it
    berth_env.berth("storage:unmount", "vol1", "/app/data")
    berth_env.berth("config:set", "vol1", "AFTER_UNMOUNT=1")
    assert sh(berth_env, "vol1", "web.1", "test -e /app/data/kept.txt").returncode != 0
    assert (data / "kept.txt").exists()
    report = json.loads(berth_env.berth("storage:report", "--format", "json").stdout)
    assert "vol1-data" in report["directories"] and report["apps"]["vol1"] == []
    berth_env.berth("apps:destroy", "vol1", "--force")
    assert (data / "kept.txt").exists()  # destroying the app keeps its data


def test_paths_are_checked_and_outside_paths_need_the_flag(berth_env: Env, tmp_path: Path):
    berth_env.berth("apps:create", "vol2")
    berth_env.berth("storage:ensure-directory", "vol2-data")
    data = berth_env.root / "storage" / "vol2-data"
    cases = [
        (f"{data}:/proc/x", "system directory"),
        (f"{data}:/", "system directory"),
        (f"{data}:relative", "absolute path"),
        (f"{data}/../../berth.db:/x", "without '..'"),
        (f"{data}:/a:/b", "/host/path:/container/path"),
        (f"{berth_env.root}:/state", "cannot be mounted"),
        ("/var/run/docker.sock:/var/run/docker.sock", "cannot be mounted"),
    ]
    for spec, why in cases:
        res = berth_env.berth("storage:mount", "vol2", spec, check=False)
        assert res.returncode == 2 and why in res.stderr, (spec, res.stderr)
    outside = tmp_path / "outside"
    outside.mkdir()
    res = berth_env.berth("storage:mount", "vol2", f"{outside}:/srv/x", check=False)
    assert res.returncode == 2 and "--allow-host-path" in res.stderr
    bad_name = berth_env.berth("storage:ensure-directory", "../escape", check=False)
    assert bad_name.returncode == 2
    assert json.loads(berth_env.berth("storage:list", "vol2", "--format", "json").stdout) == []
    # an admin may allow it; over SSH the flag is refused to non-admins by permissions
    berth_env.berth("storage:mount", "vol2", f"{outside}:/srv/x:ro", "--allow-host-path")
    listed = json.loads(berth_env.berth("storage:list", "vol2", "--format", "json").stdout)
    assert listed[0]["read_only"] is True and listed[0]["host"] == str(outside)
