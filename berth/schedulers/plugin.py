"""The built-in scheduler, registered through the `schedulers` hook like any plugin's:
berth.schedulers.selected() builds the one an app uses (`berth scheduler:set`) from it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from berth.hooks import hookimpl

if TYPE_CHECKING:
    from berth.context import Ctx
    from berth.schedulers.base import Scheduler


def docker_local(ctx: Ctx) -> Scheduler:
    from berth.schedulers.docker_local import DockerLocal

    return DockerLocal()


@hookimpl
def schedulers() -> dict[str, Any]:
    return {"docker-local": docker_local}
