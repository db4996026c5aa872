"""Read, plan, act: compare what the store wants with what the engine runs and repair drift.
Running it again after a crash half-way is always safe.

    facts   = read(ctx)          desired releases/formation + actual containers
    actions = plan(facts)        pure: a list of Action
    act(ctx, actions)            carry them out, one by one
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from berth import engine, locks, ps, runopts
from berth.context import Ctx
from berth.models import Release
from berth.schedulers import specs
from berth.schedulers.base import runnable_types
from berth.store import apps as store_apps
from berth.store import formation, releases


@dataclass(frozen=True)
class Actual:
    name: str
    app: str
    ptype: str
    index: int
    release: int
    running: bool
    role: str = "process"


@dataclass(frozen=True)
class Action:
    kind: str  # start | restart | remove | rename | stop | fail (a release: index = version)
    app: str
    name: str
    ptype: str = ""
    index: int = 0


@dataclass
class Facts:
    desired: dict[str, tuple[int, dict[str, int]]]  # app -> (version, {type: count})
    actual: list[Actual]
    # apps with a deploy, rename or destroy in progress, or run by another scheduler
    busy: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)  # apps stopped by ps:stop
    pending: dict[str, list[int]] = field(default_factory=dict)  # app -> pending versions


def plan(f: Facts) -> list[Action]:
    out: list[Action] = []
    for app, versions in sorted(f.pending.items()):
        if app not in f.busy:  # pending with the deploy lock free: its deploy died
            out.extend(Action("fail", app, f"{app} v{v}", index=v) for v in versions)
    have: dict[tuple[str, str, int], list[Actual]] = {}
    for c in f.actual:
        if c.app in f.busy or c.role == "oneoff":
            continue
        want = f.desired.get(c.app)
        if want is None:  # destroyed, or never released: nothing of it should run
            out.append(Action("remove", c.app, c.name))
            continue
        if c.app in f.stopped:  # ps:stop: keep its containers, stopped
            if c.running:
                out.append(Action("stop", c.app, c.name))
            continue
        version, counts = want
        if c.release != version or c.index > counts.get(c.ptype, 0):
            out.append(Action("remove", c.app, c.name))
            continue
        have.setdefault((c.app, c.ptype, c.index), []).append(c)
    for app, (_version, counts) in sorted(f.desired.items()):
        if app in f.busy or app in f.stopped:
            continue
        for ptype, count in sorted(counts.items()):
            for index in range(1, count + 1):
                found = have.get((app, ptype, index), [])
                canonical = specs.container_name(app, ptype, index)
                if not found:
                    out.append(Action("start", app, canonical, ptype, index))
                    continue
                keep, *extra = sorted(found, key=lambda c: (not c.running, c.name != canonical))
                out.extend(Action("remove", app, c.name) for c in extra)
                if not keep.running:
                    out.append(Action("restart", app, keep.name, ptype, index))
                if keep.name != canonical:
                    out.append(Action("rename", app, keep.name, ptype, index))
    return out


def read(ctx: Ctx) -> tuple[Facts, dict[str, Release]]:
    from berth import schedulers

    desired: dict[str, tuple[int, dict[str, int]]] = {}
    rels: dict[str, Release] = {}
    busy = set()
    stopped = set()
    from berth.deploy import app_lock_path

    pending: dict[str, list[int]] = {}
    for app in store_apps.all_apps(ctx.conn):
        # pending releases are read before the lock: every deploy creates and settles its
        # release under the lock, so one still pending after the lock was seen free is a
        # deploy that died (fail_pending only touches releases still pending)
        waiting = releases.pending_versions(ctx.conn, app)
        if locks.is_held(app_lock_path(ctx, app.name)):
            busy.add(app.name)
        elif waiting:
            pending[app.name] = waiting
        if ps.is_stopped(ctx, app):
            stopped.add(app.name)
        if schedulers.name_for(ctx, app) != schedulers.DEFAULT:
            busy.add(app.name)  # not docker-local's: its scheduler heals it (`reconcile` hook)
            continue
        rel = releases.current(ctx.conn, app)
        if rel is None or rel.image is None:
            continue
        counts = formation.get(ctx.conn, app.id) or rel.formation
        desired[app.name] = (rel.version, runnable_types(rel, counts))
        rels[app.name] = rel
    actual = []
    for c in engine.containers():
        lab = c.labels
        try:
            actual.append(Actual(name=c.name, app=lab[specs.LABEL_APP],
                                 ptype=lab.get(specs.LABEL_TYPE, ""),
                                 index=int(lab.get(specs.LABEL_INDEX, "0")),
                                 release=int(lab.get(specs.LABEL_RELEASE, "0")),
                                 # "restarting": the engine's restart policy has it
                                 running=c.status in ("running", "restarting"),
                                 role=lab.get(specs.LABEL_ROLE, "process")))
        except (KeyError, ValueError):
            continue
    for name in {c.app for c in actual} - set(desired) - busy:
        if locks.is_held(app_lock_path(ctx, name)):
            busy.add(name)  # renamed or being destroyed: the holder moves or removes these
    return Facts(desired=desired, actual=actual, busy=busy, stopped=stopped,
                 pending=pending), rels


def act(ctx: Ctx, actions: list[Action], rels: dict[str, Release]) -> None:
    import docker.errors
    import requests.exceptions

    client = engine.client()
    for a in actions:
        ctx.out(f"reconcile: {a.kind} {a.name}")
        try:
            if a.kind == "fail":
                fail_interrupted(ctx, a.app, a.index)
            elif a.kind == "remove":
                engine.remove(client.containers.get(a.name), timeout=5)
            elif a.kind == "restart":
                client.containers.get(a.name).start()
            elif a.kind == "stop":
                client.containers.get(a.name).stop(timeout=ps.DEFAULT_STOP_TIMEOUT)
            elif a.kind == "rename":
                client.containers.get(a.name).rename(
                    specs.container_name(a.app, a.ptype, a.index))
            elif a.kind == "start":
                rel = rels[a.app]
                engine.ensure_network(specs.network_name(a.app), {specs.LABEL_APP: a.app})
                owner = store_apps.get(ctx.conn, a.app)
                policy = ps.restart_policy(ctx, owner)
                opts = runopts.load(ctx, owner)  # limits and storage mounts
                c = engine.create(specs.process_spec(rel, a.ptype, a.index,
                                                     restart_policy=policy,
                                                     limits=opts.limits_for(a.ptype),
                                                     mounts=opts.mounts,
                                                     read_only=opts.read_only))
                c.start()
        except docker.errors.DockerException as e:
            ctx.out(f"reconcile: {a.kind} {a.name} failed: {e}")
        except requests.exceptions.ConnectionError:  # the engine went away (a restart)
            ctx.out(f"reconcile: {a.kind} {a.name} failed: cannot reach the Docker engine")


def fail_interrupted(ctx: Ctx, app_name: str, version: int) -> None:
    from berth.store import events
    from berth.store.db import transaction

    app = store_apps.get(ctx.conn, app_name)
    with transaction(ctx.conn):
        if releases.fail_pending(ctx.conn, app, version):
            events.record(ctx.conn, actor="berth server", app=app_name, action="deploy.failed",
                          details={"release": version,
                                   "reason": "interrupted: the deploy process ended early"})


def reconcile(ctx: Ctx, *, apply_routes: bool = True) -> list[Action]:
    from berth import routing
    from berth.hooks import manager as hooks

    facts, rels = read(ctx)
    actions = plan(facts)
    if actions:
        act(ctx, actions, rels)
    from berth import leftovers

    for path in leftovers.sweep(ctx):  # checkouts and build logs of deploys that died
        ctx.out(f"reconcile: removed {path.name}, left by a deploy that ended early")
    hooks.fire(ctx, "reconcile")  # plugins heal their own parts (add-on services ...)
    if apply_routes:
        routing.apply(ctx)
    return actions


def describe(actions: list[Action]) -> list[dict[str, Any]]:
    return [{"kind": a.kind, "app": a.app, "name": a.name} for a in actions]
