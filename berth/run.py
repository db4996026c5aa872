"""One-off containers: `run` (attached, with a pty when the caller has one), `run:detached`,
`enter` (exec into a running container), and the captured runs that cron uses.

Every one-off starts from the app's current release with its config, network, limits and
mounts (specs.oneoff_spec). Attached runs and `enter` hand the terminal to Debian's docker
CLI (`docker start --attach --interactive`, `docker exec -it`), given as an argv list: it
puts the pty in raw mode, forwards window size and signals and returns the command's exit
code. The container is removed afterwards; if berth dies first, the server's sweeper
(server/scheduler.py) removes exited one-offs.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from berth import apps, engine, logs, names, runopts
from berth.context import Ctx
from berth.errors import EngineError, NotFound, ValidationError
from berth.instance import prefix
from berth.models import App, Release
from berth.schedulers import specs
from berth.store import events, releases
from berth.store.db import transaction

LABEL_ONEOFF = "berth.oneoff"  # attached | detached | cron
LABEL_CRON = "berth.cron"
MAX_ARGS = 256
DOCKER_CLI = "/usr/bin/docker"


def docker_cli() -> str:
    """Debian's docker CLI (matches the engine); any `docker` on PATH otherwise."""
    if os.access(DOCKER_CLI, os.X_OK):
        return DOCKER_CLI
    found = shutil.which("docker")
    if not found:
        raise EngineError("the docker command-line client is needed for `run` and `enter`")
    return found


def check_argv(argv: list[str] | tuple[str, ...]) -> list[str]:
    if not argv:
        raise ValidationError("give a command to run, e.g. `berth run myapp python manage.py "
                              "shell`")
    if len(argv) > MAX_ARGS or any("\x00" in a for a in argv):
        raise ValidationError(f"invalid command: at most {MAX_ARGS} arguments, no NUL bytes")
    return list(argv)


def current_release(ctx: Ctx, app_name: str) -> tuple[App, Release]:
    app = apps.get(ctx, app_name)
    rel = releases.current(ctx.conn, app)
    if rel is None or rel.image is None:
        raise NotFound(f"{app.name} has no deployed release yet; push to it first")
    return app, rel


def _new_index(app: str, kind: str) -> tuple[int, str]:
    """A free run number and its container name `PREFIX.APP.KIND.N`."""
    taken = {c.name for c in engine.containers(app)}
    for _ in range(50):
        n = random.randint(1000, 99999)
        name = f"{prefix()}.{app}.{kind}.{n}"
        if name not in taken:
            return n, name
    raise EngineError("cannot find a free one-off container name; remove old ones")


def _spec(ctx: Ctx, app: App, rel: Release, argv: list[str], *, kind: str, mode: str,
          interactive: bool = False, tty: bool = False,
          extra: dict[str, str] | None = None) -> dict[str, Any]:
    n, name = _new_index(app.name, kind)
    opts = runopts.load(ctx, app)
    return specs.oneoff_spec(rel, argv, name=name, role=kind, index=n,
                             limits=opts.limits_for(kind), mounts=opts.mounts,
                             interactive=interactive, tty=tty,
                             extra_labels={LABEL_ONEOFF: mode, **(extra or {})})


def _record(ctx: Ctx, app: App, action: str, **details: object) -> None:
    with transaction(ctx.conn):
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action=action, details=details)


class _Hangup(Exception):
    """SIGHUP/SIGTERM while a one-off runs: the client went away; clean up and leave."""


def _raise_hangup(signum: int, frame: object) -> None:
    raise _Hangup()


def attached(ctx: Ctx, app_name: str, argv: list[str], *, tty: bool | None = None) -> int:
    """Run argv in a new container, attached to this process's stdin/stdout/stderr (a pty
    when stdin is a terminal); returns its exit code. Ctrl-C reaches the command."""
    argv = check_argv(argv)
    app, rel = current_release(ctx, app_name)
    use_tty = sys.stdin.isatty() if tty is None else tty
    spec = _spec(ctx, app, rel, argv, kind="run", mode="attached", interactive=True,
                 tty=use_tty)
    engine.ensure_network(specs.network_name(app.name), {specs.LABEL_APP: app.name})
    container = engine.create(spec)
    _record(ctx, app, "run", container=spec["name"], release=rel.version, tty=use_tty)
    old = {s: signal.signal(s, _raise_hangup) for s in (signal.SIGHUP, signal.SIGTERM)}
    old_int = signal.getsignal(signal.SIGINT)
    try:
        cmd = [docker_cli(), "start", "--attach", "--interactive", container.id]
        proc = subprocess.Popen(cmd)
        # the docker CLI forwards Ctrl-C to the command; berth waits for its exit code
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.terminate()
        return _exit_code(container, code)
    except _Hangup:
        return 129
    finally:
        signal.signal(signal.SIGINT, old_int)
        for s, h in old.items():
            signal.signal(s, h)
        engine.remove(container, timeout=1)


def _exit_code(container: Any, cli_code: int) -> int:
    """The command's own exit code from the engine (the CLI's, if the engine has none)."""
    import docker.errors

    try:
        container.reload()
        state = container.attrs.get("State", {})
        if state.get("Status") == "exited":
            return int(state.get("ExitCode", cli_code))
    except docker.errors.DockerException:
        pass
    return cli_code


