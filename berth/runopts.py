"""What an app's containers get beyond their release: resource limits and storage mounts,
read from the store in one place so deploys, restarts, the reconciler and one-offs agree."""

from __future__ import annotations

from berth.context import Ctx
from berth.models import App, Release, RunOptions


def load(ctx: Ctx, app: App) -> RunOptions:
    from berth import resources, storage

    limits = {t: v for t, v in resources.load(ctx, app).items() if t != resources.BUILD}
    from berth import ps

    return RunOptions(limits=limits, mounts=storage.mounts(ctx, app),
                      read_only=ps.read_only(ctx, app))


def for_release(ctx: Ctx, release: Release) -> RunOptions:
    from berth.store import apps as store_apps

    return load(ctx, store_apps.get(ctx.conn, release.app))
