"""Schedulers and routers chosen by name from the hook registries (no Docker): the built-in
docker-local registers through the `schedulers` hook; a plugin's scheduler is selected per
app by `scheduler:set` and runs a whole deploy; a plugin's router is accepted by `router:set`
and started while the others are stopped; unknown names are refused and change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth import apps, deploy, engine, routing, schedulers
from berth.cli import main
from berth.context import Ctx
from berth.errors import EngineError, RouterError
from berth.hooks import docs, manager
from berth.paths import Paths
from berth.routers import caddy, nginx
from berth.schedulers.base import Scheduler
from berth.store import apps as store_apps
from berth.store import releases, settings
from berth.store.db import transaction

# A plugin with two schedulers and two routers that keep their state in files under the
# root: CALLS (one JSON line per call) and ROUTER-NAME.json (the state of each router).
PLUGIN = '''
import json
from berth.hooks import hookimpl


def record(root, *what):
    with open(root / "calls.log", "a") as f:
        f.write(json.dumps(what) + "\\n")


class Handle:
    def __init__(self, name, labels):
        self.name, self.labels, self.status = name, labels, "running"


class Recording:
    def __init__(self, root, name, net):
        self.root, self.name, self.net = root, name, net

    def start(self, release, formation, policy, out, *, suffix="next", **options):
        record(self.root, self.name, "start", release.app, release.version, formation)
        return [Handle(f"{release.app}.{t}.{i}.{suffix}",
                       {"berth.type": t, "berth.index": str(i)})
                for t, n in sorted(formation.items()) for i in range(1, n + 1)]

    def finish(self, app, version, *, wait=0.0, stop_timeout=10):
        record(self.root, self.name, "finish", app, version)
        return []

    def web_upstreams(self, apps_current):
        record(self.root, self.name, "web_upstreams", sorted(apps_current))
        return {a: [f"{self.net}.{v}:5000"] for a, v in apps_current.items()}

    def __getattr__(self, op):  # every other operation: recorded, nothing to do
        def call(*args, **kwargs):
            record(self.root, self.name, op)
            return []
        return call


class Memory:
    def __init__(self, root, name):
        self.state = root / f"{name}.json"
        self.root, self.name = root, name

    def _read(self):
        return json.loads(self.state.read_text()) if self.state.exists() else None

    def apply(self, routes, *, force=False):
        if self._read() is None:
            raise RuntimeError(f"{self.name} is not running")
        self.state.write_text(json.dumps({r.app: list(r.upstreams) for r in routes}))

    def status(self):
        return {"router": self.name, "running": self._read() is not None}

    def ensure_running(self):
        if self._read() is not None:
            return False
        record(self.root, self.name, "start")
        self.state.write_text("{}")
        return True

    def stop(self):
        if self._read() is None:
            return False
        record(self.root, self.name, "stop")
        self.state.unlink()
        return True


@hookimpl
def schedulers():
    return {"recording": lambda ctx: Recording(ctx.paths.root, "recording", "10.9.0"),
            "recording-b": lambda ctx: Recording(ctx.paths.root, "recording-b", "10.8.0")}


@hookimpl
def routers():
    return {"memory": lambda ctx: Memory(ctx.paths.root, "memory"),
            "memory-b": lambda ctx: Memory(ctx.paths.root, "memory-b")}
'''


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ctx]:
    root = tmp_path / "root"
    monkeypatch.setenv("BERTH_ROOT", str(root))
    monkeypatch.delenv("BERTH_PLUGINS", raising=False)

    def no_engine() -> None:
        raise EngineError("no Docker engine in unit tests")

    def no_proxy(*args: object) -> bool:
        raise RouterError("no Caddy or nginx in unit tests")

    monkeypatch.setattr(engine, "client", no_engine)
    monkeypatch.setattr(caddy, "ensure_running", no_proxy)
    monkeypatch.setattr(nginx, "ensure_running", no_proxy)
    manager.reset()
    c = Ctx(paths=Paths(root), out=lambda line: None)
    c.conn  # noqa: B018 - create the store
    yield c
    manager.reset()


@pytest.fixture
def plugged(ctx: Ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ctx:
    path = tmp_path / "recording.py"
    path.write_text(PLUGIN)
    monkeypatch.setenv("BERTH_PLUGINS", str(path))
    manager.reset()
    return ctx


def calls(ctx: Ctx) -> list[list]:
    log = ctx.paths.root / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def berth(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main.run(list(args))
    got = capsys.readouterr()
    return code, got.out + got.err


def test_docker_local_registers_through_the_schedulers_hook(ctx: Ctx) -> None:
    info = manager.get(ctx.paths.root).plugins["schedulers"]
    assert (info.kind, info.enabled, info.hooks) == ("builtin", True, ["schedulers"])
    assert sorted(schedulers.registered(ctx.paths.root)) == ["docker-local"]
    sched = schedulers.selected(ctx)
    assert sched.name == "docker-local" and isinstance(sched, Scheduler)


def test_scheduler_set_selects_a_plugin_scheduler_per_app(
        plugged: Ctx, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = plugged
    apps.create(ctx, "one")
    apps.create(ctx, "two")
    assert berth(capsys, "scheduler:set", "one", "recording")[0] == 0
    assert schedulers.selected(ctx, "one").name == "recording"
    assert schedulers.selected(ctx, "two").name == "docker-local"
    report = schedulers.report(ctx, "one")
    assert report["registered"] == ["docker-local", "recording", "recording-b"]
    assert (report["selected"], report["app_setting"]) == ("recording", "recording")

    # the server setting is every other app's default; no NAME follows it again
    assert berth(capsys, "settings:set", "scheduler", "recording-b")[0] == 0
    assert schedulers.selected(ctx, "two").name == "recording-b"
    assert berth(capsys, "scheduler:set", "one")[0] == 0
    assert schedulers.selected(ctx, "one").name == "recording-b"


def test_unknown_scheduler_is_refused_and_changes_nothing(
        plugged: Ctx, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = plugged
    apps.create(ctx, "one")
    berth(capsys, "scheduler:set", "one", "recording")
    code, out = berth(capsys, "scheduler:set", "one", "k8s")
    assert code != 0
    assert ("unknown scheduler 'k8s': use one of the registered schedulers: docker-local, "
            "recording, recording-b") in out
    assert store_apps.get_setting(ctx.conn, store_apps.get(ctx.conn, "one"), "scheduler") \
        == "recording"
    code, out = berth(capsys, "settings:set", "scheduler", "k8s")
    assert code != 0 and "registered schedulers" in out
    assert settings.get(ctx.conn, "scheduler") == "docker-local"


def test_an_app_whose_scheduler_plugin_is_gone_falls_back_to_docker_local(
        plugged: Ctx, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ctx = plugged
    apps.create(ctx, "one")
    schedulers.set_for(ctx, "one", "recording")
    monkeypatch.delenv("BERTH_PLUGINS")
    manager.reset()
    assert schedulers.configured(ctx, "one") == "recording"
    assert schedulers.selected(ctx, "one").name == "docker-local"
    assert "scheduler 'recording' is not registered" in capsys.readouterr().err


def _released(ctx: Ctx, name: str) -> None:
    app = apps.create(ctx, name)
    rel = deploy.new_release(ctx, app, image="sha256:x", git_sha=None,
                             processes={"web": "serve"}, app_json={}, port=5000,
                             description="test")
    with transaction(ctx.conn):
        releases.set_status(ctx.conn, app, rel.version, "succeeded")
        store_apps.set_current(ctx.conn, app, rel.version)


def test_routing_asks_each_app_s_scheduler_for_its_upstreams(plugged: Ctx) -> None:
    ctx = plugged
    _released(ctx, "one")
    _released(ctx, "two")
    _released(ctx, "three")
    schedulers.set_for(ctx, "one", "recording")
    schedulers.set_for(ctx, "two", "recording-b")
    schedulers.set_for(ctx, "three", "recording-b")
    ups = {r.app: r.upstreams for r in routing.compute(ctx)}
    assert ups == {"one": ("10.9.0.1:5000",), "two": ("10.8.0.1:5000",),
                   "three": ("10.8.0.1:5000",)}
    assert sorted(calls(ctx)) == [["recording", "web_upstreams", ["one"]],
                                  ["recording-b", "web_upstreams", ["three", "two"]]]


def test_a_deploy_runs_through_the_selected_scheduler_and_router(
        plugged: Ctx, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = plugged
    app = apps.create(ctx, "one")
    assert berth(capsys, "scheduler:set", "one", "recording")[0] == 0
    with transaction(ctx.conn):
        settings.put(ctx.conn, "router", "memory")
    rel = deploy.new_release(ctx, app, image="sha256:x", git_sha=None,
                             processes={"web": "serve", "worker": "work"}, app_json={},
                             port=5000, description="test")
    done = deploy.deploy_release(ctx, app, rel)
    assert done.status == "succeeded"
    assert store_apps.get(ctx.conn, "one").current_release == rel.version
    ops = [c[:2] for c in calls(ctx) if c[0] == "recording"]
    assert ["recording", "start"] in ops and ["recording", "finish"] in ops
    assert ops.index(["recording", "start"]) < ops.index(["recording", "finish"])
    assert ["memory", "start"] in calls(ctx)
    state = json.loads((ctx.paths.root / "memory.json").read_text())
    assert state == {"one": ["10.9.0.1:5000"]}


def test_router_set_takes_a_plugin_router_and_stops_the_other(
        plugged: Ctx, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = plugged
    _released(ctx, "one")
    schedulers.set_for(ctx, "one", "recording")
    assert berth(capsys, "router:set", "memory") == (0, "-----> Router set to memory\n")
    assert settings.get(ctx.conn, "router") == "memory"
    assert json.loads((ctx.paths.root / "memory.json").read_text()) == \
        {"one": ["10.9.0.1:5000"]}

    code, out = berth(capsys, "router:set", "traefik")
    assert code != 0
    assert ("unknown router 'traefik': use one of the registered routers: caddy, memory, "
            "memory-b, nginx") in out
    assert settings.get(ctx.conn, "router") == "memory"
    assert (ctx.paths.root / "memory.json").exists()

    assert berth(capsys, "router:set", "memory-b")[0] == 0
    assert not (ctx.paths.root / "memory.json").exists()  # stopped: one router at a time
    assert json.loads((ctx.paths.root / "memory-b.json").read_text()) == \
        {"one": ["10.9.0.1:5000"]}
    assert [c for c in calls(ctx) if c[0].startswith("memory")] == \
        [["memory", "start"], ["memory", "stop"], ["memory-b", "start"]]
    assert routing.router_name(ctx) == "memory-b"


def test_the_hook_reference_documents_the_schedulers_hook() -> None:
    text = docs.DOC.read_text()
    assert "### `schedulers`" in text
    assert "berth.schedulers.base.Scheduler" in text
    assert "berth scheduler:set APP NAME" in text


class _Container:
    def __init__(self, app: str, release: int, status: str = "exited") -> None:
        from berth.schedulers import specs

        self.name = specs.container_name(app, "web", 1)
        self.status = status
        self.labels = {specs.LABEL_APP: app, specs.LABEL_TYPE: "web", specs.LABEL_INDEX: "1",
                       specs.LABEL_RELEASE: str(release)}


def test_reconciler_repairs_only_docker_local_apps_and_leaves_locked_names_alone(
        plugged: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    from berth import locks, reconcile

    ctx = plugged
    _released(ctx, "mine")
    _released(ctx, "theirs")
    schedulers.set_for(ctx, "theirs", "recording")
    found = [_Container("mine", 1), _Container("theirs", 1), _Container("renamed", 1),
             _Container("gone", 1)]
    monkeypatch.setattr(engine, "containers", lambda *a, **k: found)
    held = deploy.app_lock_path(ctx, "renamed")  # a rename holds the old name's lock
    with locks.hold(held, what="the test", timeout=1):
        facts, _ = reconcile.read(ctx)
        actions = {(a.kind, a.app) for a in reconcile.plan(facts)}
    assert actions == {("restart", "mine"), ("remove", "gone")}
    assert {"theirs", "renamed"} <= facts.busy
