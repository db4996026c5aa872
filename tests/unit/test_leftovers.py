"""What a dead deploy leaves on disk is found, and swept only when the app's lock is free."""

from __future__ import annotations

import os
from pathlib import Path

from berth import apps, leftovers, locks
from berth.context import Ctx
from berth.deploy import app_lock_path
from berth.paths import Paths


def layout(tmp_path: Path) -> tuple[Path, Path]:
    builds, logs = tmp_path / "builds", tmp_path / "logs" / "builds"
    for name in ("web-a1b2c3d_", "web-x-q9w8e7r6", "gone-abcdefgh", "web-archive-zxcvbnm1",
                 "web-short", "berth-base-abcdefgh"):
        (builds / name).mkdir(parents=True)
    (logs / "web").mkdir(parents=True)
    (logs / "web" / ".pending-123-456.log").write_text("x")
    (logs / "web" / "v1.log").write_text("kept")
    return builds, logs


def test_finds_checkouts_and_pending_logs_of_known_apps_only(tmp_path: Path):
    builds, logs = layout(tmp_path)
    found = leftovers.find(builds, logs, {"web", "web-x"})
    assert found == {
        "web": [builds / "web-a1b2c3d_", logs / "web" / ".pending-123-456.log"],
        "web-x": [builds / "web-x-q9w8e7r6"],
    }


def test_sweep_spares_apps_whose_deploy_runs(tmp_path: Path):
    c = Ctx(paths=Paths(tmp_path / "root"), actor="alice", out=lambda line: None)
    for name in ("web", "busy"):
        apps.create(c, name)
    for name in ("web-abcdefgh", "busy-abcdefgh"):
        (c.paths.builds / name).mkdir(parents=True)
    fd = locks.acquire(app_lock_path(c, "busy"), what="busy", timeout=1)
    try:
        assert leftovers.sweep(c) == [c.paths.builds / "web-abcdefgh"]
    finally:
        os.close(fd)
    assert [p.name for p in c.paths.builds.iterdir()] == ["busy-abcdefgh"]
    assert leftovers.sweep(c) == [c.paths.builds / "busy-abcdefgh"]
