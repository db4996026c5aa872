"""The pipeline, top to bottom: receive -> build -> release -> deploy -> route.

    deploy_push(ctx, app, sha)      called by the git pre-receive hook
      checkout(...)                 the pushed tree, from git itself, links checked
      build(...)                    the first builder whose detect() says yes -> image id
      new_release(...)              vN: image + config snapshot + processes + formation
      deploy_release(...)           release phase + predeploy, start + checks, switch router,
                                    postdeploy, retire old, prune old images
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from berth import (
    appjson,
    archive,
    checks_config,
    engine,
    images,
    locks,
    procfile,
    ps,
    resources,
    routing,
    runopts,
    stackconf,
)
from berth.context import Ctx
from berth.errors import BuildError, DeployError, ValidationError
from berth.hooks import manager as hooks
from berth.instance import prefix
from berth.models import App, Release
from berth.schedulers import selected, specs
from berth.schedulers.base import runnable_types
from berth.store import apps as store_apps
from berth.store import config as store_config
from berth.store import events, formation, releases, settings
from berth.store.db import transaction


def app_lock_path(ctx: Ctx, app: str) -> Path:
    return ctx.paths.locks / f"app-{app}.lock"


@contextmanager
def app_lock(ctx: Ctx, app: str) -> Iterator[None]:
    timeout = float(settings.get(ctx.conn, "lock-timeout"))
    with locks.hold(app_lock_path(ctx, app), what=f"another deploy of {app} to finish",
                    timeout=timeout, out=ctx.out, holder=ctx.actor):
        yield


def deploy_push(ctx: Ctx, app_name: str, sha: str, *,
                expect: tuple[str, str] | None = None) -> Release:
    """`expect` is (branch, sha git advertised to the pusher): checked under the lock."""
    from berth import gitrepo, logs

    with app_lock(ctx, app_name), logs.capture_build(ctx, app_name) as build_log:
        if expect:
            gitrepo.require_unmoved(ctx.paths.repo(app_name), *expect)
        app = store_apps.get(ctx.conn, app_name)
        src = checkout(ctx, app_name, sha)
        try:
            release = build_release(ctx, app, src, sha)
        finally:
            shutil.rmtree(src.parent, ignore_errors=True)
        build_log.keep(release.version)  # `berth releases:output APP vN`
        return deploy_release(ctx, app, release)


def checkout(ctx: Ctx, app: str, sha: str) -> Path:
    """Extract the pushed commit with `git archive`; links that leave the tree, absolute
    paths and devices are refused (archive.extract)."""
    ctx.paths.builds.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{app}-", dir=ctx.paths.builds))
    src = work / "src"
    src.mkdir()
    listing = subprocess.run(["git", "ls-tree", "--name-only", sha], cwd=ctx.paths.repo(app),
                             capture_output=True)
    if listing.returncode == 0 and not listing.stdout.strip():
        return src  # an empty tree: nothing to extract, and no builder will match
    proc = subprocess.Popen(["git", "archive", "--format=tar", sha],
                            cwd=ctx.paths.repo(app), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            archive.extract(tar, src, max_bytes=int(settings.get(ctx.conn, "max-tree-size")),
                            max_file=int(settings.get(ctx.conn, "max-file-size")))
    except (tarfile.TarError, OSError, ValidationError) as e:
        shutil.rmtree(work, ignore_errors=True)
        raise BuildError(f"cannot check out {sha[:7]}: {e}") from None
    finally:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise BuildError(f"cannot check out {sha[:7]}: {err.strip()}")
    return src


def read_app_files(src: Path) -> tuple[dict[str, str], dict]:
    procs: dict[str, str] = {}
    data: dict = {}
    pf = src / "Procfile"
    if pf.is_file():
        procs = procfile.parse(pf.read_text(errors="replace"))
    aj = src / "app.json"
    if aj.is_file():
        data = appjson.parse(aj.read_text(errors="replace"))
    return procs, data


def build(ctx: Ctx, app: App, src: Path, sha: str) -> tuple[str, int | None]:
    from berth.builders import detect
    from berth.builders.base import BuildContext
    from berth.builders.dockerfile import exposed_port

    forced = store_apps.get_setting(ctx.conn, app, "builder")
    builder = detect.select_builder(src, forced)
    ctx.step(f"Building {app.name} from {sha[:7]} with the {builder.name} builder")
    tag = f"{prefix()}/{app.name}:{sha[:12]}"
    overrides = stackconf.overrides(ctx)
    limits = resources.build_limits(ctx, app)  # resource:limit --process-type build
    bctx = BuildContext(app=app.name, src=src, image_tag=tag, out=ctx.info,
                        stack_overrides=overrides, build_args={},
                        labels={"berth.app": app.name, "berth.git-sha": sha},
                        memory=limits.memory, cpus=limits.cpu)
    hooks.fire(ctx, "pre_build", app=app.name, sha=sha, src=str(src))
    builder.build(bctx)
    image = engine.image_id(tag)
    hooks.fire(ctx, "post_build", app=app.name, sha=sha, image=image)
    return image, exposed_port(image)


def build_release(ctx: Ctx, app: App, src: Path, sha: str, *,
                  description: str | None = None) -> Release:
    procs, data = read_app_files(src)
    image, port = build(ctx, app, src, sha)
    return new_release(ctx, app, image=image, git_sha=sha, processes=procs, app_json=data,
                       port=port, description=description or f"Deploy {sha[:7]}")


def new_release(ctx: Ctx, app: App, *, image: str | None, git_sha: str | None,
                processes: dict[str, str], app_json: dict, port: int | None,
                description: str) -> Release:
    """Record vN with a snapshot of config and formation. New process types get their app.json
    formation count, or 1 for web and 0 for the rest (as on Heroku). Plugins' env_for_app
    vars go under the app's own config."""
    extra = hooks.env_for_app(ctx, app.name)
    from berth import ports as app_ports

    port = app_ports.primary_container_port(ctx, app.id) or port  # ports:set wins over EXPOSE
    with transaction(ctx.conn):
        counts = formation.get(ctx.conn, app.id)
        initial = appjson.formation(app_json)
        added = {t: initial.get(t, 1 if t == "web" else 0)
                 for t in [*processes, "web"] if t not in counts and t != "release"}
        formation.put(ctx.conn, app.id, added)
        counts.update(added)
        rel = releases.create(
            ctx.conn, app, image=image, git_sha=git_sha,
            config={**extra, **store_config.merged(ctx.conn, app.id)}, processes=processes,
            formation=counts, app_json=app_json, port=port, description=description)
    return rel


