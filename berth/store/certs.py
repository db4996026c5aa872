"""The TLS certificate of each app (PEM text; key material stays in the 0600 database)."""

from __future__ import annotations

import sqlite3
import time
from typing import NamedTuple


class CertRow(NamedTuple):
    cert_pem: str
    key_pem: str
    source: str  # custom | generated
    created_at: float


def get(conn: sqlite3.Connection, app_id: int) -> CertRow | None:
    r = conn.execute("SELECT cert_pem, key_pem, source, created_at FROM certs WHERE app_id = ?",
                     (app_id,)).fetchone()
    return CertRow(r[0], r[1], r[2], r[3]) if r else None


def put(conn: sqlite3.Connection, app_id: int, cert_pem: str, key_pem: str, source: str) -> None:
    conn.execute("INSERT OR REPLACE INTO certs(app_id, cert_pem, key_pem, source, created_at) "
                 "VALUES (?, ?, ?, ?, ?)", (app_id, cert_pem, key_pem, source, time.time()))


def remove(conn: sqlite3.Connection, app_id: int) -> bool:
    return conn.execute("DELETE FROM certs WHERE app_id = ?", (app_id,)).rowcount > 0
