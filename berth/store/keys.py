"""Users, their SSH keys and API tokens (stored hashed)."""

from __future__ import annotations

import sqlite3
import time

from berth.errors import AlreadyExists, NotFound
from berth.models import SSHKey


def ensure_user(conn: sqlite3.Connection, name: str, role: str = "admin") -> None:
    conn.execute("INSERT OR IGNORE INTO users(name, role, created_at) VALUES (?, ?, ?)",
                 (name, role, time.time()))


def user_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is not None


def add_key(conn: sqlite3.Connection, user: str, fingerprint: str, public_key: str) -> SSHKey:
    try:
        conn.execute("INSERT INTO ssh_keys(user, fingerprint, public_key, created_at)"
                     " VALUES (?, ?, ?, ?)", (user, fingerprint, public_key, time.time()))
    except sqlite3.IntegrityError:
        raise AlreadyExists(f"key {fingerprint} is already added") from None
    r = conn.execute("SELECT * FROM ssh_keys WHERE fingerprint = ?", (fingerprint,)).fetchone()
    return _key(r)


def _key(r: sqlite3.Row) -> SSHKey:
    return SSHKey(id=r["id"], user=r["user"], fingerprint=r["fingerprint"],
                  public_key=r["public_key"], created_at=r["created_at"])


def all_keys(conn: sqlite3.Connection) -> list[SSHKey]:
    return [_key(r) for r in conn.execute("SELECT * FROM ssh_keys ORDER BY user, id")]


def remove(conn: sqlite3.Connection, name_or_fingerprint: str) -> int:
    cur = conn.execute("DELETE FROM ssh_keys WHERE user = ? OR fingerprint = ?",
                       (name_or_fingerprint, name_or_fingerprint))
    if cur.rowcount == 0:
        raise NotFound(f"no key for {name_or_fingerprint!r}")
    return cur.rowcount


def add_token(conn: sqlite3.Connection, user: str, token_hash: str) -> None:
    conn.execute("INSERT INTO tokens(user, token_hash, created_at) VALUES (?, ?, ?)",
                 (user, token_hash, time.time()))


def user_for_token(conn: sqlite3.Connection, token_hash: str) -> str | None:
    r = conn.execute("SELECT user FROM tokens WHERE token_hash = ?", (token_hash,)).fetchone()
    return r[0] if r else None