def deploy_release(ctx: Ctx, app: App, release: Release) -> Release:
    """Run the release phase, start the new containers beside the old ones, check them, switch
    the router, then retire the old ones. Any failure before the switch leaves the previous
    release serving and marks this one failed."""
    policy = checks_config.policy(ctx, app, release)
    stop_timeout = ps.stop_timeout(ctx, app)
    try:
        hooks.fire(ctx, "pre_deploy", app=app.name, version=release.version,
                   image=release.image or "")
        release_phase(ctx, release)
        predeploy(ctx, release)
        ctx.step(f"Starting {release.label}")
        new = selected(ctx, app).start(release, _runnable(ctx, app, release), policy, ctx.out,
                                       restart_policy=ps.restart_policy(ctx, app),
                                       stop_timeout=stop_timeout,
                                       options=runopts.load(ctx, app))
        for c in new:
            ctx.info(f"{c.name.removesuffix('.next')} started")
        switch(ctx, app, release)
    except BaseException as e:
        with transaction(ctx.conn):
            releases.set_status(ctx.conn, app, release.version, "failed")
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action="deploy.failed",
                          details={"release": release.version,
                                   "reason": str(e).split("\n", 1)[0][:300]})
        raise
    postdeploy(ctx, release)
    wait = checks_config.retire_wait(ctx, app)
    ctx.step(f"Retiring old containers in {wait:g}s")
    url = routing.url_for(ctx, app.name)
    ctx.out(f"=====> Application deployed: {url}")
    selected(ctx, app).finish(app.name, release.version, wait=wait, stop_timeout=stop_timeout)
    images.prune(ctx, app)
    hooks.fire(ctx, "post_deploy", app=app.name, version=release.version, url=url)
    return releases.get(ctx.conn, app, release.version)


