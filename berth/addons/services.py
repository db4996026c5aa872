"""Add-on services, for any AddonType: create, link, unlink, destroy, and the data commands
(export, import, backup, connect, logs). The CLI (addons/cli.py) parses and calls these.

State changes are one transaction each; the container, its networks and its data directory
follow from the store, and addons/reconcile.py repairs them when they drift (a killed
container, a crash half-way through create or link)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from berth import engine, locks
from berth.addons import base
from berth.addons.base import AddonType
from berth.context import Ctx
from berth.errors import AlreadyExists, EngineError, NotFound, ValidationError
from berth.store import events
from berth.store import services as store
from berth.store.db import transaction
from berth.store.services import Service

READY_TIMEOUT = 120.0
CHUNK = 1 << 16


def addon_type(name: str) -> AddonType:
    from berth.hooks import manager

    types = manager.addon_types()
    if name not in types:
        raise NotFound(f"unknown service type {name!r}: choose from {', '.join(sorted(types))}")
    return types[name]


def get(ctx: Ctx, t: AddonType, name: str) -> Service:
    return store.get(ctx.conn, t.name, base.service_name(name))


def docker_cli() -> str:
    found = shutil.which("docker")
    if not found:
        raise EngineError("the docker command-line client is not installed (apt-get install "
                          "docker.io)")
    return found


def lock_path(ctx: Ctx, t: AddonType, name: str) -> Path:
    return ctx.paths.locks / f"service-{t.name}-{name}.lock"


@contextmanager
def service_lock(ctx: Ctx, t: AddonType, name: str) -> Iterator[None]:
    with locks.hold(lock_path(ctx, t, name), what=f"another change to {t.name} {name}",
                    timeout=120, out=ctx.out, holder=ctx.actor):
        yield


# ------------------------------------------------------------------------------- create


def create(ctx: Ctx, t: AddonType, name: str, *, image: str | None = None,
           password: str | None = None) -> Service:
    import secrets

    base.service_name(name)
    pw = base.password(password) if password is not None else secrets.token_hex(16)
    if store.find(ctx.conn, t.name, name):
        raise AlreadyExists(f"{t.name} service {name!r} already exists")
    ref = image or default_image(ctx, t)
    ensure_image(ctx, t, ref, explicit=image is not None)
    with service_lock(ctx, t, name):
        with transaction(ctx.conn):
            svc = store.create(ctx.conn, t.name, name, image=ref, password=pw)
            events.record(ctx.conn, actor=ctx.actor, app=None, action="service.create",
                          details={"type": t.name, "service": name})
        try:
            ctx.step(f"Starting {t.name} service {name}")
            start(ctx, t, svc)
            wait_ready(t, svc)
        except BaseException:
            remove_container(t.name, name)
            engine.remove_network(base.network_name(t.name, name))
            shutil.rmtree(base.service_dir(ctx.paths.root, t.name, name), ignore_errors=True)
            with transaction(ctx.conn):
                store.delete(ctx.conn, svc)
            raise
    return svc


def default_image(ctx: Ctx, t: AddonType) -> str:
    from berth import stackconf
    from berth.builders import stacks

    return stacks.stack_image(t.stack, stackconf.overrides(ctx))


def ensure_image(ctx: Ctx, t: AddonType, ref: str, *, explicit: bool) -> None:
    """The image must be on this host: a missing berth stack is built (once; later builds are
    cached), any other image must be loaded or pulled by the operator (berth never pulls)."""
    from berth import stackconf
    from berth.builders import stacks

    if engine.image_exists(ref):
        return
    if not explicit and ref == stacks.local_image(t.stack):
        ctx.step(f"Building the {t.stack} stack (once)")
        stacks.build_stacks([t.stack], ca_bundle=stackconf.ca_bundle(ctx),
                            cache_dir=ctx.paths.cache / "debootstrap", out=ctx.info)
        return
    raise ValidationError(f"image {ref!r} is not on this host: berth never pulls; "
                          f"`docker pull {ref}` (or load it) first")


def is_stack_image(t: AddonType, ref: str) -> bool:
    with engine.errors(f"inspecting image {ref}"):
        lab = engine.client().images.get(ref).labels or {}
    return bool(lab.get("berth.stack") == t.stack)


def start(ctx: Ctx, t: AddonType, svc: Service) -> Any:
    """Make the service's container exist, run, and sit on the networks of its linked apps."""
    import docker.errors

    sdir = base.service_dir(ctx.paths.root, t.name, svc.name)
    (sdir / "data").mkdir(parents=True, exist_ok=True)
    os.chmod(ctx.paths.root / "services", 0o700)
    stack = is_stack_image(t, svc.image)
    if stack:
        script = sdir / "entrypoint.sh"
        text = t.entrypoint_script()
        if not script.exists() or script.read_text() != text:
            script.write_text(text)
            script.chmod(0o755)
    engine.ensure_network(base.network_name(t.name, svc.name), base.labels(t.name, svc.name))
    client = engine.client()
    try:
        container = client.containers.get(base.container_name(t.name, svc.name))
    except docker.errors.NotFound:
        container = engine.create(base.service_spec(t, svc, root=ctx.paths.root, stack=stack))
    if container.status != "running":
        with engine.errors(f"starting {container.name}"):
            container.start()
    for link in store.links(ctx.conn, svc):
        connect_app(t, svc.name, link.app)
    return container


