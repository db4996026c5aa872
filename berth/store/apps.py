"""apps and per-app settings."""

from __future__ import annotations

import sqlite3
import time

from berth.errors import AlreadyExists, NotFound
from berth.models import App


def _row(r: sqlite3.Row) -> App:
    return App(id=r["id"], name=r["name"], created_at=r["created_at"],
               current_release=r["current_release"])


def create(conn: sqlite3.Connection, name: str) -> App:
    try:
        conn.execute("INSERT INTO apps(name, created_at) VALUES (?, ?)", (name, time.time()))
    except sqlite3.IntegrityError:
        raise AlreadyExists(f"app {name!r} already exists") from None
    return get(conn, name)


def find(conn: sqlite3.Connection, name: str) -> App | None:
    r = conn.execute("SELECT * FROM apps WHERE name = ?", (name,)).fetchone()
    return _row(r) if r else None


def get(conn: sqlite3.Connection, name: str) -> App:
    app = find(conn, name)
    if app is None:
        raise NotFound(f"app {name!r} does not exist")
    return app


def all_apps(conn: sqlite3.Connection) -> list[App]:
    return [_row(r) for r in conn.execute("SELECT * FROM apps ORDER BY name")]


def delete(conn: sqlite3.Connection, app: App) -> None:
    conn.execute("DELETE FROM config WHERE app_id = ?", (app.id,))
    conn.execute("DELETE FROM apps WHERE id = ?", (app.id,))


def rename(conn: sqlite3.Connection, app: App, new: str) -> None:
    try:
        conn.execute("UPDATE apps SET name = ? WHERE id = ?", (new, app.id))
    except sqlite3.IntegrityError:
        raise AlreadyExists(f"app {new!r} already exists") from None


def set_current(conn: sqlite3.Connection, app: App, version: int | None) -> None:
    conn.execute("UPDATE apps SET current_release = ? WHERE id = ?", (version, app.id))


def get_setting(conn: sqlite3.Connection, app: App, key: str) -> str | None:
    r = conn.execute("SELECT value FROM app_settings WHERE app_id = ? AND key = ?",
                     (app.id, key)).fetchone()
    return r[0] if r else None


def settings(conn: sqlite3.Connection, app: App) -> dict[str, str]:
    rows = conn.execute("SELECT key, value FROM app_settings WHERE app_id = ? ORDER BY key",
                        (app.id,))
    return {r[0]: r[1] for r in rows}


def set_setting(conn: sqlite3.Connection, app: App, key: str, value: str | None) -> None:
    if value is None:
        conn.execute("DELETE FROM app_settings WHERE app_id = ? AND key = ?", (app.id, key))
    else:
        conn.execute("INSERT OR REPLACE INTO app_settings(app_id, key, value) VALUES (?, ?, ?)",
                     (app.id, key, value))