def detached(ctx: Ctx, app_name: str, argv: list[str]) -> str:
    """Start argv in the background; its output goes to the app's log as run.N. Returns the
    container's name. The server removes it once it has exited."""
    argv = check_argv(argv)
    app, rel = current_release(ctx, app_name)
    spec = _spec(ctx, app, rel, argv, kind="run", mode="detached")
    engine.ensure_network(specs.network_name(app.name), {specs.LABEL_APP: app.name})
    container = engine.create(spec)
    with engine.errors(f"starting {spec['name']}"):
        container.start()
    _record(ctx, app, "run.detached", container=spec["name"], release=rel.version)
    return str(spec["name"])


def find_process(app: str, process: str) -> Any:
    """The running container of `web.1` (or `web`, meaning web.1) of the app."""
    ptype, _, index = process.partition(".")
    names.process_type(ptype)
    if index and not index.isdigit():
        raise ValidationError(f"invalid process {process[:40]!r}: use TYPE.N, e.g. web.1")
    want = (ptype, index or "1")
    for c in engine.containers(app, all=False):
        lab = c.labels
        if lab.get(specs.LABEL_ROLE) != "process":
            continue
        if (lab.get(specs.LABEL_TYPE), lab.get(specs.LABEL_INDEX)) == want:
            if not c.name.endswith(".retiring"):
                return c
    raise NotFound(f"{app} has no running {want[0]}.{want[1]}; see `berth ps:report {app}`")


def enter(ctx: Ctx, app_name: str, process: str, argv: list[str], *,
          tty: bool | None = None) -> int:
    """Exec argv (default /bin/sh) in a running container; returns its exit code."""
    app = apps.get(ctx, app_name)
    argv = check_argv(argv or ["/bin/sh"])
    container = find_process(app.name, process)
    use_tty = sys.stdin.isatty() if tty is None else tty
    _record(ctx, app, "enter", container=container.name)
    cmd = [docker_cli(), "exec", "--interactive", *(["--tty"] if use_tty else []),
           container.id, *argv]
    old_int = signal.getsignal(signal.SIGINT)
    proc = subprocess.Popen(cmd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle
    try:
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, old_int)


def captured(ctx: Ctx, app: App, rel: Release, argv: list[str], *, kind: str,
             log_label: str, out: Callable[[str], None] | None = None,
             extra_labels: dict[str, str] | None = None) -> int:
    """Run argv to completion with no terminal; each output line goes to `out` and to the
    app's log as `log_label`. Returns the exit code; the container is removed."""
    spec = _spec(ctx, app, rel, argv, kind=kind, mode=kind, extra=extra_labels)
    engine.ensure_network(specs.network_name(app.name), {specs.LABEL_APP: app.name})
    container = engine.create(spec)
    cid = container.id[:12]
    try:
        with engine.errors(f"running {spec['name']}"):
            container.start()
            buf = b""
            for chunk in container.logs(stream=True, follow=True, timestamps=True):
                buf += chunk
                *lines, buf = buf.split(b"\n")
                _ship(ctx, app.name, cid, log_label, lines, out)
            if buf:
                _ship(ctx, app.name, cid, log_label, [buf], out)
            result = container.wait()
        return int(result.get("StatusCode", 1))
    finally:
        engine.remove(container, timeout=2)


def _ship(ctx: Ctx, app: str, cid: str, label: str, lines: list[bytes],
          out: Callable[[str], None] | None) -> None:
    records = []
    for raw in lines:
        parsed = logs.split_engine_line(raw)
        if parsed is None:
            continue
        ns, text = parsed
        records.append(logs.Record(ns=ns, process=label, container=cid, text=text))
        if out is not None:
            out(text)
    logs.append(ctx.paths, app, records)


def running_cron(app: str, entry_id: str) -> list[str]:
    """Names of this entry's containers that still run (to skip an overlapping run)."""
    out = []
    for c in engine.containers(app, all=False):
        if c.labels.get(LABEL_CRON) == entry_id:
            out.append(c.name)
    return out


def cron_run(ctx: Ctx, app_name: str, entry_id: str, *, trigger: str,
             out: Callable[[str], None] | None = None) -> int | None:
    """Run one cron entry now, unless a run of it is still going (then None, recorded as
    cron.skipped). Events cron.start and cron.finish carry the id, never the command."""
    from berth import cron

    app, rel = current_release(ctx, app_name)
    entry = cron.find(rel.app_json, entry_id)
    busy = running_cron(app.name, entry.id)
    if busy:
        _record(ctx, app, "cron.skipped", id=entry.id, trigger=trigger,
                reason="the previous run is still going")
        return None
    _record(ctx, app, "cron.start", id=entry.id, trigger=trigger, release=rel.version)
    started = time.monotonic()
    code = -1
    try:
        code = captured(ctx, app, rel, entry.argv(), kind="cron", log_label=f"cron.{entry.id}",
                        out=out, extra_labels={LABEL_CRON: entry.id})
    finally:
        _record(ctx, app, "cron.finish", id=entry.id, trigger=trigger, exit_code=code,
                seconds=round(time.monotonic() - started, 1))
    return code
