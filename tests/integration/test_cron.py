"""Cron for real: app.json entries listed, one run on demand (exit code, output, events,
app log) and one fired by `berth server` on its schedule; a bad schedule refuses the push."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration

EVERY_MINUTE = {"schedule": "* * * * *", "command": "echo cron-fired-as-$DYNO"}
MANUAL = {"schedule": "0 0 1 1 *", "command": "echo manual-run; echo to-stderr >&2; exit 4"}


def test_cron_entries_run_on_demand_and_on_schedule(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "cron1")
    (repo / "app.json").write_text(json.dumps({"cron": [EVERY_MINUTE, MANUAL]}))
    commit(repo, "cron")
    pushed_at = time.monotonic()
    res = push(berth_env, repo, berth_env.ssh_remote("cron1"))
    assert res.returncode == 0, res.stdout + res.stderr

    entries = json.loads(berth_env.berth("cron:list", "cron1", "--format", "json").stdout)
    assert [(e["schedule"], e["command"]) for e in entries] == \
        [(EVERY_MINUTE["schedule"], EVERY_MINUTE["command"]),
         (MANUAL["schedule"], MANUAL["command"])]
    every, manual = entries
    assert manual["next_run"].endswith("-01-01T00:00:00Z")
    text = berth_env.berth("cron:list", "cron1").stdout
    assert every["id"] in text and "next run" in text

    # on demand, over SSH: its output and exit code
    res = berth_env.ssh(f"cron:run cron1 {manual['id']}")
    assert res.returncode == 4, res.stderr
    assert "manual-run" in res.stdout and "to-stderr" in res.stdout
    bad = berth_env.ssh("cron:run cron1 0000000000")
    assert bad.returncode == 3 and "no cron entry" in bad.stderr

    # on schedule: within a minute (plus the server's 5 s tick) of the push
    deadline = pushed_at + 75
    fired: list[dict] = []
    while time.monotonic() < deadline and not fired:
        evs = json.loads(berth_env.berth("events", "cron1", "--format", "json", "-n",
                                         "100").stdout)
        fired = [e for e in evs if e["action"] == "cron.finish"
                 and e["details"]["trigger"] == "schedule"]
        time.sleep(1)
    assert fired, "the every-minute entry never ran"
    assert fired[0]["actor"] == "cron"
    assert fired[0]["details"]["id"] == every["id"] and fired[0]["details"]["exit_code"] == 0

    evs = json.loads(berth_env.berth("events", "cron1", "--format", "json", "-n",
                                     "100").stdout)
    manual_runs = [e for e in evs if e["action"] in ("cron.start", "cron.finish")
                   and e["details"]["trigger"] == "manual"]
    assert [(e["action"], e["actor"]) for e in manual_runs] == \
        [("cron.start", "tester"), ("cron.finish", "tester")]
    assert manual_runs[1]["details"]["exit_code"] == 4
    assert "manual-run" not in json.dumps(evs)  # commands and output stay out of events

    logs = berth_env.berth("logs", "cron1", "-p", "cron").stdout
    assert f"app[cron.{manual['id']}]: manual-run" in logs
    assert f"app[cron.{every['id']}]: cron-fired-as-cron." in logs
    # nothing is left running or lying around
    ps = berth_env.berth("apps:report", "cron1", "--format", "json").stdout
    assert [c for c in json.loads(ps)["containers"] if ".cron." in c] == []
    berth_env.berth("apps:destroy", "cron1", "--force")


def test_a_bad_cron_entry_refuses_the_push(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "cron2")
    assert push(berth_env, repo, berth_env.ssh_remote("cron2")).returncode == 0
    (repo / "app.json").write_text(json.dumps(
        {"cron": [{"schedule": "*/5 * * *", "command": "date"}]}))
    commit(repo, "bad cron")
    res = push(berth_env, repo, berth_env.ssh_remote("cron2"))
    assert res.returncode != 0
    assert "invalid app.json cron[0].schedule" in res.stderr
    assert "hello from static" in berth_env.get("cron2")[1]
    assert json.loads(berth_env.berth("cron:list", "cron2", "--format", "json").stdout) == []
    berth_env.berth("apps:destroy", "cron2", "--force")
