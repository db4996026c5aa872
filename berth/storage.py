"""Persistent storage: host directories bind-mounted into an app's containers.

    storage:ensure-directory NAME         ROOT/storage/NAME, owned by uid 1000 (user `app`
                                          in the stack images)
    storage:mount APP HOST:CONTAINER[:ro] applies on the next deploy or restart, to every
                                          process type and to one-offs (run, cron, release)

Mounts are app settings `storage.mount.CONTAINER_PATH` = `HOST_PATH` (+ `:ro`). Data lives on
the host, so it survives redeploys, rollbacks and rebuilds; destroying an app keeps it.
Host paths outside ROOT/storage need --allow-host-path, which only an admin may give
(permissions.require_admin)."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import Any

from berth.context import Ctx
from berth.errors import NotFound, ValidationError
from berth.models import App, Mount
from berth.store import apps as store_apps
from berth.store import events
from berth.store.db import transaction

APP_UID = APP_GID = 1000
KEY = "storage.mount."
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_PATH_CHARS = re.compile(r"[A-Za-z0-9._/@+=-]+")
# mounting over these would break or expose the container's system
SYSTEM_DIRS = {"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
               "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var", "/tmp/.X11-unix"}
SYSTEM_TREES = ("/proc", "/sys", "/dev", "/etc", "/boot")
HOST_REFUSED = ("/var/run/docker.sock", "/run/docker.sock")
OWNERS = {"app": (APP_UID, APP_GID), "root": (0, 0)}


def storage_root(ctx: Ctx) -> Path:
    return ctx.paths.root / "storage"


def directory_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise ValidationError(f"invalid storage directory name {str(name)[:70]!r}: use a-z, "
                              "0-9, '.', '_' and '-', starting with a letter or digit, no "
                              "'..' (max 63)")
    return name


def _clean_path(value: str, what: str) -> str:
    """Absolute, plain characters, no '..', no ':'; returned normalised."""
    rule = (f"invalid {what} {value[:80]!r}: an absolute path of letters, digits and "
            "'._/@+=-', without '..'")
    if not value.startswith("/") or len(value) > 1024 or not _PATH_CHARS.fullmatch(value):
        raise ValidationError(rule)
    if ".." in value.split("/"):
        raise ValidationError(rule)
    return posixpath.normpath(value).replace("//", "/")


def container_path(value: str) -> str:
    path = _clean_path(value, "container path")
    if path == "/" or path in SYSTEM_DIRS or any(
            path.startswith(t + "/") for t in SYSTEM_TREES):
        raise ValidationError(f"invalid container path {path!r}: not / or a system "
                              "directory (" + ", ".join(sorted(SYSTEM_TREES)) + " ...)")
    return path


def parse_spec(spec: str) -> tuple[str, str, bool]:
    """'HOST:CONTAINER' or 'HOST:CONTAINER:ro|rw' -> (host, container, read_only)."""
    parts = spec.split(":") if isinstance(spec, str) else []
    if len(parts) == 3 and parts[2] in ("ro", "rw"):
        mode = parts.pop()
    elif len(parts) == 2:
        mode = "rw"
    else:
        raise ValidationError(f"invalid mount {str(spec)[:80]!r}: use "
                              "/host/path:/container/path (optionally :ro)")
    return _clean_path(parts[0], "host path"), container_path(parts[1]), mode == "ro"


def check_host_path(ctx: Ctx, host: str, *, allow_host_path: bool) -> str:
    """The host path must exist; outside ROOT/storage it needs --allow-host-path (admins);
    the berth root itself and the Docker socket are never mountable."""
    from berth import permissions

    real = os.path.realpath(host)
    if not os.path.exists(real):
        raise ValidationError(f"host path {host!r} does not exist; create one with "
                              "`berth storage:ensure-directory NAME`")
    sroot = os.path.realpath(storage_root(ctx))
    broot = os.path.realpath(ctx.paths.root)
    if real == sroot or real.startswith(sroot + "/"):
        if real == sroot:
            raise ValidationError("mount a directory inside the storage root, not the "
                                  "storage root itself")
        return real
    if real == "/" or real in HOST_REFUSED or real == broot or real.startswith(broot + "/"):
        raise ValidationError(f"host path {host!r} cannot be mounted: it is / or holds "
                              "berth's or Docker's own state")
    if not allow_host_path:
        raise ValidationError(f"host path {host!r} is outside {sroot}; give "
                              "--allow-host-path to mount it (admins only)")
    permissions.require_admin(ctx)
    return real


def ensure_directory(ctx: Ctx, name: str, *, chown: str = "app") -> Path:
    directory_name(name)
    if chown not in (*OWNERS, "false"):
        raise ValidationError(f"invalid --chown {chown!r}: app, root or false")
    root = storage_root(ctx)
    root.mkdir(mode=0o711, exist_ok=True)
    path = root / name
    created = not path.exists()
    path.mkdir(mode=0o750, exist_ok=True)
    if path.is_symlink() or not path.is_dir():
        raise ValidationError(f"{path} exists and is not a directory")
    if chown != "false":
        uid, gid = OWNERS[chown]
        os.chown(path, uid, gid)
    with transaction(ctx.conn):
        events.record(ctx.conn, actor=ctx.actor, app=None, action="storage.ensure-directory",
                      details={"name": name, "created": created, "chown": chown})
    return path


def mounts(ctx: Ctx, app: App) -> tuple[Mount, ...]:
    out = []
    for key, value in store_apps.settings(ctx.conn, app).items():
        if key.startswith(KEY):
            host, _, mode = value.partition(":")
            out.append(Mount(host=host, container=key[len(KEY):], read_only=mode == "ro"))
    return tuple(sorted(out, key=lambda m: m.container))


def mount(ctx: Ctx, app_name: str, spec: str, *, allow_host_path: bool = False) -> Mount:
    from berth import apps

    host, target, ro = parse_spec(spec)
    app = apps.get(ctx, app_name)
    real = check_host_path(ctx, host, allow_host_path=allow_host_path)
    with transaction(ctx.conn):
        existing = store_apps.get_setting(ctx.conn, app, KEY + target)
        if existing is not None:
            raise ValidationError(f"{app.name} already mounts {existing.split(':')[0]} at "
                                  f"{target}; unmount it first")
        store_apps.set_setting(ctx.conn, app, KEY + target, real + (":ro" if ro else ""))
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action="storage.mount",
                      details={"host": real, "container": target, "read_only": ro})
    return Mount(host=real, container=target, read_only=ro)


def unmount(ctx: Ctx, app_name: str, spec: str) -> Mount:
    """By 'HOST:CONTAINER' (as mounted) or by the container path alone."""
    from berth import apps

    app = apps.get(ctx, app_name)
    if ":" in spec:
        host, target, _ = parse_spec(spec)
    else:
        host, target = "", container_path(spec)
    with transaction(ctx.conn):
        existing = store_apps.get_setting(ctx.conn, app, KEY + target)
        stored_host = (existing or "").split(":")[0]
        if existing is None or (host and os.path.realpath(host) != stored_host):
            raise NotFound(f"{app.name} has no mount {spec[:80]!r}; see "
                           f"`berth storage:list {app.name}`")
        store_apps.set_setting(ctx.conn, app, KEY + target, None)
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action="storage.unmount",
                      details={"host": stored_host, "container": target})
    return Mount(host=stored_host, container=target, read_only=existing.endswith(":ro"))


def describe(m: Mount) -> dict[str, object]:
    return {"host": m.host, "container": m.container, "read_only": m.read_only,
            "exists": os.path.exists(m.host)}


def report(ctx: Ctx, app_name: str | None) -> dict[str, Any]:
    """One app's mounts, or every app's plus the directories under the storage root."""
    from berth import apps

    root = storage_root(ctx)
    if app_name is not None:
        app = apps.get(ctx, app_name)
        return {"app": app.name, "storage_root": str(root),
                "mounts": [describe(m) for m in mounts(ctx, app)]}
    dirs = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return {"storage_root": str(root), "directories": dirs,
            "apps": {a.name: [describe(m) for m in mounts(ctx, a)]
                     for a in store_apps.all_apps(ctx.conn)}}
