"""Recorded plugins: what `plugin:install` added and which plugins are disabled."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from berth.store.readonly import open_ro


@dataclass(frozen=True)
class PluginRow:
    name: str
    kind: str  # builtin | entrypoint | python | shell
    source: str
    enabled: bool
    installed_at: float


def _row(r: sqlite3.Row) -> PluginRow:
    return PluginRow(name=r["name"], kind=r["kind"], source=r["source"],
                     enabled=bool(r["enabled"]), installed_at=r["installed_at"])


def all_rows(conn: sqlite3.Connection) -> list[PluginRow]:
    return [_row(r) for r in conn.execute("SELECT * FROM plugins ORDER BY name")]


def find(conn: sqlite3.Connection, name: str) -> PluginRow | None:
    r = conn.execute("SELECT * FROM plugins WHERE name = ?", (name,)).fetchone()
    return _row(r) if r else None


def put(conn: sqlite3.Connection, name: str, kind: str, source: str, enabled: bool) -> None:
    conn.execute("INSERT INTO plugins(name, kind, source, enabled, installed_at) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, "
                 "source = excluded.source, enabled = excluded.enabled",
                 (name, kind, source, int(enabled), time.time()))


def delete(conn: sqlite3.Connection, name: str) -> None:
    conn.execute("DELETE FROM plugins WHERE name = ?", (name,))


def read_only(db: Path) -> list[PluginRow]:
    """The rows, read without migrating or writing (the plugin manager runs this on every
    start, also where the database is not ours to upgrade); [] when there is none yet."""
    conn = open_ro(str(db), timeout=5)
    if conn is None:
        return []
    try:
        conn.row_factory = sqlite3.Row
        return all_rows(conn)
    except sqlite3.Error:  # no plugins table yet, or not readable by this user
        return []
    finally:
        conn.close()
