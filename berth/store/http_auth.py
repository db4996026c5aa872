"""HTTP basic-auth users of an app; only bcrypt hashes are stored."""

from __future__ import annotations

import sqlite3


def users(conn: sqlite3.Connection, app_id: int) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT user, password_hash FROM http_auth_users WHERE app_id = ? "
                        "ORDER BY user", (app_id,))
    return [(r[0], r[1]) for r in rows]


def put(conn: sqlite3.Connection, app_id: int, user: str, password_hash: str) -> None:
    conn.execute("INSERT OR REPLACE INTO http_auth_users(app_id, user, password_hash) "
                 "VALUES (?, ?, ?)", (app_id, user, password_hash))


def clear(conn: sqlite3.Connection, app_id: int) -> None:
    conn.execute("DELETE FROM http_auth_users WHERE app_id = ?", (app_id,))
