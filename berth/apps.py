"""Apps: create, destroy, rename, report."""

from __future__ import annotations

from berth import engine, gitrepo, logs, names, routing
from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound
from berth.hooks import manager as hooks
from berth.instance import prefix
from berth.models import App
from berth.schedulers import selected
from berth.store import apps as store
from berth.store import events, formation, releases
from berth.store.db import transaction


def create(ctx: Ctx, name: str) -> App:
    names.app_name(name)
    with transaction(ctx.conn):
        app = store.create(ctx.conn, name)
        gitrepo.create(ctx.paths.repo(name), ctx.paths.root)
        events.record(ctx.conn, actor=ctx.actor, app=name, action="app.create")
    hooks.fire(ctx, "post_create", app=name)
    return app


def get(ctx: Ctx, name: str) -> App:
    names.app_name(name)
    return store.get(ctx.conn, name)


def exists(ctx: Ctx, name: str) -> bool:
    names.app_name(name)
    return store.find(ctx.conn, name) is not None


def destroy(ctx: Ctx, name: str) -> None:
    """Containers, network, images, route, repo and state: all of it goes."""
    from berth.deploy import app_lock

    app = get(ctx, name)
    with app_lock(ctx, name):
        hooks.fire(ctx, "pre_delete", app=name)
        image_ids = {r.image for r in releases.all_releases(ctx.conn, app) if r.image}
        sched = selected(ctx, app)  # before its settings go
        with transaction(ctx.conn):
            store.delete(ctx.conn, app)
            events.record(ctx.conn, actor=ctx.actor, app=name, action="app.destroy")
        sched.remove_app(name)
        _remove_images(name, image_ids)
        gitrepo.remove(ctx.paths.repo(name))
        logs.remove(ctx.paths, name)
        routing.apply(ctx)
    hooks.fire(ctx, "post_delete", app=name)


def _remove_images(name: str, image_ids: set[str]) -> None:
    import docker.errors

    client = engine.client()
    refs = set(image_ids)
    for image in client.images.list(name=f"{prefix()}/{name}"):
        refs.add(image.id)
    for ref in refs:
        try:
            client.images.remove(ref, force=True)
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as e:
            if "being used" not in str(e):
                raise


def rename(ctx: Ctx, old: str, new: str) -> None:
    from berth.deploy import app_lock, deploy_release

    app = get(ctx, old)
    names.app_name(new)
    if store.find(ctx.conn, new):
        raise AlreadyExists(f"app {new!r} already exists")
    with app_lock(ctx, old), app_lock(ctx, new):
        with transaction(ctx.conn):
            store.rename(ctx.conn, app, new)
            events.record(ctx.conn, actor=ctx.actor, app=new, action="app.rename",
                          details={"from": old})
        ctx.paths.repo(old).rename(ctx.paths.repo(new))
        logs.rename(ctx.paths, old, new)
        gitrepo.install_hook(ctx.paths.repo(new), ctx.paths.root)
        renamed = store.get(ctx.conn, new)
        cur = releases.current(ctx.conn, renamed)
        if cur is not None and cur.image:
            deploy_release(ctx, renamed, cur)
        selected(ctx, renamed).remove_app(old)
        routing.apply(ctx)


def report(ctx: Ctx, name: str) -> dict:
    app = get(ctx, name)
    cur = releases.current(ctx.conn, app)
    running = [c.name for c in engine.containers(name, all=False)]
    return {
        "name": app.name,
        "created_at": app.created_at,
        "release": cur.label if cur else None,
        "git_sha": cur.git_sha if cur else None,
        "deploy_branch": store.get_setting(ctx.conn, app, "deploy-branch"),
        "formation": formation.get(ctx.conn, app.id),
        "containers": sorted(running),
        "url": routing.url_for(ctx, name),
        "repo": str(ctx.paths.repo(name)),
    }


def require(ctx: Ctx, name: str) -> App:
    try:
        return get(ctx, name)
    except NotFound:
        raise NotFound(f"app {name!r} does not exist; create it with "
                       f"`berth apps:create {name}` or push to it") from None
