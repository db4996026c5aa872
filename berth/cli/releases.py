"""releases: the history of an app."""

from __future__ import annotations

import time

import click

from berth import apps
from berth.cli.common import ctx, emit_json, format_option, table
from berth.cli.common import report as show_report
from berth.store import releases


@click.command("releases")
@format_option
@click.argument("app")
def list_(fmt: str, app: str) -> None:
    """List an app's releases, newest first.

    \b
    Example:
      berth releases myapp
    """
    c = ctx()
    a = apps.get(c, app)
    rows = releases.all_releases(c.conn, a)
    if fmt == "json":
        emit_json([{"version": r.version, "description": r.description, "status": r.status,
                    "image": r.image, "git_sha": r.git_sha, "created_at": r.created_at,
                    "current": r.version == a.current_release} for r in rows])
        return
    click.echo(f"=====> {app} releases")
    table([[r.label + (" *" if r.version == a.current_release else ""), r.description,
            r.status, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at))]
           for r in rows], ["version", "description", "status", "time"])


@click.command("releases:info")
@click.argument("app")
@click.argument("version")
@format_option
def info(app: str, version: str, fmt: str) -> None:
    """Show one release: description, status, image, commit, processes, formation and the
    names (never the values) of its config vars.

    \b
    Example:
      berth releases:info myapp v3 --format json
    """
    from berth import releases as service

    data = service.info(ctx(), app, service.parse_version(version))
    if fmt == "json":
        emit_json(data)
        return
    show_report({
        "description": data["description"], "status": data["status"],
        "current": data["current"],
        "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data["created_at"])),
        "git sha": data["git_sha"], "image": data["image"],
        "image present": data["image_present"], "processes": data["processes"],
        "formation": data["formation"], "config keys": data["config_keys"],
    }, f"{app} v{data['version']}")


@click.command("releases:rollback")
@click.argument("app")
@click.argument("version", required=False)
def rollback(app: str, version: str | None) -> None:
    """Deploy an earlier release again (default: the previous one that succeeded) with its
    image, config and formation: no rebuild, the same checks and zero-downtime switch. It is
    recorded as a new release "Rollback to vN".

    \b
    Example:
      berth releases:rollback myapp
      berth releases:rollback myapp v3
    """
    from berth import releases as service

    target = service.parse_version(version) if version else None
    rel = service.rollback(ctx(), app, target)
    click.echo(f"=====> {app} rolled back: {rel.label} ({rel.description})")
