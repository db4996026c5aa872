"""Files a deploy leaves on disk only when it dies: its source checkout
(builds/APP-XXXXXXXX, deploy.checkout) and its unnamed build log
(logs/builds/APP/.pending-PID-TID.log, logs.capture_build).

Both are made and removed under the app's deploy lock, so one that was listed before the lock
was seen free belongs to a deploy that has ended: the reconciler removes it. Archive uploads
(builds/APP-archive-XXXXXXXX) are made outside the lock and are never touched here."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from berth import locks
from berth.context import Ctx
from berth.store import apps as store_apps

CHECKOUT = re.compile(r"(?P<app>[a-z0-9][a-z0-9-]*)-[a-z0-9_]{8}")  # tempfile.mkdtemp's 8


def find(builds: Path, build_logs: Path, apps: set[str]) -> dict[str, list[Path]]:
    """Checkouts and unnamed build logs of known apps, whether their deploy runs or not."""
    out: dict[str, list[Path]] = {}
    if builds.is_dir():
        for entry in builds.iterdir():
            m = CHECKOUT.fullmatch(entry.name)
            if m and m["app"] in apps and "-archive-" not in entry.name and entry.is_dir():
                out.setdefault(m["app"], []).append(entry)
    for app in apps:
        d = build_logs / app
        if d.is_dir():
            out.setdefault(app, []).extend(d.glob(".pending-*.log"))
    return {app: sorted(found) for app, found in out.items() if found}


def sweep(ctx: Ctx) -> list[Path]:
    from berth.deploy import app_lock_path

    apps = {a.name for a in store_apps.all_apps(ctx.conn)}
    found = find(ctx.paths.builds, ctx.paths.logs / "builds", apps)  # before the locks
    removed = []
    for app, paths in sorted(found.items()):
        if locks.is_held(app_lock_path(ctx, app)):
            continue
        for path in paths:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed
