"""Desired process counts per app."""

from __future__ import annotations

import sqlite3


def get(conn: sqlite3.Connection, app_id: int) -> dict[str, int]:
    rows = conn.execute(
        "SELECT process_type, quantity FROM formation WHERE app_id = ? ORDER BY process_type",
        (app_id,))
    return {r[0]: r[1] for r in rows}


def put(conn: sqlite3.Connection, app_id: int, counts: dict[str, int]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO formation(app_id, process_type, quantity) VALUES (?, ?, ?)",
        [(app_id, k, v) for k, v in counts.items()])


def replace(conn: sqlite3.Connection, app_id: int, counts: dict[str, int]) -> None:
    """The whole formation becomes `counts` (types not in it are dropped)."""
    conn.execute("DELETE FROM formation WHERE app_id = ?", (app_id,))
    put(conn, app_id, counts)
