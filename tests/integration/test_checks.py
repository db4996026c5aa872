"""Checks and app.json scripts for real: a failing predeploy or content check aborts and the
old release keeps serving; postdeploy runs after the switch; command and uptime checks run
inside the containers; checks:skip/disable/set change what a deploy does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration


def rels(env: Env, app: str) -> list[dict]:
    return json.loads(env.berth("releases", app, "--format", "json").stdout)


def started(env: Env, tmp_path: Path, app: str) -> Path:
    repo = make_repo(APPS / "flask", tmp_path / app)
    res = push(env, repo, env.ssh_remote(app))
    assert res.returncode == 0, res.stdout + res.stderr
    return repo


def push_app_json(env: Env, repo: Path, app: str, data: dict, text: str | None = None):
    (repo / "app.json").write_text(json.dumps(data))
    if text:
        app_py = repo / "app.py"
        app_py.write_text(re.sub(r'return "hello[^"]*"', f'return "{text}"', app_py.read_text()))
    commit(repo, "app.json")
    res = push(env, repo, env.ssh_remote(app))
    return res.returncode, res.stdout + res.stderr


def test_failing_predeploy_aborts_and_the_old_release_serves(berth_env: Env, tmp_path: Path):
    repo = started(berth_env, tmp_path, "predep")
    code, out = push_app_json(berth_env, repo, "predep", {"scripts": {
        "predeploy": "echo predeploy ran in $BERTH_RELEASE; exit 3"}}, "hello v2")
    assert code != 0
    assert "-----> Running the predeploy script" in out and "predeploy ran in v2" in out
    assert "the predeploy script failed with exit code 3" in out
    assert "Starting v2" not in out
    assert berth_env.get("predep") == (200, "hello from flask")
    assert [(r["version"], r["status"]) for r in rels(berth_env, "predep")] == \
        [(2, "failed"), (1, "succeeded")]


def test_postdeploy_runs_after_the_switch_and_its_failure_is_reported(berth_env: Env,
                                                                       tmp_path: Path):
    repo = started(berth_env, tmp_path, "postdep")
    code, out = push_app_json(berth_env, repo, "postdep", {"scripts": {
        "predeploy": "echo predeploy ok",
        "postdeploy": "echo postdeploy ran in $BERTH_RELEASE"}})
    assert code == 0, out
    assert out.index("predeploy ok") < out.index("Switching traffic") < \
        out.index("postdeploy ran in v2")
    code, out = push_app_json(berth_env, repo, "postdep", {"scripts": {
        "postdeploy": "exit 5"}}, "hello v3")
    assert code == 0, out
    assert "the postdeploy script failed with exit code 5; v3 is deployed" in out
    berth_env.wait_for("postdep", "hello v3", timeout=10)


def test_content_check_mismatch_aborts(berth_env: Env, tmp_path: Path):
    repo = started(berth_env, tmp_path, "content")
    code, out = push_app_json(berth_env, repo, "content", {"healthchecks": {"web": [
        {"path": "/", "content": "no such text", "attempts": 3, "wait": 0.2}]}}, "hello v2")
    assert code != 0
    assert "-----> Checking web.1" in out
    assert "GET / for 'no such text' (3 attempts, 0.2s apart, timeout 5s)" in out
    assert "failed its checks: / did not contain 'no such text'" in out
    assert berth_env.get("content") == (200, "hello from flask")
    # the right content passes, and the check is shown as it runs
    code, out = push_app_json(berth_env, repo, "content", {"healthchecks": {"web": [
        {"name": "greeting", "path": "/", "content": "hello v3"}]}}, "hello v3")
    assert code == 0, out
    assert "greeting" in out and "GET / for 'hello v3'" in out and "passed on attempt" in out
    assert berth_env.get("content") == (200, "hello v3")


def test_command_and_uptime_checks_run_in_the_container(berth_env: Env, tmp_path: Path):
    repo = started(berth_env, tmp_path, "cmdcheck")
    (repo / "Procfile").write_text(
        "web: python app.py\nworker: python -c \"import time; time.sleep(100000)\"\n")
    good = {"formation": {"worker": {"quantity": 1}}, "healthchecks": {
        "web": [{"command": ["python", "-c",
                             "import os, urllib.request; urllib.request.urlopen("
                             "'http://127.0.0.1:%s/' % os.environ['PORT'])"],
                 "attempts": 20, "wait": 0.3}],
        "worker": [{"uptime": 2}]}}
    code, out = push_app_json(berth_env, repo, "cmdcheck", good)
    assert code == 0, out
    assert "command python -c 'import os, urllib.request" in out
    assert "-----> Checking worker.1" in out and "up for 2s without a restart" in out
    bad = {"healthchecks": {"web": [{"command": ["/bin/sh", "-c",
                                                 "echo not ready yet; exit 4"],
                                     "attempts": 2, "wait": 0.1}]}}
    code, out = push_app_json(berth_env, repo, "cmdcheck", bad, "hello v3")
    assert code != 0
    assert "| not ready yet" in out and "command /bin/sh exited with code 4" in out
    assert berth_env.get("cmdcheck") == (200, "hello from flask")


def test_checks_settings_skip_disable_and_report(berth_env: Env, tmp_path: Path):
    repo = started(berth_env, tmp_path, "modes")
    bad = berth_env.berth("checks:set", "modes", "attempts", "0", check=False)
    assert bad.returncode == 2 and "from 1 to 1000" in bad.stderr
    berth_env.berth("checks:set", "modes", "wait-to-retire", "0.5")
    berth_env.berth("checks:set", "modes", "attempts", "50")
    berth_env.berth("checks:skip", "modes", "web")
    rep = json.loads(berth_env.berth("checks:report", "modes", "--format", "json").stdout)
    assert rep["skipped"] == ["web"] and rep["modes"]["web"] == "skipped"
    assert (rep["attempts"], rep["wait_to_retire"]) == (50, 0.5)
    berth_env.berth("config:set", "modes", "A=1")
    code, out = push_app_json(berth_env, repo, "modes", {}, "hello v3")
    assert code == 0, out
    assert "-----> Checks skipped for web.1" in out
    assert "Retiring old containers in 0.5s" in out
    berth_env.wait_for("modes", "hello v3", timeout=10)
    berth_env.berth("checks:disable", "modes")
    code, out = push_app_json(berth_env, repo, "modes", {}, "hello v4")
    assert code == 0, out
    assert "(checks disabled for web)" in out and "Checks disabled for web.1" in out
    berth_env.wait_for("modes", "hello v4", timeout=10)
    berth_env.berth("checks:enable", "modes")
    rep = json.loads(berth_env.berth("checks:report", "modes", "--format", "json").stdout)
    assert rep["disabled"] == [] and rep["skipped"] == [] and rep["modes"]["web"] == "checked"
    assert rep["healthchecks"]["web"][0].startswith("any HTTP answer on port 5000 (50 attempts")
    code, out = push_app_json(berth_env, repo, "modes", {}, "hello v5")
    assert code == 0 and "-----> Checking web.1" in out
