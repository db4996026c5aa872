"""Port mappings of apps: scheme, host port, container port."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple


class PortMap(NamedTuple):
    scheme: str
    host_port: int
    container_port: int

    def __str__(self) -> str:
        return f"{self.scheme}:{self.host_port}:{self.container_port}"


def of_app(conn: sqlite3.Connection, app_id: int) -> list[PortMap]:
    rows = conn.execute("SELECT scheme, host_port, container_port FROM ports WHERE app_id = ? "
                        "ORDER BY scheme, host_port", (app_id,))
    return [PortMap(r[0], r[1], r[2]) for r in rows]


def all_ports(conn: sqlite3.Connection) -> dict[str, list[PortMap]]:
    rows = conn.execute("SELECT a.name, p.scheme, p.host_port, p.container_port FROM ports p "
                        "JOIN apps a ON a.id = p.app_id ORDER BY p.scheme, p.host_port")
    out: dict[str, list[PortMap]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(PortMap(r[1], r[2], r[3]))
    return out


def put(conn: sqlite3.Connection, app_id: int, maps: list[PortMap]) -> None:
    """Replace the app's mappings with ``maps``."""
    conn.execute("DELETE FROM ports WHERE app_id = ?", (app_id,))
    conn.executemany("INSERT INTO ports(app_id, scheme, host_port, container_port) "
                     "VALUES (?, ?, ?, ?)", [(app_id, *m) for m in maps])
