"""Processes: scale, stop, start, restart, rebuild, per-app process options, report.

The formation table is the truth for how many of each type run; it is kept across deploys,
restarts and rollbacks (a rollback takes its release's counts). Web containers started by a
scale-up or restart are checked before the router sends to them; ones retired by a scale-down
or restart leave the router first and are stopped `wait-to-retire` seconds later.

A stopped app (`ps:stop`) has the app setting `stopped`: the reconciler keeps its containers
stopped and its routes answer 503, until `ps:start`, `ps:restart` or the next deploy.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from typing import Any

from berth import apps, checks_config, engine, names, routing, runopts
from berth.context import Ctx
from berth.errors import BerthError, ValidationError
from berth.models import App, Release
from berth.schedulers import selected, specs
from berth.schedulers.base import PENDING, runnable_types
from berth.store import apps as store_apps
from berth.store import events, formation, releases
from berth.store.db import transaction

STOPPED = "stopped"
RESTART_POLICY, STOP_TIMEOUT = "ps.restart-policy", "ps.stop-timeout-seconds"
READ_ONLY = "ps.read-only"
DEFAULT_RESTART_POLICY = "unless-stopped"
DEFAULT_STOP_TIMEOUT = 10
MAX_SCALE = 100
OPTIONS = ("restart-policy", "stop-timeout-seconds", "read-only")
SETTINGS = {"restart-policy": RESTART_POLICY, "stop-timeout-seconds": STOP_TIMEOUT,
            "read-only": READ_ONLY}
_RESTART = re.compile(r"no|always|unless-stopped|on-failure(:[1-9][0-9]{0,3})?")


# -- parsing and validation (pure) --------------------------------------------------------


def parse_scale(args: list[str] | tuple[str, ...]) -> dict[str, int]:
    """`web=3 worker=1` -> {"web": 3, "worker": 1}."""
    out: dict[str, int] = {}
    for arg in args:
        ptype, sep, count = arg.partition("=")
        if not sep:
            raise ValidationError(f"invalid scale {arg[:40]!r}: expected TYPE=COUNT, e.g. web=2")
        names.process_type(ptype)
        if ptype == "release":
            raise ValidationError("invalid scale: 'release' runs once per release, not as a "
                                  "process")
        if not count.isdigit() or not 0 <= int(count) <= MAX_SCALE:
            raise ValidationError(
                f"invalid count for {ptype} {count[:10]!r}: an integer from 0 to {MAX_SCALE}")
        if ptype in out:
            raise ValidationError(f"invalid scale: {ptype} is given twice")
        out[ptype] = int(count)
    return out


def validate_option(key: str, value: str) -> str:
    if key == "restart-policy":
        if not _RESTART.fullmatch(value):
            raise ValidationError(
                f"invalid restart-policy {value[:30]!r}: use no, always, unless-stopped, "
                "on-failure or on-failure:N (N from 1 to 9999)")
        return value
    if key == "stop-timeout-seconds":
        if not value.isdigit() or not 0 <= int(value) <= 3600:
            raise ValidationError(
                f"invalid stop-timeout-seconds {value[:20]!r}: an integer from 0 to 3600")
        return str(int(value))
    if key == "read-only":
        if value not in ("true", "false"):
            raise ValidationError(f"invalid read-only {value[:20]!r}: true or false")
        return value
    raise ValidationError(f"unknown process option {key!r}: use {' or '.join(OPTIONS)}")


def scale_slots(before: dict[str, int], after: dict[str, int]) -> list[tuple[str, int]]:
    """The (type, index) containers a scale from `before` to `after` starts (both runnable)."""
    return [(ptype, index) for ptype, count in sorted(after.items())
            for index in range(before.get(ptype, 0) + 1, count + 1)]


def known_types(release: Release) -> list[str]:
    return sorted(({"web"} | set(release.processes)) - {"release"})


# -- settings ---------------------------------------------------------------------------------


def restart_policy(ctx: Ctx, app: App) -> str:
    return store_apps.get_setting(ctx.conn, app, RESTART_POLICY) or DEFAULT_RESTART_POLICY


def stop_timeout(ctx: Ctx, app: App) -> int:
    value = store_apps.get_setting(ctx.conn, app, STOP_TIMEOUT)
    return int(value) if value else DEFAULT_STOP_TIMEOUT


def read_only(ctx: Ctx, app: App) -> bool:
    """ps:set APP read-only true: the root filesystem is read-only (writable /tmp), from the
    next deploy or restart on."""
    return store_apps.get_setting(ctx.conn, app, READ_ONLY) == "true"


def is_stopped(ctx: Ctx, app: App) -> bool:
    return store_apps.get_setting(ctx.conn, app, STOPPED) is not None


def set_option(ctx: Ctx, app_name: str, key: str, value: str | None) -> None:
    """ps:set; an empty value resets to the default. A restart policy also applies to the
    containers running now; a stop timeout to the next stop."""
    if key not in OPTIONS:
        validate_option(key, "")
    stored = validate_option(key, value) if value else None
    app = apps.get(ctx, app_name)
    setting = SETTINGS[key]
    with transaction(ctx.conn):
        store_apps.set_setting(ctx.conn, app, setting, stored)
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action="ps.set",
                      details={"key": key, "value": stored})
    if key == "restart-policy":
        selected(ctx, app).set_restart_policy(app.name, stored or DEFAULT_RESTART_POLICY)


# -- operations ---------------------------------------------------------------------------


def _counts(ctx: Ctx, app: App, release: Release) -> dict[str, int]:
    return runnable_types(release, formation.get(ctx.conn, app.id) or release.formation)


def _switch_routes(ctx: Ctx, app: App, pending: list[Any], retiring: list[Any]) -> list[Any]:
    """Put the checked pending containers into the routes and take the retiring ones out;
    returns what retires. If the router refuses, the old set is restored."""
    sched = selected(ctx, app)
    moved: list[Any] = []
    try:
        moved = sched.promote(pending, retiring)
        routing.apply(ctx)
        sched.settle(pending, moved)
    except BaseException:
        sched.undo(pending, moved)
        raise
    return moved


def _retire(ctx: Ctx, app: App, retiring: list[Any]) -> None:
    if not retiring:
        return
    web = any(c.labels.get(specs.LABEL_TYPE) == "web" and c.status == "running"
              for c in retiring)
    wait = checks_config.retire_wait(ctx, app) if web else 0.0
    ctx.step(f"Retiring {len(retiring)} container(s)" + (f" in {wait:g}s" if wait else ""))
    selected(ctx, app).retire(retiring, wait=wait, stop_timeout=stop_timeout(ctx, app))


def scale(ctx: Ctx, app_name: str, wanted: dict[str, int]) -> dict[str, int]:
    """Set process counts and converge to them with no rebuild; returns the new formation."""
    from berth.deploy import app_lock

    if not wanted:
        raise ValidationError("give at least one TYPE=COUNT, e.g. web=2")
    app = apps.get(ctx, app_name)
    with app_lock(ctx, app.name):
        cur = releases.current(ctx.conn, app)
        if cur is not None:
            unknown = sorted(set(wanted) - set(known_types(cur)))
            if unknown:
                raise ValidationError(
                    f"unknown process type {unknown[0]!r}: {cur.label} of {app.name} has "
                    f"{', '.join(known_types(cur))}")
        before = formation.get(ctx.conn, app.id)
        after = {**before, **wanted}
        if cur is None or cur.image is None or is_stopped(ctx, app):
            _commit_scale(ctx, app, wanted)
            ctx.step(f"Scaled {app.name}; this applies when the app next starts")
            return after
        old_run = _counts(ctx, app, cur)
        new_run = runnable_types(cur, after)
        slots = scale_slots(old_run, new_run)
        sched = selected(ctx, app)
        pending: list[Any] = []
        if slots:
            ctx.step("Starting " + ", ".join(f"{t}.{i}" for t, i in slots))
            pending = sched.start_slots(
                cur, slots, checks_config.policy(ctx, app, cur), ctx.out,
                suffix=PENDING, replacing=False,
                restart_policy=restart_policy(ctx, app), stop_timeout=stop_timeout(ctx, app),
                options=runopts.load(ctx, app))
        try:
            _commit_scale(ctx, app, wanted)
        except BaseException:
            sched.undo(pending, [])
            raise
        retiring = _switch_routes(ctx, app, pending, sched.surplus(app.name, new_run))
        _retire(ctx, app, retiring)
        return formation.get(ctx.conn, app.id)


def _commit_scale(ctx: Ctx, app: App, wanted: dict[str, int]) -> None:
    with transaction(ctx.conn):
        formation.put(ctx.conn, app.id, wanted)
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action="ps.scale",
                      details={"formation": wanted})


def _deployed(ctx: Ctx, app: App) -> Release:
    cur = releases.current(ctx.conn, app)
    if cur is None or cur.image is None:
        raise ValidationError(f"{app.name} has not been deployed yet; push to it first")
    return cur


def _replace(ctx: Ctx, app: App, cur: Release) -> None:
    """Start a fresh set of the current release's containers, check them, move traffic to
    them and retire the old set (a zero-downtime restart; disabled checks stop old first)."""
    sched = selected(ctx, app)
    old = sched.process_containers(app.name)
    ctx.step(f"Starting {cur.label} of {app.name}")
    pending = sched.start(cur, _counts(ctx, app, cur), checks_config.policy(ctx, app, cur),
                          ctx.out, suffix=PENDING, restart_policy=restart_policy(ctx, app),
                          stop_timeout=stop_timeout(ctx, app), options=runopts.load(ctx, app))
    _retire(ctx, app, _switch_routes(ctx, app, pending, old))


def stop(ctx: Ctx, app_name: str) -> list[str]:
    from berth.deploy import app_lock

    app = apps.get(ctx, app_name)
    with app_lock(ctx, app.name):
        with transaction(ctx.conn):
            store_apps.set_setting(ctx.conn, app, STOPPED, "1")
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action="ps.stop")
        ctx.step(f"Stopping {app.name}")
        stopped = selected(ctx, app).stop(app.name, stop_timeout=stop_timeout(ctx, app))
        routing.apply(ctx)
    return stopped


def start(ctx: Ctx, app_name: str, *, action: str = "ps.start") -> bool:
    """Start a stopped app (or one with containers missing); False when all were running."""
    from berth.deploy import app_lock

    app = apps.get(ctx, app_name)
    with app_lock(ctx, app.name):
        cur = _deployed(ctx, app)
        was_stopped = is_stopped(ctx, app)
        if not was_stopped and action == "ps.start" and _all_running(ctx, app, cur):
            return False
        with transaction(ctx.conn):
            store_apps.set_setting(ctx.conn, app, STOPPED, None)
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action=action)
        try:
            _replace(ctx, app, cur)
        except BaseException:
            if was_stopped:
                with transaction(ctx.conn):
                    store_apps.set_setting(ctx.conn, app, STOPPED, "1")
            raise
    return True


def restart(ctx: Ctx, app_name: str) -> None:
    """Zero-downtime restart of the current release; starts a stopped app."""
    start(ctx, app_name, action="ps.restart")


def _all_running(ctx: Ctx, app: App, cur: Release) -> bool:
    want = {specs.container_name(app.name, t, i)
            for t, n in _counts(ctx, app, cur).items() for i in range(1, n + 1)}
    running = {c.name for c in engine.containers(app.name, all=False)}
    return want <= running


def rebuild(ctx: Ctx, app_name: str) -> Release:
    """Build the deployed commit again and deploy it as a new release."""
    from berth import deploy

    app = apps.get(ctx, app_name)
    with deploy.app_lock(ctx, app.name):
        cur = releases.current(ctx.conn, app)
        if cur is None or not cur.git_sha:
            raise ValidationError(f"{app.name} has no deployed commit to rebuild; push to it "
                                  "first")
        src = deploy.checkout(ctx, app.name, cur.git_sha)
        try:
            rel = deploy.build_release(ctx, app, src, cur.git_sha,
                                       description=f"Rebuild {cur.git_sha[:7]}")
        finally:
            shutil.rmtree(src.parent, ignore_errors=True)
        return deploy.deploy_release(ctx, app, rel)


def each_app(ctx: Ctx, fn: Callable[[Ctx, str], object]) -> list[str]:
    """Run fn for every deployed app; returns the names that failed (each error printed)."""
    failed = []
    for app in store_apps.all_apps(ctx.conn):
        if app.current_release is None:
            continue
        try:
            fn(ctx, app.name)
        except BerthError as e:
            ctx.out(f" !     {app.name}: {e}")
            failed.append(app.name)
    return failed


def report(ctx: Ctx, app_name: str) -> dict[str, Any]:
    app = apps.get(ctx, app_name)
    cur = releases.current(ctx.conn, app)
    counts = formation.get(ctx.conn, app.id)
    containers = []
    for c in selected(ctx, app).process_containers(app.name):
        lab = c.labels
        containers.append({"name": c.name, "type": lab.get(specs.LABEL_TYPE),
                           "index": int(lab.get(specs.LABEL_INDEX, "0")),
                           "release": int(lab.get(specs.LABEL_RELEASE, "0")),
                           "state": c.status})
    containers.sort(key=lambda r: (r["type"] or "", r["index"], r["name"]))
    processes: dict[str, dict[str, Any]] = {}
    for ptype in (known_types(cur) if cur else sorted(counts)):
        processes[ptype] = {
            "command": cur.processes.get(ptype) if cur else None,
            "scale": counts.get(ptype, 0),
            "running": sum(1 for c in containers
                           if c["type"] == ptype and c["state"] == "running"),
        }
    wanted = sum(runnable_types(cur, counts).values()) if cur else 0
    running = sum(int(p["running"]) for p in processes.values())
    return {
        "app": app.name,
        "deployed": cur is not None,
        "release": cur.label if cur else None,
        "stopped": is_stopped(ctx, app),
        "running": not is_stopped(ctx, app) and running >= wanted > 0,
        "restart_policy": restart_policy(ctx, app),
        "stop_timeout_seconds": stop_timeout(ctx, app),
        "processes": processes,
        "containers": containers,
    }
