"""A test plugin (tests/integration/test_plugins_backends.py), installed with
`berth plugin:install tests.plugins.recording`: a scheduler `recording` that hands every call
to the built-in docker-local one, and a router `recording-caddy` that is the built-in Caddy
router running its own Caddy under ROOT/rc. Both write a line per call to
ROOT/recording.log, so a test can tell berth went through them."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from berth.context import Ctx
from berth.hooks import hookimpl
from berth.routers.base import Route
from berth.routers.caddy import CaddyRouter


def record(root: Path, *words: object) -> None:
    line = " ".join(str(w) for w in words) + "\n"
    fd = os.open(root / "recording.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def _apps(args: tuple[Any, ...]) -> str:
    """The app(s) a call is about: an app name, a release's app, or {app: version}."""
    first = args[0] if args else None
    if isinstance(first, str):
        return first
    if isinstance(first, dict):
        return ",".join(sorted(first))
    return str(getattr(first, "app", "-"))


class RecordingScheduler:
    """docker-local, every call recorded."""

    name = "recording"

    def __init__(self, ctx: Ctx) -> None:
        from berth.schedulers.docker_local import DockerLocal

        self.root = ctx.paths.root
        self.inner = DockerLocal()

    def __getattr__(self, op: str) -> Callable[..., Any]:
        fn = getattr(self.inner, op)

        def call(*args: Any, **kwargs: Any) -> Any:
            record(self.root, "scheduler", op, _apps(args))
            return fn(*args, **kwargs)

        return call


class RecordingCaddy(CaddyRouter):
    """The built-in Caddy router with a Caddy of its own (ROOT/rc), applies recorded."""

    name = "recording-caddy"

    def __init__(self, ctx: Ctx) -> None:
        from berth import routing

        self.berth_root = ctx.paths.root
        super().__init__(ctx.paths.root / "rc", listeners=routing.listeners(ctx),
                         log_dir=ctx.paths.logs / "router")

    def apply(self, routes: Sequence[Route], *, force: bool = False) -> None:
        super().apply(routes, force=force)
        record(self.berth_root, "router", "apply", ",".join(r.app for r in routes) or "-")

    def ensure_running(self) -> bool:
        started = super().ensure_running()
        if started:
            record(self.berth_root, "router", "start", "-")
        return started

    def stop(self) -> bool:
        stopped = super().stop()
        if stopped:
            record(self.berth_root, "router", "stop", "-")
        return stopped


@hookimpl
def schedulers() -> dict[str, Any]:
    return {"recording": RecordingScheduler}


@hookimpl
def routers() -> dict[str, Any]:
    return {"recording-caddy": RecordingCaddy}
