"""Add-on services and their links to apps."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from berth.errors import AlreadyExists, NotFound


@dataclass(frozen=True)
class Service:
    """One add-on service instance: `postgres` service `db`."""

    id: int
    type: str
    name: str
    image: str
    password: str
    created_at: float


@dataclass(frozen=True)
class ServiceLink:
    """APP reaches SERVICE through the config var ALIAS_URL."""

    type: str
    service: str
    app: str
    alias: str


def _row(r: sqlite3.Row) -> Service:
    return Service(id=r["id"], type=r["type"], name=r["name"], image=r["image"],
                   password=r["password"], created_at=r["created_at"])


def create(conn: sqlite3.Connection, type_: str, name: str, *, image: str,
           password: str) -> Service:
    try:
        conn.execute("INSERT INTO services(type, name, image, password, created_at) "
                     "VALUES (?, ?, ?, ?, ?)", (type_, name, image, password, time.time()))
    except sqlite3.IntegrityError:
        raise AlreadyExists(f"{type_} service {name!r} already exists") from None
    return get(conn, type_, name)


def find(conn: sqlite3.Connection, type_: str, name: str) -> Service | None:
    r = conn.execute("SELECT * FROM services WHERE type = ? AND name = ?",
                     (type_, name)).fetchone()
    return _row(r) if r else None


def get(conn: sqlite3.Connection, type_: str, name: str) -> Service:
    svc = find(conn, type_, name)
    if svc is None:
        raise NotFound(f"{type_} service {name!r} does not exist; create it with "
                       f"`berth {type_}:create {name}`")
    return svc


def all_services(conn: sqlite3.Connection, type_: str | None = None) -> list[Service]:
    if type_ is None:
        rows = conn.execute("SELECT * FROM services ORDER BY type, name")
    else:
        rows = conn.execute("SELECT * FROM services WHERE type = ? ORDER BY name", (type_,))
    return [_row(r) for r in rows]


def delete(conn: sqlite3.Connection, svc: Service) -> None:
    conn.execute("DELETE FROM services WHERE id = ?", (svc.id,))


def link(conn: sqlite3.Connection, svc: Service, app_id: int, alias: str) -> None:
    try:
        conn.execute("INSERT INTO service_links(service_id, app_id, alias, created_at) "
                     "VALUES (?, ?, ?, ?)", (svc.id, app_id, alias, time.time()))
    except sqlite3.IntegrityError:
        raise AlreadyExists(f"{svc.type} service {svc.name!r} is already linked to "
                            "that app") from None


def unlink(conn: sqlite3.Connection, svc: Service, app_id: int) -> None:
    conn.execute("DELETE FROM service_links WHERE service_id = ? AND app_id = ?",
                 (svc.id, app_id))


def links(conn: sqlite3.Connection, svc: Service | None = None) -> list[ServiceLink]:
    """Links of one service (or all), with the app's current name."""
    sql = ("SELECT s.type, s.name, a.name AS app, l.alias FROM service_links l "
           "JOIN services s ON s.id = l.service_id JOIN apps a ON a.id = l.app_id")
    args: tuple = ()
    if svc is not None:
        sql += " WHERE l.service_id = ?"
        args = (svc.id,)
    rows = conn.execute(sql + " ORDER BY s.type, s.name, a.name", args)
    return [ServiceLink(type=r["type"], service=r["name"], app=r["app"], alias=r["alias"])
            for r in rows]


def links_of_app(conn: sqlite3.Connection, app_id: int) -> list[ServiceLink]:
    rows = conn.execute(
        "SELECT s.type, s.name, a.name AS app, l.alias FROM service_links l "
        "JOIN services s ON s.id = l.service_id JOIN apps a ON a.id = l.app_id "
        "WHERE l.app_id = ? ORDER BY s.type, s.name", (app_id,))
    return [ServiceLink(type=r["type"], service=r["name"], app=r["app"], alias=r["alias"])
            for r in rows]
