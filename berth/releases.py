"""Releases: the details of one, and rollback to an earlier one with no rebuild.

A rollback to vN records a new release "Rollback to vN" with vN's image, config snapshot,
processes, app.json and formation, and deploys it like any release (release phase, predeploy,
checks, zero-downtime switch). The app's config vars and formation become vN's, so the next
config change builds on what runs. A global var vN did not have cannot be masked per app: it
stays in the config table, though the rolled-back release runs without it.
"""

from __future__ import annotations

import re
from typing import Any

from berth import apps, engine
from berth.context import Ctx
from berth.errors import NotFound, ValidationError
from berth.models import App, Release
from berth.store import config as store_config
from berth.store import events, formation, releases
from berth.store.db import transaction

_VERSION = re.compile(r"v?([1-9][0-9]{0,8})")


def parse_version(text: str) -> int:
    m = _VERSION.fullmatch(text.strip())
    if not m:
        raise ValidationError(f"invalid release {text[:20]!r}: use vN or N, e.g. v3")
    return int(m.group(1))


def previous_succeeded(rels: list[Release], current: int | None) -> Release | None:
    """The newest release before the current one that deployed successfully."""
    if current is None:
        return None
    done = [r for r in rels if r.version < current and r.status == "succeeded"]
    return max(done, key=lambda r: r.version) if done else None


def rollback_target(rels: list[Release], current: int | None, version: int | None) -> Release:
    """Pure: which release a rollback deploys, or a clear error."""
    if current is None:
        raise ValidationError("nothing is deployed yet, so there is nothing to roll back")
    if version is None:
        target = previous_succeeded(rels, current)
        if target is None:
            raise NotFound(f"there is no succeeded release before v{current} to roll back to")
        return target
    found = [r for r in rels if r.version == version]
    if not found:
        raise NotFound(f"release v{version} does not exist")
    if version == current:
        raise ValidationError(f"v{version} is the current release already")
    if found[0].status != "succeeded" or not found[0].image:
        raise ValidationError(f"v{version} never deployed successfully ({found[0].status}); "
                              "roll back to a release that succeeded")
    return found[0]


def info(ctx: Ctx, app_name: str, version: int) -> dict[str, Any]:
    """One release; config keys only, never values."""
    app = apps.get(ctx, app_name)
    r = releases.get(ctx.conn, app, version)
    return {
        "app": app.name,
        "version": r.version,
        "description": r.description,
        "status": r.status,
        "current": r.version == app.current_release,
        "created_at": r.created_at,
        "image": r.image,
        "image_present": bool(r.image) and engine.image_exists(r.image or ""),
        "git_sha": r.git_sha,
        "processes": r.processes,
        "formation": r.formation,
        "port": r.port,
        "config_keys": sorted(r.config),
    }


def rollback(ctx: Ctx, app_name: str, version: int | None = None) -> Release:
    from berth.deploy import app_lock, deploy_release

    app = apps.get(ctx, app_name)
    with app_lock(ctx, app.name):
        app = apps.get(ctx, app_name)
        target = rollback_target(releases.all_releases(ctx.conn, app), app.current_release,
                                 version)
        if not engine.image_exists(target.image or ""):
            raise NotFound(f"the image of {target.label} was pruned (the retain-images setting "
                           "keeps the newest ones); push that commit again instead")
        ctx.step(f"Rolling back {app.name} to {target.label} (no rebuild)")
        before = (store_config.get_all(ctx.conn, app.id), formation.get(ctx.conn, app.id))
        with transaction(ctx.conn):
            _restore(ctx, app, target.config, {**before[1], **target.formation}, merged=True)
            rel = releases.create(
                ctx.conn, app, image=target.image, git_sha=target.git_sha,
                config=target.config, processes=target.processes, formation=target.formation,
                app_json=target.app_json, port=target.port,
                description=f"Rollback to {target.label}")
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action="release.rollback",
                          details={"release": rel.version, "to": target.version,
                                   "from": app.current_release})
        try:
            return deploy_release(ctx, app, rel)
        except BaseException:
            with transaction(ctx.conn):
                _restore(ctx, app, before[0], before[1], merged=False)
            raise


def _restore(ctx: Ctx, app: App, config: dict[str, str], counts: dict[str, int], *,
             merged: bool) -> None:
    """Set the app's config vars and formation. A merged snapshot (global + app) keeps only
    what differs from the global vars."""
    if merged:
        glob = store_config.get_all(ctx.conn, store_config.GLOBAL)
        config = {k: v for k, v in config.items() if glob.get(k) != v}
    store_config.unset_many(ctx.conn, app.id, list(store_config.get_all(ctx.conn, app.id)))
    store_config.set_many(ctx.conn, app.id, config)
    formation.replace(ctx.conn, app.id, counts)