def wait_ready(t: AddonType, svc: Service, timeout: float = READY_TIMEOUT) -> None:
    """Poll the type's readiness command until it succeeds (bounded in time)."""
    container = engine.client().containers.get(base.container_name(t.name, svc.name))
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        if container.status not in ("running", "created"):
            raise EngineError(f"{t.name} service {svc.name} stopped while starting:\n"
                              + engine.logs_tail(container, 15))
        code = container.exec_run(t.ready_argv(svc), user=t.exec_user or "").exit_code
        if code == 0:
            return
        if time.monotonic() > deadline:
            raise EngineError(f"{t.name} service {svc.name} was not ready after "
                              f"{timeout:.0f}s:\n" + engine.logs_tail(container, 15))
        time.sleep(0.5)


def remove_container(type_: str, name: str) -> None:
    import docker.errors

    try:
        container = engine.client().containers.get(base.container_name(type_, name))
    except docker.errors.NotFound:
        return
    engine.remove(container, timeout=30)


# ------------------------------------------------------------------------------- networks


def connect_app(t: AddonType, name: str, app: str) -> None:
    """Join the app's network under the service's host alias (idempotent)."""
    from berth.schedulers import specs

    net_name = specs.network_name(app)
    engine.ensure_network(net_name, {specs.LABEL_APP: app})
    client = engine.client()
    with engine.errors(f"connecting {t.name} {name} to {net_name}"):
        container = client.containers.get(base.container_name(t.name, name))
        if net_name in networks_of(container):
            return
        client.networks.get(net_name).connect(container,
                                              aliases=[base.host_alias(t.name, name)])


def disconnect(container: Any, net_name: str) -> None:
    import docker.errors

    try:
        engine.client().networks.get(net_name).disconnect(container, force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as e:
        if "is not connected" not in str(e):
            raise EngineError(f"disconnecting {container.name} from {net_name}: {e}") from None


def networks_of(container: Any) -> set[str]:
    container.reload()
    return set((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})


def find_container(t: AddonType, name: str) -> Any | None:
    import docker.errors

    try:
        return engine.client().containers.get(base.container_name(t.name, name))
    except docker.errors.NotFound:
        return None


# ------------------------------------------------------------------------------- links


def link(ctx: Ctx, t: AddonType, name: str, app_name: str, alias: str | None = None) -> str:
    """Give APP the service's URL as ALIAS_URL and restart it; returns the config var."""
    from berth import apps
    from berth.deploy import app_lock, redeploy_config
    from berth.hooks import manager
    from berth.store import config as store_config

    var = base.alias_name(alias or t.default_alias) + "_URL"
    svc = get(ctx, t, name)
    app = apps.require(ctx, app_name)
    with app_lock(ctx, app.name):
        for other in store.links_of_app(ctx.conn, app.id):
            if other.type == t.name and other.service == name:
                raise ValidationError(f"{t.name} service {name!r} is already linked to "
                                      f"{app.name} (as {other.alias}_URL)")
            if other.alias + "_URL" == var:
                raise ValidationError(f"{app.name} already gets {var} from {other.type} "
                                      f"service {other.service!r}; choose another --alias")
        start(ctx, t, svc)
        connect_app(t, name, app.name)
        url = t.url(svc, base.host_alias(t.name, name))
        with transaction(ctx.conn):
            store.link(ctx.conn, svc, app.id, var.removesuffix("_URL"))
            store_config.set_many(ctx.conn, app.id, {var: url})
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action="service.link",
                          details={"type": t.name, "service": name, "key": var})
        manager.fire(ctx, "post_config_update", app=app.name, keys=[var])
        ctx.step(f"Linked {t.name} {name} to {app.name} as {var}")
        if redeploy_config(ctx, app, f"Link {t.name} {name} ({var})") is None:
            ctx.info(f"{app.name} is not deployed yet; its first deploy gets {var}")
    return var


