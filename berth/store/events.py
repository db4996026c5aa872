"""The audit log. Details never hold config values, only keys."""

from __future__ import annotations

import json
import sqlite3
import time

from berth.models import Event


def record(conn: sqlite3.Connection, *, actor: str, app: str | None, action: str,
           details: dict | None = None) -> None:
    conn.execute("INSERT INTO events(time, actor, app, action, details_json) VALUES (?,?,?,?,?)",
                 (time.time(), actor, app, action, json.dumps(details or {}, sort_keys=True)))


def recent(conn: sqlite3.Connection, app: str | None = None, limit: int = 100) -> list[Event]:
    if app:
        rows = conn.execute("SELECT * FROM events WHERE app = ? ORDER BY id DESC LIMIT ?",
                            (app, limit))
    else:
        rows = conn.execute("SELECT * FROM events ORDER BY id DESC LIMIT ?", (limit,))
    return [Event(id=r["id"], time=r["time"], actor=r["actor"], app=r["app"],
                  action=r["action"], details=json.loads(r["details_json"])) for r in rows]


def after(conn: sqlite3.Connection, last_id: int, app: str | None = None,
          limit: int = 1000) -> list[Event]:
    """Events newer than last_id, oldest first (for `events -t`)."""
    if app:
        rows = conn.execute("SELECT * FROM events WHERE id > ? AND app = ? ORDER BY id LIMIT ?",
                            (last_id, app, limit))
    else:
        rows = conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?",
                            (last_id, limit))
    return [Event(id=r["id"], time=r["time"], actor=r["actor"], app=r["app"],
                  action=r["action"], details=json.loads(r["details_json"])) for r in rows]
