"""Host redirects: from_host -> to_host with a status code, owned by an app."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple


class Redirect(NamedTuple):
    from_host: str
    to_host: str
    code: int


def of_app(conn: sqlite3.Connection, app_id: int) -> list[Redirect]:
    rows = conn.execute("SELECT from_host, to_host, code FROM redirects WHERE app_id = ? "
                        "ORDER BY from_host", (app_id,))
    return [Redirect(r[0], r[1], r[2]) for r in rows]


def owner(conn: sqlite3.Connection, host: str) -> str | None:
    r = conn.execute("SELECT a.name FROM redirects r JOIN apps a ON a.id = r.app_id "
                     "WHERE r.from_host = ?", (host,)).fetchone()
    return r[0] if r else None


def put(conn: sqlite3.Connection, app_id: int, redirect: Redirect) -> None:
    conn.execute("INSERT OR REPLACE INTO redirects(from_host, app_id, to_host, code) "
                 "VALUES (?, ?, ?, ?)", (redirect.from_host, app_id, redirect.to_host,
                                         redirect.code))


def remove(conn: sqlite3.Connection, app_id: int, from_host: str) -> bool:
    cur = conn.execute("DELETE FROM redirects WHERE app_id = ? AND from_host = ?",
                       (app_id, from_host))
    return cur.rowcount > 0
