"""`berth apps:list`: the store read and the text it prints. The click command
(berth/cli/apps.py) and the fast entry (berth/entry.py) both print through here, so their
output is the same bytes. Standard library only (start-up time)."""

from __future__ import annotations

import sqlite3

Row = tuple[str, int | None]  # (app name, current release version)


def read(conn: sqlite3.Connection) -> list[Row]:
    return [(r[0], r[1]) for r in
            conn.execute("SELECT name, current_release FROM apps ORDER BY name")]


def render(rows: list[Row], fmt: str) -> str:
    """The whole output, trailing newline included; fmt is "text" or "json"."""
    if fmt == "json":
        from berth.jsontext import dumps

        return dumps([{"name": name, "release": f"v{version}" if version else None}
                      for name, version in rows]) + "\n"
    return "".join(f"{line}\n" for line in ["=====> My Apps", *(name for name, _ in rows)])
