"""Config vars: set, unset, import; each change to an app is a new release and a restart."""

from __future__ import annotations

import base64
import binascii
import json
import shlex
from collections.abc import Callable

from berth import names
from berth.context import Ctx
from berth.errors import ValidationError
from berth.models import App
from berth.store import apps as store_apps
from berth.store import config as store
from berth.store import events
from berth.store.db import transaction


def parse_pairs(pairs: list[str], *, encoded: bool = False) -> dict[str, str]:
    """KEY=VALUE arguments; with encoded, VALUE is base64."""
    if not pairs:
        raise ValidationError("give at least one KEY=VALUE")
    out: dict[str, str] = {}
    for n, pair in enumerate(pairs, 1):
        if "=" not in pair:  # the text may be a secret: never echo it
            raise ValidationError(f"invalid config pair (argument {n}): expected KEY=VALUE")
        key, value = pair.split("=", 1)
        names.env_key(key)
        if encoded:
            try:
                value = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ValidationError(f"invalid base64 value for {key}") from None
        out[key] = names.env_value(key, value)
    return out


def scope(ctx: Ctx, app: str | None) -> tuple[int, App | None]:
    if app is None:
        return store.GLOBAL, None
    names.app_name(app)
    a = store_apps.get(ctx.conn, app)
    return a.id, a


def show(ctx: Ctx, app: str | None, *, merged: bool = False) -> dict[str, str]:
    scope_id, a = scope(ctx, app)
    if merged and a is not None:
        return store.merged(ctx.conn, a.id)
    return store.get_all(ctx.conn, scope_id)


def set_vars(ctx: Ctx, app: str | None, values: dict[str, str], *, restart: bool = True) -> None:
    scope_id, a = scope(ctx, app)
    _change(ctx, a, scope_id, lambda: store.set_many(ctx.conn, scope_id, values),
            "Set " + ", ".join(values), "config.set", sorted(values), restart)


def unset_vars(ctx: Ctx, app: str | None, keys: list[str], *, restart: bool = True) -> None:
    if not keys:
        raise ValidationError("give at least one KEY")
    for k in keys:
        names.env_key(k)
    scope_id, a = scope(ctx, app)
    _change(ctx, a, scope_id, lambda: store.unset_many(ctx.conn, scope_id, keys),
            "Unset " + ", ".join(keys), "config.unset", sorted(keys), restart)


def _change(ctx: Ctx, app: App | None, scope_id: int, apply: Callable[[], None], description: str,
            action: str, keys: list[str], restart: bool) -> None:
    from berth.deploy import app_lock, redeploy_config
    from berth.hooks import manager as hooks

    if app is None:
        with transaction(ctx.conn):
            apply()
            events.record(ctx.conn, actor=ctx.actor, app=None, action=action,
                          details={"keys": keys, "global": True})
        hooks.fire(ctx, "post_config_update", app="", keys=keys)
        return
    with app_lock(ctx, app.name):
        with transaction(ctx.conn):
            apply()
            events.record(ctx.conn, actor=ctx.actor, app=app.name, action=action,
                          details={"keys": keys})
        hooks.fire(ctx, "post_config_update", app=app.name, keys=keys)
        if restart:
            ctx.step(f"{description}; restarting {app.name}")
            redeploy_config(ctx, app, description[:200])


def export(values: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(values, indent=2, sort_keys=True)
    if fmt == "envfile":
        return "".join(f"{k}={_env_quote(v)}\n" for k, v in sorted(values.items()))
    if fmt == "shell":
        return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(values.items()))
    raise ValidationError(f"unknown format {fmt!r}: use envfile, json or shell")


def _env_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "_-./:@+," for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def parse_import(text: str, fmt: str) -> dict[str, str]:
    """Read what `config:export` wrote (envfile or json)."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValidationError(f"invalid JSON: {e.msg}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValidationError("invalid JSON: expected an object of string values")
        return {names.env_key(k): names.env_value(k, v) for k, v in data.items()}
    out: dict[str, str] = {}
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ")
        if "=" not in line:
            raise ValidationError(f"invalid line {n}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        names.env_key(key.strip())
        out[key.strip()] = names.env_value(key, _env_unquote(value.strip(), n))
    return out


def _env_unquote(value: str, n: int) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, i, body = [], 0, value[1:-1]
        while i < len(body):
            c = body[i]
            if c == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                out.append({"n": "\n", "\\": "\\", '"': '"'}.get(nxt, "\\" + nxt))
                i += 2
            else:
                out.append(c)
                i += 1
        return "".join(out)
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value