def unlink(ctx: Ctx, t: AddonType, name: str, app_name: str) -> str:
    from berth import apps
    from berth.deploy import app_lock, redeploy_config
    from berth.hooks import manager
    from berth.schedulers import specs
    from berth.store import config as store_config

    svc = get(ctx, t, name)
    app = apps.require(ctx, app_name)
    with app_lock(ctx, app.name):
        found = [lk for lk in store.links(ctx.conn, svc) if lk.app == app.name]
        if not found:
            raise NotFound(f"{t.name} service {name!r} is not linked to {app.name}")
        var = found[0].alias + "_URL"
        with transaction(ctx.conn):
            store.unlink(ctx.conn, svc, app.id)
            store_config.unset_many(ctx.conn, app.id, [var])
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action="service.unlink",
                          details={"type": t.name, "service": name, "key": var})
        manager.fire(ctx, "post_config_update", app=app.name, keys=[var])
        ctx.step(f"Unlinked {t.name} {name} from {app.name}")
        redeploy_config(ctx, app, f"Unlink {t.name} {name} ({var})")
        container = find_container(t, name)
        if container is not None:
            disconnect(container, specs.network_name(app.name))
    return var


# ------------------------------------------------------------------------------- destroy


def destroy(ctx: Ctx, t: AddonType, name: str) -> None:
    """Container, networks, data and state; refused while any app is linked."""
    svc = get(ctx, t, name)
    linked = [lk.app for lk in store.links(ctx.conn, svc)]
    if linked:
        raise ValidationError(f"{t.name} service {name!r} is linked to {', '.join(linked)}; "
                              f"unlink it first (berth {t.name}:unlink {name} APP)")
    with service_lock(ctx, t, name):
        with transaction(ctx.conn):
            if store.links(ctx.conn, svc):  # linked meanwhile
                raise ValidationError(f"{t.name} service {name!r} was linked meanwhile")
            store.delete(ctx.conn, svc)
            events.record(ctx.conn, actor=ctx.actor, app=None, action="service.destroy",
                          details={"type": t.name, "service": name})
        remove_container(t.name, name)
        engine.remove_network(base.network_name(t.name, name))
        shutil.rmtree(base.service_dir(ctx.paths.root, t.name, name), ignore_errors=True)


# ------------------------------------------------------------------------------- reading


def status(t: AddonType, name: str) -> str:
    container = find_container(t, name)
    return "missing" if container is None else str(container.status)


def info(ctx: Ctx, t: AddonType, name: str, *, reveal: bool = False) -> dict[str, Any]:
    svc = get(ctx, t, name)
    url = t.url(svc, base.host_alias(t.name, name))
    if not reveal:
        url = url.replace(svc.password, "********")
    return {
        "type": t.name,
        "name": svc.name,
        "status": status(t, name),
        "image": svc.image,
        "url": url,
        "host": base.host_alias(t.name, name),
        "port": t.port,
        "container": base.container_name(t.name, name),
        "data_dir": str(base.service_dir(ctx.paths.root, t.name, name) / "data"),
        "links": [f"{lk.app} ({lk.alias}_URL)" for lk in store.links(ctx.conn, svc)],
        "created_at": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(svc.created_at)),
    }


def list_(ctx: Ctx, t: AddonType) -> list[dict[str, Any]]:
    rows = []
    for svc in store.all_services(ctx.conn, t.name):
        rows.append({"name": svc.name, "status": status(t, svc.name),
                     "links": [lk.app for lk in store.links(ctx.conn, svc)]})
    return rows


# ------------------------------------------------------------------------------- data


def running_container(ctx: Ctx, t: AddonType, svc: Service) -> Any:
    container = find_container(t, svc.name)
    if container is None or container.status != "running":
        raise EngineError(f"{t.name} service {svc.name} is not running (status: "
                          f"{status(t, svc.name)}); `berth server` restarts it, or see "
                          f"`berth {t.name}:logs {svc.name}`")
    return container


