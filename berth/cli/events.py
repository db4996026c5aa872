"""events: the audit log."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from berth.cli.common import ctx, emit_json, format_option
from berth.models import Event


def _row(e: Event) -> dict[str, Any]:
    return {"id": e.id, "time": e.time, "actor": e.actor, "app": e.app, "action": e.action,
            "details": e.details}


def _text(e: dict[str, Any]) -> str:
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(e["time"])))
    details = " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                       for k, v in sorted(e["details"].items()))
    return f"{when}  {e['actor']}  {e['app'] or '-'}  {e['action']}  {details}".rstrip()


@click.command("events")
@click.argument("app", required=False)
@click.option("-t", "--tail", "follow_", is_flag=True, help="Keep printing new events.")
@click.option("-n", "--num", "num", type=click.IntRange(1, 10_000), default=50,
              show_default=True, help="How many past events to show.")
@format_option
def events_(app: str | None, follow_: bool, num: int, fmt: str) -> None:
    """Show the audit log: who changed what, and when (deploys, config keys, scaling,
    rollbacks, keys, storage, limits ...). Config values are never recorded. With --format
    json and -t, one JSON object per line.

    \b
    Example:
      berth events myapp -n 20
      berth events -t --format json
    """
    from berth import names
    from berth.cli.follow import Stop, echo
    from berth.store import events

    c = ctx()
    if app is not None:
        names.app_name(app)
    rows = [_row(e) for e in reversed(events.recent(c.conn, app, num))]
    if fmt == "json" and not follow_:
        emit_json(rows)
        return

    def show(r: dict[str, Any]) -> None:
        echo(json.dumps(r, sort_keys=True) if fmt == "json" else _text(r))

    for r in rows:
        show(r)
    if not follow_:
        return
    last = int(rows[-1]["id"]) if rows else 0
    stop = Stop()
    while not stop():
        for e in events.after(c.conn, last, app):
            show(_row(e))
            last = e.id
        time.sleep(0.5)
