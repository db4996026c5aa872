"""cron:list and cron:run: app.json cron entries."""

from __future__ import annotations

import click

from berth.cli.common import ctx, emit_json, format_option, table


@click.command("cron:list")
@click.argument("app")
@format_option
def list_(app: str, fmt: str) -> None:
    """List the app's cron entries (from app.json `cron` of the current release) with their
    next run, in UTC. `berth server` runs them.

    \b
    Example:
      berth cron:list myapp --format json
    """
    from berth import apps, cron
    from berth.store import releases

    c = ctx()
    a = apps.get(c, app)
    rel = releases.current(c.conn, a)
    entries = cron.entries(rel.app_json) if rel else []
    now = cron.now()
    rows = [{"id": e.id, "schedule": e.schedule.text, "command": e.command,
             "next_run": e.schedule.next_after(now).strftime("%Y-%m-%dT%H:%M:%SZ")}
            for e in entries]
    if fmt == "json":
        emit_json(rows)
        return
    click.echo(f"=====> {app} cron entries")
    table([[r["id"], r["schedule"], r["next_run"], r["command"]] for r in rows],
          ["id", "schedule", "next run", "command"])


@click.command("cron:run")
@click.argument("app")
@click.argument("entry_id", metavar="ID")
def run_(app: str, entry_id: str) -> None:
    """Run one cron entry now, print its output and exit with its exit code. Refused while a
    run of the same entry is still going.

    \b
    Example:
      berth cron:run myapp 3f2a1c9b8e
    """
    from berth import run
    from berth.errors import BerthError

    code = run.cron_run(ctx(), app, entry_id, trigger="manual", out=click.echo)
    if code is None:
        raise BerthError(f"cron entry {entry_id} of {app} is still running; not started again")
    raise SystemExit(code)