def logs(ctx: Ctx, t: AddonType, name: str, *, tail: int, follow: bool) -> int:
    get(ctx, t, name)
    argv = base.logs_argv(docker_cli(), base.container_name(t.name, name), tail=tail,
                          follow=follow)
    return subprocess.call(argv)


def connect(ctx: Ctx, t: AddonType, name: str) -> int:
    """The service's own client on this terminal (a tty when there is one, e.g. `ssh -t`)."""
    svc = get(ctx, t, name)
    container = running_container(ctx, t, svc)
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    argv = base.exec_argv(docker_cli(), container.name, t.connect_argv(svc),
                          user=t.exec_user, stdin=True, tty=tty)
    return subprocess.call(argv)


def export(ctx: Ctx, t: AddonType, name: str, out: IO[bytes]) -> None:
    """Stream a dump to ``out`` straight from the service (nothing is held in memory or on
    disk beyond one chunk)."""
    svc = get(ctx, t, name)
    container = running_container(ctx, t, svc)
    argv = base.exec_argv(docker_cli(), container.name, t.export_argv(svc), user=t.exec_user)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    for chunk in t.export_filter(iter(lambda: proc.stdout.read(CHUNK), b"")):  # type: ignore[union-attr]
        out.write(chunk)
    out.flush()
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise EngineError(f"exporting {t.name} {name} failed (exit {proc.returncode}): "
                          + _tail(err))


def import_(ctx: Ctx, t: AddonType, name: str, src: IO[bytes]) -> None:
    """Stream a dump from ``src`` into the service (checked by its first bytes first)."""
    svc = get(ctx, t, name)
    container = running_container(ctx, t, svc)
    head = src.read(CHUNK)
    t.check_dump(head)
    if t.import_by_files():
        _import_files(ctx, t, svc, container, head, src)
        return
    argv = base.exec_argv(docker_cli(), container.name, t.import_argv(svc, head),
                          user=t.exec_user, stdin=True)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        chunk = head
        while chunk:
            proc.stdin.write(chunk)
            chunk = src.read(CHUNK)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    output = proc.stdout.read().decode(errors="replace")
    if proc.wait() != 0:
        raise EngineError(f"importing into {t.name} {name} failed (exit {proc.returncode}): "
                          + _tail(output))


def _import_files(ctx: Ctx, t: AddonType, svc: Service, container: Any, head: bytes,
                  src: IO[bytes]) -> None:
    def chunks() -> Iterator[bytes]:
        yield head
        while chunk := src.read(CHUNK):
            yield chunk

    with service_lock(ctx, t, svc.name):
        with engine.errors(f"stopping {container.name}"):
            container.stop(timeout=30)
        try:
            t.import_files(base.service_dir(ctx.paths.root, t.name, svc.name) / "data", chunks())
        finally:
            with engine.errors(f"starting {container.name}"):
                container.start()
    wait_ready(t, svc)


def _tail(text: str, lines: int = 10) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def backup(ctx: Ctx, t: AddonType, name: str, *, directory: Path | None,
           keep: int) -> tuple[Path, list[Path]]:
    """Export into DIR/TYPE-NAME-YYYYmmddTHHMMSSZ.dump (written beside, then renamed), then
    remove the oldest backups of this service beyond ``keep``. Returns (new, removed)."""
    if keep < 1:
        raise ValidationError("--keep must be at least 1")
    get(ctx, t, name)
    target = directory or ctx.paths.root / "backups" / t.name / name
    target.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = target / f"{t.name}-{name}-{stamp}.dump"
    n = 1
    while path.exists():
        n += 1
        path = target / f"{t.name}-{name}-{stamp}-{n}.dump"
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            export(ctx, t, name, f)
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path, prune_backups(target, t.name, name, keep)


def prune_backups(directory: Path, type_: str, name: str, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups of one service (by the time in the name)."""
    import re

    pattern = re.compile(re.escape(f"{type_}-{name}-") + r"(\d{8}T\d{6}Z)(?:-(\d+))?\.dump")
    mine = []
    for p in directory.iterdir():
        m = pattern.fullmatch(p.name)
        if m and p.is_file():
            mine.append(((m.group(1), int(m.group(2) or 1)), p))
    mine.sort()
    old = [p for _, p in mine[:-keep]] if len(mine) > keep else []
    for p in old:
        p.unlink(missing_ok=True)
    return old
