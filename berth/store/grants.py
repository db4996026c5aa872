"""Users' roles and their grants on apps."""

from __future__ import annotations

import sqlite3


def role(conn: sqlite3.Connection, user: str) -> str | None:
    r = conn.execute("SELECT role FROM users WHERE name = ?", (user,)).fetchone()
    return r[0] if r else None


def set_role(conn: sqlite3.Connection, user: str, value: str) -> None:
    conn.execute("UPDATE users SET role = ? WHERE name = ?", (value, user))


def users(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return list(conn.execute("SELECT name, role, created_at FROM users ORDER BY name"))


def level(conn: sqlite3.Connection, app_id: int, user: str) -> str | None:
    r = conn.execute("SELECT level FROM grants WHERE app_id = ? AND user = ?",
                     (app_id, user)).fetchone()
    return r[0] if r else None


def grant(conn: sqlite3.Connection, app_id: int, user: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO grants(app_id, user, level) VALUES (?, ?, ?)",
                 (app_id, user, value))


def revoke(conn: sqlite3.Connection, app_id: int, user: str) -> int:
    return conn.execute("DELETE FROM grants WHERE app_id = ? AND user = ?",
                        (app_id, user)).rowcount


def for_app(conn: sqlite3.Connection, app_id: int) -> dict[str, str]:
    rows = conn.execute("SELECT user, level FROM grants WHERE app_id = ? ORDER BY user",
                        (app_id,))
    return {r[0]: r[1] for r in rows}


def app_ids_for(conn: sqlite3.Connection, user: str) -> set[int]:
    return {r[0] for r in conn.execute("SELECT app_id FROM grants WHERE user = ?", (user,))}