def _runnable(ctx: Ctx, app: App, release: Release) -> dict[str, int]:
    counts = formation.get(ctx.conn, app.id) or release.formation
    return runnable_types(release, counts)


def _run_phase(ctx: Ctx, release: Release, role: str, command: str, title: str) -> int:
    """A one-off container of the new image (release command, predeploy, postdeploy)."""
    ctx.step(f"Running the {title}")
    name = specs.container_name(release.app, role, release.version)
    return selected(ctx, release.app).run_oneoff(
        release, ["/bin/sh", "-c", command], name=name, role=role, out=ctx.out,
        options=runopts.for_release(ctx, release))


def release_phase(ctx: Ctx, release: Release) -> None:
    command = release.processes.get("release")
    if not command:
        return
    code = _run_phase(ctx, release, "release", command, "release command")
    if code != 0:
        raise DeployError(f"the release command failed with exit code {code}; "
                          "the previous release keeps serving")


def predeploy(ctx: Ctx, release: Release) -> None:
    """app.json scripts.predeploy: in the new image, before its containers start."""
    script = appjson.script(release.app_json, "predeploy")
    if not script:
        return
    code = _run_phase(ctx, release, "predeploy", script, "predeploy script")
    if code != 0:
        raise DeployError(f"the predeploy script failed with exit code {code}; "
                          "the previous release keeps serving")


def postdeploy(ctx: Ctx, release: Release) -> None:
    """app.json scripts.postdeploy: after the switch; a failure is reported, the deploy stands."""
    script = appjson.script(release.app_json, "postdeploy")
    if not script:
        return
    code = _run_phase(ctx, release, "postdeploy", script, "postdeploy script")
    if code != 0:
        ctx.out(f" !     the postdeploy script failed with exit code {code}; "
                f"{release.label} is deployed and serving")


def switch(ctx: Ctx, app: App, release: Release) -> None:
    """Make `release` current and move traffic to it, as one step under the router lock."""
    ctx.step("Switching traffic")
    with locks.hold(routing.lock_path(ctx), what="the router", timeout=60):
        before = store_apps.get(ctx.conn, app.name).current_release
        with transaction(ctx.conn):
            store_apps.set_current(ctx.conn, app, release.version)
            store_apps.set_setting(ctx.conn, app, ps.STOPPED, None)  # a deploy runs the app
            releases.set_status(ctx.conn, app, release.version, "succeeded")
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action="deploy",
                          details={"release": release.version,
                                   "description": release.description})
        try:
            started = routing.ensure_running(ctx)  # caddy or nginx, as `router:set` chose
            routing.router(ctx).apply(routing.compute(ctx), force=started)
        except BaseException:
            with transaction(ctx.conn):
                store_apps.set_current(ctx.conn, app, before)
            selected(ctx, app).remove_release(app.name, release.version)
            raise


def redeploy_config(ctx: Ctx, app: App, description: str) -> Release | None:
    """After a config change: a new release with the same image and the new config."""
    cur = releases.current(ctx.conn, app)
    if cur is None or cur.image is None:
        return None
    rel = new_release(ctx, app, image=cur.image, git_sha=cur.git_sha,
                      processes=cur.processes, app_json=cur.app_json, port=cur.port,
                      description=description)
    return deploy_release(ctx, app, rel)

