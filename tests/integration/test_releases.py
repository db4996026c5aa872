"""Releases for real: rollback deploys an earlier image with its config and formation, with no
rebuild and no failed request; releases:info; image retention keeps the newest, the running
and the rollback target's images."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push
from tests.integration.poller import Poller

pytestmark = pytest.mark.integration


def rels(env: Env, app: str) -> list[dict]:
    return json.loads(env.berth("releases", app, "--format", "json").stdout)


def info(env: Env, app: str, version: str) -> dict:
    return json.loads(env.berth("releases:info", app, version, "--format", "json").stdout)


def image_exists(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image],
                          capture_output=True).returncode == 0


def new_version(env: Env, repo: Path, app: str, text: str) -> None:
    app_py = repo / "app.py"
    app_py.write_text(re.sub(r'return "hello from [^"]*"', f'return "{text}"', app_py.read_text()))
    commit(repo, text)
    res = push(env, repo, env.ssh_remote(app))
    assert res.returncode == 0, res.stdout + res.stderr


def test_rollback_to_v1_after_v2(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "rb")
    assert push(berth_env, repo, berth_env.ssh_remote("rb")).returncode == 0     # v1
    berth_env.berth("config:set", "rb", "COLOR=blue", "SECRET_TOKEN=hunter2")    # v2
    berth_env.berth("ps:scale", "rb", "web=2")
    new_version(berth_env, repo, "rb", "hello from v3")                           # v3
    berth_env.berth("config:set", "rb", "COLOR=green")                            # v4
    berth_env.berth("config:unset", "rb", "SECRET_TOKEN")                         # v5
    berth_env.wait_for("rb", "hello from v3")
    v2 = info(berth_env, "rb", "v2")
    assert v2["config_keys"] == ["COLOR", "SECRET_TOKEN"] and v2["formation"] == {"web": 1}
    assert "hunter2" not in berth_env.berth("releases:info", "rb", "v2").stdout

    with Poller(berth_env, "rb", lambda s, b: s == 200 and b.startswith("hello from")) as p:
        res = berth_env.berth("releases:rollback", "rb", "v2")
    out = res.stdout + res.stderr
    assert p.failures == [] and p.count > 20
    assert "Rolling back rb to v2 (no rebuild)" in out
    assert "Building" not in out and "builder" not in out
    assert "Running the release command" in out and "Checking web.1" in out
    now = rels(berth_env, "rb")[0]
    assert (now["version"], now["description"], now["status"], now["current"]) == \
        (6, "Rollback to v2", "succeeded", True)
    assert now["image"] == v2["image"]
    assert berth_env.get("rb") == (200, "hello from flask")
    assert berth_env.get("rb", "/env/COLOR") == (200, "blue")
    assert berth_env.get("rb", "/env/SECRET_TOKEN") == (200, "hunter2")
    assert berth_env.berth("config:get", "rb", "COLOR").stdout == "blue\n"
    report = json.loads(berth_env.berth("ps:report", "rb", "--format", "json").stdout)
    assert report["processes"]["web"]["scale"] == 1  # v2's formation

    # with no version: the previous succeeded release (v5: v3's code, green, no token)
    berth_env.berth("releases:rollback", "rb")
    assert rels(berth_env, "rb")[0]["description"] == "Rollback to v5"
    assert berth_env.get("rb") == (200, "hello from v3")
    assert berth_env.get("rb", "/env/COLOR") == (200, "green")
    assert berth_env.get("rb", "/env/SECRET_TOKEN") == (200, "")

    # bad targets: clear errors, nothing changes
    for args, code, text in [(["v99"], 3, "v99 does not exist"),
                             (["v7"], 2, "current release already"),
                             (["seven"], 2, "use vN")]:
        res = berth_env.berth("releases:rollback", "rb", *args, check=False)
        assert res.returncode == code and text in res.stderr, res.stderr
    assert len(rels(berth_env, "rb")) == 7


def test_image_retention_keeps_newest_running_and_rollback_target(berth_env: Env,
                                                                   tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "prune")
    berth_env.berth("settings:set", "retain-images", "2")
    try:
        assert push(berth_env, repo, berth_env.ssh_remote("prune")).returncode == 0
        for n in (2, 3, 4):
            new_version(berth_env, repo, "prune", f"hello from prune v{n}")
        imgs = {r["version"]: r["image"] for r in rels(berth_env, "prune")}
        assert len(set(imgs.values())) == 4
        assert [image_exists(imgs[v]) for v in (1, 2, 3, 4)] == [False, False, True, True]
        res = berth_env.berth("releases:rollback", "prune", "v1", check=False)
        assert res.returncode == 3 and "image of v1 was pruned" in res.stderr

        berth_env.berth("settings:set", "retain-images", "1")
        berth_env.berth("releases:rollback", "prune", "v3")  # v5 runs v3's image
        # retain 1 keeps the running image (v3's) and the rollback target's (v4's)
        assert image_exists(imgs[3]) and image_exists(imgs[4])
        assert berth_env.get("prune") == (200, "hello from prune v3")
        berth_env.berth("config:set", "prune", "X=1")  # v6, same image; target now v5
        assert image_exists(imgs[3]) and not image_exists(imgs[4])
        res = berth_env.berth("releases:rollback", "prune")
        assert "Rollback to v5" in res.stdout
        assert berth_env.get("prune") == (200, "hello from prune v3")
    finally:
        berth_env.berth("settings:set", "retain-images")
