"""Users, roles and grants."""

from __future__ import annotations

from berth import names
from berth.context import Ctx
from berth.errors import NotFound, ValidationError
from berth.store import apps as store_apps
from berth.store import events, grants, keys
from berth.store.db import transaction

ROLES = ("admin", "user")
GRANT_LEVELS = ("deploy", "manage")


def _role(value: str) -> str:
    if value not in ROLES:
        raise ValidationError(f"invalid role {value!r}: use admin or user")
    return value


def add(ctx: Ctx, name: str, role: str) -> None:
    names.user_name(name)
    _role(role)
    with transaction(ctx.conn):
        if keys.user_exists(ctx.conn, name):
            from berth.errors import AlreadyExists

            raise AlreadyExists(f"user {name!r} already exists")
        keys.ensure_user(ctx.conn, name, role)
        events.record(ctx.conn, actor=ctx.actor, app=None, action="user.add",
                      details={"user": name, "role": role})


def set_role(ctx: Ctx, name: str, role: str) -> None:
    _role(role)
    with transaction(ctx.conn):
        _require_user(ctx, name)
        grants.set_role(ctx.conn, name, role)
        events.record(ctx.conn, actor=ctx.actor, app=None, action="user.role",
                      details={"user": name, "role": role})


def remove(ctx: Ctx, name: str) -> None:
    from berth import keys as key_service

    with transaction(ctx.conn):
        _require_user(ctx, name)
        ctx.conn.execute("DELETE FROM users WHERE name = ?", (name,))
        events.record(ctx.conn, actor=ctx.actor, app=None, action="user.remove",
                      details={"user": name})
        key_service.write_authorized_keys(ctx)


def grant(ctx: Ctx, app: str, user: str, level: str) -> None:
    if level not in GRANT_LEVELS:
        raise ValidationError(f"invalid access level {level!r}: use deploy or manage")
    names.app_name(app)
    with transaction(ctx.conn):
        a = store_apps.get(ctx.conn, app)
        _require_user(ctx, user)
        grants.grant(ctx.conn, a.id, user, level)
        events.record(ctx.conn, actor=ctx.actor, app=app, action="app.grant",
                      details={"user": user, "level": level})


def revoke(ctx: Ctx, app: str, user: str) -> None:
    names.app_name(app)
    with transaction(ctx.conn):
        a = store_apps.get(ctx.conn, app)
        if grants.revoke(ctx.conn, a.id, user) == 0:
            raise NotFound(f"user {user!r} has no access to {app!r}")
        events.record(ctx.conn, actor=ctx.actor, app=app, action="app.revoke",
                      details={"user": user})


def _require_user(ctx: Ctx, name: str) -> None:
    names.user_name(name)
    if not keys.user_exists(ctx.conn, name):
        raise NotFound(f"user {name!r} does not exist; add it with `berth users:add {name}`")
