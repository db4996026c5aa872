"""Global server settings (domain, listen address, CA bundle ...)."""

from __future__ import annotations

import sqlite3

DEFAULTS = {
    "domain": "localhost",
    "listen": ":80",
    "https-listen": ":443",
    "router": "caddy",
    "scheduler": "docker-local",
    "acme-ca": "",
    "acme-email": "",
    "ca-bundle": "",
    "retain-images": "5",
    "lock-timeout": "600",
    "max-file-size": str(200 * 1024 * 1024),
    "max-tree-size": str(2 * 1024 * 1024 * 1024),
}


def get(conn: sqlite3.Connection, key: str) -> str:
    r = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return r[0] if r else DEFAULTS.get(key, "")


def all_settings(conn: sqlite3.Connection) -> dict[str, str]:
    out = dict(DEFAULTS)
    out.update({r[0]: r[1] for r in conn.execute("SELECT key, value FROM settings")})
    return out


def put(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    if value is None:
        conn.execute("DELETE FROM settings WHERE key = ?", (key,))
    else:
        conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, value))
