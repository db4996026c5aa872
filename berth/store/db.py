"""The SQLite connection: WAL, foreign keys, numbered migrations, short write transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from berth.errors import BerthError


def migrations() -> list[tuple[int, str]]:
    """Numbered SQL files, in order: (number, sql)."""
    found = []
    for entry in resources.files("berth.store").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def connect(path: Path) -> sqlite3.Connection:
    """The store at `path`, created if missing and migrated; a BerthError when it cannot be
    opened (not a database, not readable, a directory ...)."""
    try:
        conn = _open(path)
    except (OSError, sqlite3.DatabaseError) as e:
        raise BerthError(f"cannot open the berth store {path}: {e}") from None
    migrate(conn)
    return conn


def _open(path: Path) -> sqlite3.Connection:
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    if new:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Apply every numbered migration not applied yet, in order, in one transaction. Applied
    numbers are recorded in schema_migrations, so a migration numbered below one already
    applied (numbers handed out to parallel work) still runs; PRAGMA user_version keeps the
    highest number."""
    known = migrations()
    if _pending(conn, known, _recorded(conn)) == []:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        recorded = _recorded(conn)
        if recorded is None:  # a store from before schema_migrations existed
            recorded = _presumed(conn, known)
            conn.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY)")
            conn.executemany("INSERT INTO schema_migrations(number) VALUES (?)",
                             [(n,) for n in sorted(recorded)])
        for number, sql in _pending(conn, known, recorded) or []:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations(number) VALUES (?)", (number,))
        top = max((n for n, _ in known), default=0)
        if top > conn.execute("PRAGMA user_version").fetchone()[0]:
            conn.execute(f"PRAGMA user_version = {int(top)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _recorded(conn: sqlite3.Connection) -> set[int] | None:
    try:
        return {r[0] for r in conn.execute("SELECT number FROM schema_migrations")}
    except sqlite3.OperationalError:  # no such table
        return None


def _pending(conn: sqlite3.Connection, known: list[tuple[int, str]],
             recorded: set[int] | None) -> list[tuple[int, str]] | None:
    """Migrations still to apply; None when that is not known yet (no schema_migrations)."""
    if recorded is None:
        fresh = conn.execute("PRAGMA user_version").fetchone()[0] == 0
        return known if fresh and known else None
    return [(n, sql) for n, sql in known if n not in recorded]


def _presumed(conn: sqlite3.Connection, known: list[tuple[int, str]]) -> set[int]:
    """For a store from before schema_migrations: migrations up to user_version count as
    applied, unless a table one creates is missing (it was numbered below one that ran)."""
    import re

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    done = set()
    for number, sql in known:
        created = re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql, re.IGNORECASE)
        if number <= version and all(t in tables for t in created):
            done.add(number)
    return done


def _statements(sql: str) -> list[str]:
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return [s for s in out if s]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction; rolled back on any error so nothing is half-written.
    Nested use joins the outer transaction."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
