"""Processes for real: scaling under a polling client, workers to zero, formation kept across
deploys, stop/start against the reconciler, restart with no failed request, rebuild, ps:set."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push
from tests.integration.poller import Poller

pytestmark = pytest.mark.integration

WORKER = ("worker: python -u -c \"import time; print('worker up', flush=True); "
          "time.sleep(100000)\"\n")


def report(env: Env, app: str) -> dict:
    return json.loads(env.berth("ps:report", app, "--format", "json").stdout)


def running(env: Env, app: str, ptype: str) -> list[str]:
    return sorted(c["name"] for c in report(env, app)["containers"]
                  if c["type"] == ptype and c["state"] == "running")


def deploy(env: Env, tmp_path: Path, app: str, procfile: str | None = None) -> Path:
    repo = make_repo(APPS / "flask", tmp_path / app)
    if procfile is not None:
        (repo / "Procfile").write_text(procfile)
        commit(repo, "procfile")
    res = push(env, repo, env.ssh_remote(app))
    assert res.returncode == 0, res.stdout + res.stderr
    env.wait_for(app, "hello from flask")
    return repo


def test_scale_web_up_and_down_drops_no_request(berth_env: Env, tmp_path: Path):
    deploy(berth_env, tmp_path, "scale")
    with Poller(berth_env, "scale", lambda s, b: s == 200 and b.startswith("web."),
                path="/env/DYNO") as poll:
        time.sleep(0.5)
        res = berth_env.berth("ps:scale", "scale", "web=3")
        assert "Checking web.2" in res.stdout and "Checking web.3" in res.stdout
        assert "Building" not in res.stdout  # no rebuild
        assert len(running(berth_env, "scale", "web")) == 3
        deadline = time.monotonic() + 20
        while poll.seen != {"web.1", "web.2", "web.3"} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert poll.seen == {"web.1", "web.2", "web.3"}  # the router uses all three
        res = berth_env.berth("ps:scale", "scale", "web=1")
        assert "Retiring 2 container(s)" in res.stdout
        time.sleep(1)
    assert poll.count > 100
    assert poll.failures == []
    assert running(berth_env, "scale", "web") == [f"{_prefix(berth_env)}.scale.web.1"]
    assert report(berth_env, "scale")["processes"]["web"]["scale"] == 1


def test_workers_scale_to_zero_and_formation_survives_deploys(berth_env: Env, tmp_path: Path):
    repo = deploy(berth_env, tmp_path, "workers", "web: python app.py\n" + WORKER)
    assert running(berth_env, "workers", "worker") == []  # non-web types start at 0
    res = berth_env.berth("ps:scale", "workers", "worker=2", "web=2")
    assert "Checking worker.1" in res.stdout and "up for 1.5s" in res.stdout
    assert len(running(berth_env, "workers", "worker")) == 2
    # a new deploy keeps the formation
    (repo / "app.py").write_text((repo / "app.py").read_text().replace("hello from flask",
                                                                      "hello from flask 2"))
    commit(repo, "v2")
    assert push(berth_env, repo, berth_env.ssh_remote("workers")).returncode == 0
    assert len(running(berth_env, "workers", "worker")) == 2
    assert len(running(berth_env, "workers", "web")) == 2
    # ps:restart keeps it too
    berth_env.berth("ps:restart", "workers")
    assert len(running(berth_env, "workers", "worker")) == 2
    berth_env.berth("ps:scale", "workers", "worker=0")
    assert running(berth_env, "workers", "worker") == []
    berth_env.berth("ps:scale", "workers", "worker=1")
    assert len(running(berth_env, "workers", "worker")) == 1
    # a type that leaves the Procfile stops on the next deploy
    (repo / "Procfile").write_text("web: python app.py\n")
    commit(repo, "no worker")
    assert push(berth_env, repo, berth_env.ssh_remote("workers")).returncode == 0
    assert running(berth_env, "workers", "worker") == []
    # bad input: a clear error and nothing changes
    bad = berth_env.berth("ps:scale", "workers", "nope=1", check=False)
    assert bad.returncode == 2 and "unknown process type 'nope'" in bad.stderr
    bad = berth_env.berth("ps:scale", "workers", "web=-1", check=False)
    assert bad.returncode == 2 and "an integer from 0 to 100" in bad.stderr
    assert report(berth_env, "workers")["processes"]["web"]["scale"] == 2


def test_stop_is_kept_by_the_reconciler_and_start_undoes_it(berth_env: Env, tmp_path: Path):
    deploy(berth_env, tmp_path, "stopper")
    berth_env.berth("ps:stop", "stopper")
    assert report(berth_env, "stopper")["stopped"] is True
    assert running(berth_env, "stopper", "web") == []
    assert berth_env.get("stopper")[0] == 503
    time.sleep(6)  # the server reconciles every 2 s: it must not restart a stopped app
    assert running(berth_env, "stopper", "web") == []
    assert berth_env.get("stopper")[0] == 503
    # docker start behind berth's back: the reconciler stops it again
    name = f"{_prefix(berth_env)}.stopper.web.1"
    subprocess.run(["docker", "start", name], check=True, capture_output=True)
    deadline = time.monotonic() + 20
    while running(berth_env, "stopper", "web") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert running(berth_env, "stopper", "web") == []
    berth_env.berth("ps:start", "stopper")
    rep = report(berth_env, "stopper")
    assert rep["stopped"] is False and rep["running"] is True
    assert berth_env.get("stopper") == (200, "hello from flask")
    time.sleep(5)
    assert len(running(berth_env, "stopper", "web")) == 1


def test_restart_drops_no_request_and_makes_no_release(berth_env: Env, tmp_path: Path):
    deploy(berth_env, tmp_path, "restarter")
    before = _ids(berth_env, "restarter")
    with Poller(berth_env, "restarter", lambda s, b: (s, b) == (200, "hello from flask")) as p:
        time.sleep(0.5)
        res = berth_env.berth("ps:restart", "restarter")
        assert "Checking web.1" in res.stdout
        time.sleep(1)
    assert p.count > 50 and p.failures == []
    assert _ids(berth_env, "restarter").isdisjoint(before)
    rels = json.loads(berth_env.berth("releases", "restarter", "--format", "json").stdout)
    assert len(rels) == 1


def test_rebuild_makes_a_new_release_of_the_same_commit(berth_env: Env, tmp_path: Path):
    deploy(berth_env, tmp_path, "rebuilt")
    res = berth_env.ssh("ps:rebuild rebuilt")  # over SSH, output streams back
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Building rebuilt from" in res.stdout + res.stderr
    rels = json.loads(berth_env.berth("releases", "rebuilt", "--format", "json").stdout)
    assert [r["version"] for r in rels] == [2, 1]
    assert rels[0]["description"] == f"Rebuild {rels[1]['git_sha'][:7]}"
    assert rels[0]["status"] == "succeeded" and rels[0]["current"]
    assert rels[0]["git_sha"] == rels[1]["git_sha"]
    assert berth_env.get("rebuilt") == (200, "hello from flask")


def test_ps_set_validates_and_applies(berth_env: Env, tmp_path: Path):
    deploy(berth_env, tmp_path, "pset")
    bad = berth_env.berth("ps:set", "pset", "restart-policy", "sometimes", check=False)
    assert bad.returncode == 2 and "use no, always, unless-stopped" in bad.stderr
    bad = berth_env.berth("ps:set", "pset", "stop-timeout-seconds", "-3", check=False)
    assert bad.returncode == 2 and "stop-timeout-seconds" in bad.stderr
    berth_env.berth("ps:set", "pset", "restart-policy", "on-failure:3")
    berth_env.berth("ps:set", "pset", "stop-timeout-seconds", "4")
    rep = report(berth_env, "pset")
    assert (rep["restart_policy"], rep["stop_timeout_seconds"]) == ("on-failure:3", 4)
    name = f"{_prefix(berth_env)}.pset.web.1"
    assert _restart_policy(name) == {"Name": "on-failure", "MaximumRetryCount": 3}
    berth_env.berth("ps:restart", "pset")  # new containers get it too
    assert _restart_policy(name) == {"Name": "on-failure", "MaximumRetryCount": 3}
    berth_env.berth("ps:set", "pset", "restart-policy")
    assert _restart_policy(name)["Name"] == "unless-stopped"


def _restart_policy(name: str) -> dict:
    out = subprocess.run(["docker", "inspect", "-f", "{{json .HostConfig.RestartPolicy}}", name],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def _ids(env: Env, app: str) -> set[str]:
    out = subprocess.run(["docker", "ps", "-q", "--no-trunc", "--filter",
                          f"label=berth.instance={_prefix(env)}", "--filter",
                          f"label=berth.app={app}"], capture_output=True, text=True)
    return set(out.stdout.split())


def _prefix(env: Env) -> str:
    import os

    from berth.instance import prefix

    os.environ["BERTH_ROOT"] = str(env.root)
    return prefix()
