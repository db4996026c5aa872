"""Releases: vN = image + config snapshot + processes + formation."""

from __future__ import annotations

import json
import sqlite3
import time

from berth.errors import NotFound
from berth.models import App, Release


def _row(app: str, r: sqlite3.Row) -> Release:
    return Release(
        app=app, version=r["version"], image=r["image"], git_sha=r["git_sha"],
        config=json.loads(r["config_json"]), processes=json.loads(r["processes_json"]),
        formation=json.loads(r["formation_json"]), app_json=json.loads(r["app_json"]),
        port=r["port"], description=r["description"], status=r["status"],
        created_at=r["created_at"],
    )


def create(conn: sqlite3.Connection, app: App, *, image: str | None, git_sha: str | None,
           config: dict[str, str], processes: dict[str, str], formation: dict[str, int],
           app_json: dict, port: int | None, description: str,
           status: str = "pending") -> Release:
    r = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM releases WHERE app_id = ?",
                     (app.id,)).fetchone()
    version = int(r[0])
    conn.execute(
        "INSERT INTO releases(app_id, version, image, git_sha, config_json, processes_json,"
        " formation_json, app_json, port, description, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (app.id, version, image, git_sha, json.dumps(config), json.dumps(processes),
         json.dumps(formation), json.dumps(app_json), port, description, status, time.time()))
    return get(conn, app, version)


def get(conn: sqlite3.Connection, app: App, version: int) -> Release:
    r = conn.execute("SELECT * FROM releases WHERE app_id = ? AND version = ?",
                     (app.id, version)).fetchone()
    if r is None:
        raise NotFound(f"release v{version} of {app.name!r} does not exist")
    return _row(app.name, r)


def current(conn: sqlite3.Connection, app: App) -> Release | None:
    r = conn.execute("SELECT current_release FROM apps WHERE id = ?", (app.id,)).fetchone()
    if r is None or r[0] is None:
        return None
    return get(conn, app, int(r[0]))


def all_releases(conn: sqlite3.Connection, app: App) -> list[Release]:
    rows = conn.execute("SELECT * FROM releases WHERE app_id = ? ORDER BY version DESC",
                        (app.id,))
    return [_row(app.name, r) for r in rows]


def set_status(conn: sqlite3.Connection, app: App, version: int, status: str) -> None:
    conn.execute("UPDATE releases SET status = ? WHERE app_id = ? AND version = ?",
                 (status, app.id, version))


def pending_versions(conn: sqlite3.Connection, app: App) -> list[int]:
    rows = conn.execute("SELECT version FROM releases WHERE app_id = ? AND status = 'pending'"
                        " ORDER BY version", (app.id,))
    return [int(r[0]) for r in rows]


def fail_pending(conn: sqlite3.Connection, app: App, version: int) -> bool:
    """Mark a release that is still pending failed; False if it was no longer pending."""
    cur = conn.execute("UPDATE releases SET status = 'failed' WHERE app_id = ? AND version = ?"
                       " AND status = 'pending'", (app.id, version))
    return cur.rowcount > 0
