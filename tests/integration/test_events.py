"""The audit log for real: who did what, from a push over SSH to a destroy, with config keys
but never their values, followed live over SSH."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, make_repo, push

pytestmark = pytest.mark.integration


def events(env: Env, *args: str) -> list[dict]:
    return json.loads(env.berth("events", *args, "--format", "json", "-n", "500").stdout)


def test_events_carry_the_actor_and_never_config_values(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "ev1")
    res = push(berth_env, repo, berth_env.ssh_remote("ev1"))  # as the SSH key's user, tester
    assert res.returncode == 0, res.stdout + res.stderr
    assert berth_env.ssh("config:set ev1 SECRET_TOKEN=hunter2-value").returncode == 0
    berth_env.berth("config:set", "ev1", "LOCAL_KEY=local-value")
    berth_env.berth("resource:limit", "ev1", "--memory", "200m")
    berth_env.berth("storage:ensure-directory", "ev1-data")
    berth_env.berth("storage:mount", "ev1", f"{berth_env.root}/storage/ev1-data:/data")

    evs = events(berth_env, "ev1")
    got = [(e["actor"], e["action"]) for e in evs]
    assert got[:3] == [("tester", "app.create"), ("tester", "deploy"),
                       ("tester", "config.set")]
    assert ("root", "config.set") in got and ("root", "resource.limit") in got
    assert ("root", "storage.mount") in got
    deploys = [e for e in evs if e["action"] == "deploy"]
    assert [e["actor"] for e in deploys] == ["tester", "tester", "root"]
    assert deploys[0]["details"]["release"] == 1
    config = [e for e in evs if e["action"] == "config.set"]
    assert config[0]["details"] == {"keys": ["SECRET_TOKEN"]}
    everything = json.dumps(events(berth_env))
    assert "hunter2-value" not in everything and "local-value" not in everything
    assert all(e["app"] == "ev1" for e in evs)
    # the global log has the rest (keys, storage directories) too
    assert any(e["action"] == "ssh-key.add" and e["app"] is None
               for e in events(berth_env))
    assert any(e["action"] == "storage.ensure-directory" for e in events(berth_env))
    text = berth_env.berth("events", "ev1", "-n", "2").stdout.splitlines()
    assert len(text) == 2 and "root  ev1  storage.mount" in text[-1]

    # scaling and a rollback over SSH are the key's user's too
    assert berth_env.ssh("ps:scale ev1 web=2").returncode == 0
    assert berth_env.ssh("releases:rollback ev1 v1").returncode == 0
    later = [(e["actor"], e["action"]) for e in events(berth_env, "ev1")[len(evs):]]
    assert ("tester", "ps.scale") in later and ("tester", "release.rollback") in later

    # destroyed apps keep their history
    berth_env.berth("apps:destroy", "ev1", "--force")
    last = events(berth_env, "ev1")[-1]
    assert (last["actor"], last["action"]) == ("root", "app.destroy")
    bad = berth_env.berth("events", "Not_An_App", check=False)
    assert bad.returncode == 2


def test_events_follow_over_ssh(berth_env: Env):
    berth_env.berth("apps:create", "ev2")
    argv = ["ssh", "-p", str(berth_env.ssh_port), "-i", str(berth_env.key), "-o",
            "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o",
            "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-T", "root@127.0.0.1",
            "events ev2 -t -n 1 --format json"]
    client = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        assert client.stdout is not None
        first = json.loads(client.stdout.readline())
        assert first["action"] == "app.create"
        time.sleep(0.5)
        berth_env.berth("config:set", "ev2", "--no-restart", "LIVE=1")
        live = json.loads(client.stdout.readline())
        assert (live["actor"], live["action"], live["details"]) == \
            ("root", "config.set", {"keys": ["LIVE"]})
    finally:
        client.kill()
        client.wait()
