"""Opening the store for reading only: never creates a file, never migrates. For the fast entry
(berth/entry.py) and the plugin manager, which read where a write would be wrong or slow.
Standard library only (start-up time)."""

from __future__ import annotations

import os
import sqlite3

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


def open_ro(path: str, *, timeout: float = 30) -> sqlite3.Connection | None:
    """The database at `path` opened read-only (SQLite's mode=ro), or None when there is no
    such file or SQLite cannot open it."""
    if not os.path.isfile(path):
        return None
    # a URI path must escape what SQLite would read as its query, fragment or an escape
    name = os.path.abspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    try:
        return sqlite3.connect(f"file:{name}?mode=ro", uri=True, timeout=timeout,
                               isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None


def known_migrations() -> set[int]:
    """The numbers of the migration files shipped with this code (as db.migrations() reads)."""
    return {int(n.split("_", 1)[0]) for n in os.listdir(MIGRATIONS) if n.endswith(".sql")}


def open_current(path: str) -> sqlite3.Connection | None:
    """The store opened read-only when every shipped migration is applied to it; None when it
    is missing, unreadable, or would be migrated by db.connect (the full CLI's business)."""
    conn = open_ro(path)
    if conn is None:
        return None
    try:
        applied = {r[0] for r in conn.execute("SELECT number FROM schema_migrations")}
    except sqlite3.Error:  # not a database, not readable, or from before schema_migrations
        applied = set()
    if applied and not known_migrations() - applied:
        return conn
    conn.close()
    return None
