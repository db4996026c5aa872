"""ps:* commands: process formation, stop/start/restart, rebuild, options, report."""

from __future__ import annotations

from collections.abc import Callable

import click

from berth import ps
from berth.cli.common import ctx, emit_json, format_option, table
from berth.cli.common import report as show_report
from berth.context import Ctx
from berth.store import apps as store_apps

all_option = click.option("--all", "all_apps", is_flag=True, help="Every deployed app.")


def _one_or_all(app: str | None, all_apps: bool, fn: Callable[[Ctx, str], object],
                done: str) -> None:
    c = ctx()
    if all_apps == bool(app):
        raise click.UsageError("give an app name or --all (not both)")
    if app:
        fn(c, app)
        click.echo(f"=====> {app} {done}")
        return
    failed = ps.each_app(c, fn)
    if failed:
        raise click.ClickException(f"failed for {', '.join(failed)}")
    click.echo(f"=====> all apps {done}")


@click.command("ps:scale")
@click.argument("app")
@click.argument("counts", nargs=-1)
def scale(app: str, counts: tuple[str, ...]) -> None:
    """Set how many containers of each process type run (no rebuild). New web containers are
    checked before they get traffic; surplus ones leave the router before they stop. With no
    TYPE=COUNT, show the formation.

    \b
    Example:
      berth ps:scale myapp web=3 worker=1
      berth ps:scale myapp worker=0
    """
    c = ctx()
    if not counts:
        data = ps.report(c, app)
        table([[t, str(p["scale"]), str(p["running"])] for t, p in data["processes"].items()],
              ["type", "scale", "running"])
        return
    after = ps.scale(c, app, ps.parse_scale(counts))
    click.echo(f"=====> {app}: " + " ".join(f"{t}={n}" for t, n in sorted(after.items())))


@click.command("ps:report")
@click.argument("app", required=False)
@format_option
def report(app: str | None, fmt: str) -> None:
    """Show processes: formation, containers and their state, restart policy, stop timeout.
    Without APP, every app.

    \b
    Example:
      berth ps:report myapp --format json
    """
    c = ctx()
    names = [app] if app else [a.name for a in store_apps.all_apps(c.conn)]
    data = [ps.report(c, n) for n in names]
    if fmt == "json":
        emit_json(data[0] if app else data)
        return
    for d in data:
        show_report({
            "deployed": d["deployed"], "release": d["release"], "running": d["running"],
            "stopped": d["stopped"], "restart policy": d["restart_policy"],
            "stop timeout seconds": d["stop_timeout_seconds"],
            "processes": {t: f"{p['running']}/{p['scale']}" for t, p in d["processes"].items()},
            "containers": [f"{x['name']}({x['state']})" for x in d["containers"]],
        }, f"{d['app']} ps information")


@click.command("ps:stop")
@click.argument("app", required=False)
@all_option
def stop(app: str | None, all_apps: bool) -> None:
    """Stop an app's containers; it stays stopped (routes answer 503) until ps:start,
    ps:restart or the next deploy.

    \b
    Example:
      berth ps:stop myapp
      berth ps:stop --all
    """
    _one_or_all(app, all_apps, ps.stop, "stopped")


@click.command("ps:start")
@click.argument("app", required=False)
@all_option
def start(app: str | None, all_apps: bool) -> None:
    """Start a stopped app: fresh containers of the current release, checked, then routed.

    \b
    Example:
      berth ps:start myapp
    """
    def start_one(c: Ctx, name: str) -> None:
        if not ps.start(c, name):
            c.out(f"-----> {name} is running already")

    _one_or_all(app, all_apps, start_one, "started")


@click.command("ps:restart")
@click.argument("app", required=False)
@all_option
def restart(app: str | None, all_apps: bool) -> None:
    """Restart with zero downtime: new containers of the current release are checked and
    routed before the old ones retire (no new release).

    \b
    Example:
      berth ps:restart myapp
      berth ps:restart --all
    """
    _one_or_all(app, all_apps, ps.restart, "restarted")


@click.command("ps:rebuild")
@click.argument("app")
def rebuild(app: str) -> None:
    """Build the deployed commit again and deploy it as a new release.

    \b
    Example:
      berth ps:rebuild myapp
    """
    rel = ps.rebuild(ctx(), app)
    click.echo(f"=====> {app} rebuilt as {rel.label}")


@click.command("ps:set")
@click.argument("app")
@click.argument("key", type=click.Choice(list(ps.OPTIONS)))
@click.argument("value", required=False)
def set_(app: str, key: str, value: str | None) -> None:
    """Set a process option; no VALUE resets it. restart-policy: no, always, unless-stopped
    (default), on-failure[:N] (applies to running containers at once). stop-timeout-seconds:
    how long a container gets to stop before it is killed (default 10). read-only: true
    gives containers a read-only root filesystem with a writable /tmp (next restart).

    \b
    Example:
      berth ps:set myapp restart-policy on-failure:5
      berth ps:set myapp stop-timeout-seconds 30
      berth ps:set myapp read-only true
    """
    ps.set_option(ctx(), app, key, value)
    click.echo(f"-----> {key} for {app}: {value or 'default'}")
