"""App images: keep a few, prune the rest after every successful deploy.

Kept: the images of the newest `retain-images` succeeded releases (distinct images, newest
first; global setting, default 5), plus always the running release's image and the default
rollback target's. Every other image the app's releases used, and anything else tagged in the
app's repository, is removed. An image a container still uses is left for the next prune.
"""

from __future__ import annotations

from berth import engine
from berth.context import Ctx
from berth.errors import BerthError
from berth.instance import prefix
from berth.models import App, Release
from berth.store import apps as store_apps
from berth.store import releases, settings

DEFAULT_RETAIN = 5


def retain_count(ctx: Ctx) -> int:
    try:
        return max(1, int(settings.get(ctx.conn, "retain-images")))
    except ValueError:
        return DEFAULT_RETAIN


def keep(rels: list[Release], current: int | None, retain: int) -> set[str]:
    """Pure: the image ids to keep."""
    from berth.releases import previous_succeeded

    kept: list[str] = []
    for r in sorted(rels, key=lambda r: -r.version):
        if r.status == "succeeded" and r.image and r.image not in kept and len(kept) < retain:
            kept.append(r.image)
    out = set(kept)
    for r in rels:
        if r.version == current and r.image:
            out.add(r.image)
    target = previous_succeeded(rels, current)
    if target is not None and target.image:
        out.add(target.image)
    return out


def prune(ctx: Ctx, app: App) -> list[str]:
    """Remove the app's images that are not kept; returns the ids removed."""
    app = store_apps.get(ctx.conn, app.name)
    rels = releases.all_releases(ctx.conn, app)
    kept = keep(rels, app.current_release, retain_count(ctx))
    try:
        candidates = {r.image for r in rels if r.image}
        candidates |= engine.image_ids(f"{prefix()}/{app.name}")
        removed = [ref for ref in sorted(candidates - kept) if engine.remove_image(ref)]
    except BerthError as e:
        ctx.info(f"could not prune old images: {e}")
        return []
    if removed:
        ctx.info(f"pruned {len(removed)} old image(s); keeping {len(kept)}")
    return removed
