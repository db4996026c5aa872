"""Custom domains of apps, and the extra global domains (the first is settings "domain")."""

from __future__ import annotations

import sqlite3
import time


def of_app(conn: sqlite3.Connection, app_id: int) -> list[str]:
    rows = conn.execute("SELECT domain FROM domains WHERE app_id = ? ORDER BY created_at, domain",
                        (app_id,))
    return [r[0] for r in rows]


def owner(conn: sqlite3.Connection, domain: str) -> str | None:
    """Name of the app that has ``domain`` as a custom domain."""
    r = conn.execute("SELECT a.name FROM domains d JOIN apps a ON a.id = d.app_id "
                     "WHERE d.domain = ?", (domain,)).fetchone()
    return r[0] if r else None


def all_domains(conn: sqlite3.Connection) -> dict[str, str]:
    """domain -> app name, for every custom domain."""
    rows = conn.execute("SELECT d.domain, a.name FROM domains d JOIN apps a ON a.id = d.app_id")
    return {r[0]: r[1] for r in rows}


def add(conn: sqlite3.Connection, app_id: int, domain: str) -> None:
    conn.execute("INSERT OR IGNORE INTO domains(domain, app_id, created_at) VALUES (?, ?, ?)",
                 (domain, app_id, time.time()))


def remove(conn: sqlite3.Connection, app_id: int, domain: str) -> bool:
    cur = conn.execute("DELETE FROM domains WHERE app_id = ? AND domain = ?", (app_id, domain))
    return cur.rowcount > 0


def clear(conn: sqlite3.Connection, app_id: int) -> None:
    conn.execute("DELETE FROM domains WHERE app_id = ?", (app_id,))


def extra_globals(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT domain FROM global_domains ORDER BY position")]


def set_extra_globals(conn: sqlite3.Connection, domains: list[str]) -> None:
    conn.execute("DELETE FROM global_domains")
    conn.executemany("INSERT INTO global_domains(domain, position) VALUES (?, ?)",
                     [(d, i) for i, d in enumerate(domains)])
