"""git:* commands: per-app git settings."""

from __future__ import annotations

import click

from berth import apps, names
from berth.cli.common import ctx, emit_json, format_option
from berth.cli.common import report as show_report
from berth.errors import ValidationError
from berth.store import apps as store
from berth.store import events
from berth.store.db import transaction

KEYS = {"deploy-branch": names.branch_name}


@click.command("git:set")
@click.argument("app")
@click.argument("key")
@click.argument("value", required=False)
def set_(app: str, key: str, value: str | None) -> None:
    """Set a git setting; without a value it is reset. Keys: deploy-branch.

    \b
    Example:
      berth git:set myapp deploy-branch production
    """
    c = ctx()
    a = apps.get(c, app)
    if key not in KEYS:
        raise ValidationError(f"unknown git setting {key!r}: use {', '.join(KEYS)}")
    if value is not None:
        KEYS[key](value)
    with transaction(c.conn):
        store.set_setting(c.conn, a, key, value)
        events.record(c.conn, actor=c.actor, app=app, action="git.set",
                      details={key: value})
    click.echo(f"-----> {key} " + (f"set to {value}" if value else "reset"))


@click.command("git:report")
@format_option
@click.argument("app")
def report(fmt: str, app: str) -> None:
    """Show an app's git settings.

    \b
    Example:
      berth git:report myapp
    """
    c = ctx()
    a = apps.get(c, app)
    data = {"deploy_branch": store.get_setting(c.conn, a, "deploy-branch"),
            "repo": str(c.paths.repo(app))}
    emit_json(data) if fmt == "json" else show_report(data, f"{app} git information")


@click.command("git:from-archive")
@click.argument("app")
@click.option("--format", "fmt", type=click.Choice(["auto", "tar", "zip"]), default="auto",
              show_default=True)
def from_archive(app: str, fmt: str) -> None:
    """Deploy a tar or zip archive read from stdin, as if it had been pushed.

    \b
    Example:
      tar -C myapp -c . | ssh berth@myserver git:from-archive myapp
      berth git:from-archive myapp --format zip < myapp.zip
    """
    import sys

    from berth import fromarchive

    code = fromarchive.deploy(ctx(), app, sys.stdin.buffer, fmt=fmt)
    if code != 0:
        raise SystemExit(code)
