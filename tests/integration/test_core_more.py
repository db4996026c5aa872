"""More of the core loop: the per-app deploy lock, rename, global config, a failing release
command, and the server bringing a dead Caddy back."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration


def test_second_push_waits_for_the_lock_then_deploys(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "locked")
    assert push(berth_env, repo, berth_env.ssh_remote("locked")).returncode == 0
    lock = berth_env.root / "locks" / "app-locked.lock"
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    (repo / "index.html").write_text("<p>hello from static v2</p>")
    commit(repo, "v2")
    result: dict[str, subprocess.CompletedProcess[str]] = {}
    t = threading.Thread(target=lambda: result.setdefault(
        "r", push(berth_env, repo, berth_env.ssh_remote("locked"))))
    t.start()
    time.sleep(4)
    assert "hello from static v2" not in berth_env.get("locked")[1]
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    t.join(timeout=300)
    res = result["r"]
    assert res.returncode == 0, res.stderr
    assert "Waiting for another deploy of locked to finish" in res.stderr
    berth_env.wait_for("locked", "hello from static v2", timeout=10)


def test_lock_timeout_fails_clearly_and_changes_nothing(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "lt")
    assert push(berth_env, repo, berth_env.ssh_remote("lt")).returncode == 0
    berth_env.berth("settings:set", "lock-timeout", "2")
    fd = os.open(berth_env.root / "locks" / "app-lt.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        (repo / "index.html").write_text("<p>never</p>")
        commit(repo, "v2")
        res = push(berth_env, repo, berth_env.ssh_remote("lt"))
        assert res.returncode != 0
        assert "timed out after 2s waiting for another deploy of lt" in res.stderr
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        berth_env.berth("settings:set", "lock-timeout")
    rels = json.loads(berth_env.berth("releases", "lt", "--format", "json").stdout)
    assert len(rels) == 1
    assert "hello from static" in berth_env.get("lt")[1]


def test_rename_keeps_releases_and_config(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "ren")
    assert push(berth_env, repo, berth_env.ssh_remote("ren-old")).returncode == 0
    berth_env.berth("config:set", "ren-old", "KEEP=me")
    berth_env.berth("apps:rename", "ren-old", "ren-new")
    assert berth_env.berth("apps:exists", "ren-old", check=False).returncode == 3
    berth_env.wait_for("ren-new", "hello from flask")
    assert berth_env.get("ren-new", "/env/KEEP") == (200, "me")
    assert berth_env.get("ren-old")[0] == 404
    rels = json.loads(berth_env.berth("releases", "ren-new", "--format", "json").stdout)
    assert len(rels) == 2
    ps = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True,
                        text=True).stdout
    assert ".ren-old." not in ps
    # pushing to the new name deploys it
    (repo / "app.py").write_text((repo / "app.py").read_text().replace("hello from flask",
                                                                        "hello renamed"))
    commit(repo, "v2")
    assert push(berth_env, repo, berth_env.ssh_remote("ren-new")).returncode == 0
    berth_env.wait_for("ren-new", "hello renamed")


def test_global_config_reaches_apps_and_app_config_wins(berth_env: Env, tmp_path: Path):
    berth_env.berth("config:set", "--global", "GLOBAL_ONE=g", "SHARED=global")
    repo = make_repo(APPS / "flask", tmp_path / "glob")
    assert push(berth_env, repo, berth_env.ssh_remote("glob")).returncode == 0
    berth_env.berth("config:set", "glob", "SHARED=app")
    assert berth_env.get("glob", "/env/GLOBAL_ONE") == (200, "g")
    assert berth_env.get("glob", "/env/SHARED") == (200, "app")
    shown = json.loads(berth_env.berth("config:show", "--global", "--format", "json").stdout)
    assert shown["GLOBAL_ONE"] == "g"
    berth_env.berth("config:unset", "--global", "GLOBAL_ONE", "SHARED")


def test_failing_release_command_aborts(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "relfail")
    assert push(berth_env, repo, berth_env.ssh_remote("relfail")).returncode == 0
    (repo / "Procfile").write_text("web: python app.py\nrelease: echo migrating; exit 4\n")
    (repo / "app.py").write_text((repo / "app.py").read_text().replace("hello from flask",
                                                                        "should not serve"))
    commit(repo, "bad release")
    res = push(berth_env, repo, berth_env.ssh_remote("relfail"))
    assert res.returncode != 0
    assert "migrating" in res.stderr and "release command failed with exit code 4" in res.stderr
    assert berth_env.get("relfail") == (200, "hello from flask")


def test_unknown_tree_is_a_clear_build_error(berth_env: Env, tmp_path: Path):
    repo = tmp_path / "nothing"
    repo.mkdir()
    (repo / "README").write_text("no app here\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    commit(repo, "empty")
    res = push(berth_env, repo, berth_env.ssh_remote("nothing"))
    assert res.returncode != 0
    assert "Dockerfile" in res.stderr and "requirements.txt" in res.stderr


def test_server_restarts_a_dead_caddy_with_routes(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "phoenix")
    assert push(berth_env, repo, berth_env.ssh_remote("phoenix")).returncode == 0
    pid = int((berth_env.root / "caddy" / "caddy.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if "hello from static" in berth_env.get("phoenix", timeout=2)[1]:
                break
        except OSError:
            pass
        time.sleep(0.5)
    else:
        raise AssertionError("Caddy did not come back with the app's route")
    assert int((berth_env.root / "caddy" / "caddy.pid").read_text().split()[0]) != pid
