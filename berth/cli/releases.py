"""releases: the history of an app."""

from __future__ import annotations

import time

import click

from berth import apps
from berth.cli.common import ctx, emit_json, format_option, table
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
