"""Read, plan, act for add-on services, run on every pass of `berth server`'s reconciler
(through the ``reconcile`` hook of the built-in addons plugin).

    facts   = read(ctx)      services and links in the store, service containers in the engine
    actions = plan(facts)    pure: start what is missing or stopped, join linked apps'
                             networks, leave unlinked ones, remove containers of destroyed
                             services
    act(ctx, actions)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from berth import engine, locks
from berth.addons import base, services
from berth.context import Ctx
from berth.schedulers import specs
from berth.store import apps as store_apps
from berth.store import services as store


@dataclass(frozen=True)
class Actual:
    type: str
    name: str
    running: bool
    networks: frozenset[str]


@dataclass(frozen=True)
class Action:
    kind: str  # start | connect | disconnect | remove
    type: str
    name: str
    app: str = ""


@dataclass
class Facts:
    desired: dict[tuple[str, str], set[str]]  # (type, name) -> linked app names
    actual: list[Actual]
    apps: set[str]  # every app of this root
    busy_services: set[tuple[str, str]] = field(default_factory=set)
    busy_apps: set[str] = field(default_factory=set)
    known_types: set[str] = field(default_factory=set)


def plan(f: Facts) -> list[Action]:
    out: list[Action] = []
    seen = {(a.type, a.name): a for a in f.actual}
    for key, linked in sorted(f.desired.items()):
        if key in f.busy_services or key[0] not in f.known_types:
            continue
        actual = seen.get(key)
        if actual is None or not actual.running:
            out.append(Action("start", *key))  # start() also joins the linked networks
            continue
        for app in sorted(linked - f.busy_apps):
            if specs.network_name(app) not in actual.networks:
                out.append(Action("connect", *key, app=app))
        for app in sorted(f.apps - linked - f.busy_apps):
            if specs.network_name(app) in actual.networks:
                out.append(Action("disconnect", *key, app=app))
    for actual in f.actual:
        key = (actual.type, actual.name)
        if key not in f.desired and key not in f.busy_services:
            out.append(Action("remove", *key))
    return out


def read(ctx: Ctx) -> Facts:
    from berth.deploy import app_lock_path
    from berth.hooks import manager

    types = manager.addon_types(ctx.paths.root)
    desired: dict[tuple[str, str], set[str]] = {}
    busy_services = set()
    for svc in store.all_services(ctx.conn):
        key = (svc.type, svc.name)
        desired[key] = set()
        if svc.type in types and locks.is_held(services.lock_path(ctx, types[svc.type],
                                                                  svc.name)):
            busy_services.add(key)
    for link in store.links(ctx.conn):
        desired.setdefault((link.type, link.service), set()).add(link.app)
    apps = {a.name for a in store_apps.all_apps(ctx.conn)}
    busy_apps = {a for a in apps if locks.is_held(app_lock_path(ctx, a))}
    actual = []
    with engine.errors("listing service containers"):
        found = engine.client().containers.list(all=True, filters={"label": [
            base.LABEL_TYPE, f"{base.LABEL_INSTANCE}={base.prefix()}"]})
    for c in found:
        nets = frozenset((c.attrs.get("NetworkSettings") or {}).get("Networks") or {})
        actual.append(Actual(type=c.labels.get(base.LABEL_TYPE, ""),
                             name=c.labels.get(base.LABEL_NAME, ""),
                             running=c.status == "running", networks=nets))
    return Facts(desired=desired, actual=actual, apps=apps, busy_services=busy_services,
                 busy_apps=busy_apps, known_types=set(types))


def act(ctx: Ctx, actions: list[Action]) -> None:
    from berth.hooks import manager

    types = manager.addon_types(ctx.paths.root)
    for a in actions:
        ctx.out(f"reconcile: {a.kind} {a.type} service {a.name}"
                + (f" ({a.app})" if a.app else ""))
        try:
            if a.kind == "remove":
                services.remove_container(a.type, a.name)
                engine.remove_network(base.network_name(a.type, a.name))
                continue
            t = types[a.type]
            if a.kind == "start":
                services.start(ctx, t, store.get(ctx.conn, a.type, a.name))
            elif a.kind == "connect":
                services.connect_app(t, a.name, a.app)
            elif a.kind == "disconnect":
                container = services.find_container(t, a.name)
                if container is not None:
                    services.disconnect(container, specs.network_name(a.app))
        except Exception as e:  # one service's trouble must not stop the others
            ctx.out(f"reconcile: {a.kind} {a.type} service {a.name} failed: {e}")


def reconcile(ctx: Ctx) -> list[Action]:
    actions = plan(read(ctx))
    if actions:
        act(ctx, actions)
    return actions
