"""Config vars: app_id 0 holds the global ones."""

from __future__ import annotations

import sqlite3

GLOBAL = 0


def get_all(conn: sqlite3.Connection, app_id: int) -> dict[str, str]:
    rows = conn.execute("SELECT key, value FROM config WHERE app_id = ? ORDER BY key", (app_id,))
    return {r[0]: r[1] for r in rows}


def set_many(conn: sqlite3.Connection, app_id: int, values: dict[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO config(app_id, key, value) VALUES (?, ?, ?)",
                     [(app_id, k, v) for k, v in values.items()])


def unset_many(conn: sqlite3.Connection, app_id: int, keys: list[str]) -> None:
    conn.executemany("DELETE FROM config WHERE app_id = ? AND key = ?",
                     [(app_id, k) for k in keys])


def merged(conn: sqlite3.Connection, app_id: int) -> dict[str, str]:
    """Global vars overlaid by the app's own."""
    return {**get_all(conn, GLOBAL), **get_all(conn, app_id)}
