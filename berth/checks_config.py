"""Health-check settings per app: `checks:set`, `checks:disable/enable/skip`, `checks:report`,
and the Policy a deploy, restart or scale checks new containers with.

Settings (app settings `checks.KEY`):
    wait            seconds between attempts        } defaults for every app.json check that
    timeout         seconds one attempt may take    } does not set its own, and for the
    attempts        attempts before the deploy fails} default web check
    wait-to-retire  seconds old containers keep running after traffic moved off them

Modes per process type (as Dokku documents them):
    checked   new containers are checked before traffic moves to them (the default)
    skipped   new containers start beside the old ones and take traffic without checks;
              still no downtime, but no gate either
    disabled  no zero-downtime: the old containers of that type stop before the new ones
              start, and nothing is checked (expect downtime)
A type is in one mode at a time: the last disable/skip/enable for it wins.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from berth import appjson, apps, names
from berth.appjson import Check
from berth.checks import ALL, BUILTIN, DEFAULT_HTTP, Policy
from berth.context import Ctx
from berth.errors import ValidationError
from berth.models import App, Release
from berth.store import apps as store_apps
from berth.store import events, releases
from berth.store.db import transaction

DEFAULT_RETIRE_WAIT = 2.0
# key -> (integer?, lowest, highest)
KEYS: dict[str, tuple[bool, float, float]] = {
    "wait": (False, 0, 600),
    "timeout": (False, 0.1, 600),
    "attempts": (True, 1, 1000),
    "wait-to-retire": (False, 0, 3600),
}
DISABLED_KEY, SKIPPED_KEY = "checks.disabled", "checks.skipped"


def validate(key: str, value: str) -> str:
    if key not in KEYS:
        raise ValidationError(f"unknown checks setting {key!r}: use {', '.join(KEYS)}")
    integer, lo, hi = KEYS[key]
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        number = None
    if number is None or not lo <= number <= hi:
        kind = "an integer" if integer else "a number of seconds"
        raise ValidationError(f"invalid {key} {value[:20]!r}: {kind} from {lo:g} to {hi:g}")
    return str(number)


def parse_types(args: list[str] | tuple[str, ...]) -> list[str]:
    """Process types as separate arguments and/or comma-separated ('web,worker')."""
    out: list[str] = []
    for arg in args:
        for ptype in arg.split(","):
            if ptype and names.process_type(ptype) not in out:
                out.append(ptype)
    return out


def apply_mode(disabled: list[str], skipped: list[str], action: str, types: list[str],
               known: list[str]) -> tuple[list[str], list[str]]:
    """Pure: the (disabled, skipped) lists after `checks:<action> [types]`; no types means
    every type. `known` expands ALL when one type leaves it."""

    def without(lst: list[str]) -> list[str]:
        return sorted(set(known if ALL in lst else lst) - set(types))

    def plus(lst: list[str]) -> list[str]:
        return lst if ALL in lst else sorted(set(lst) | set(types))

    if action not in ("enable", "disable", "skip"):
        raise ValidationError(f"unknown checks action {action!r}")
    if not types:
        return {"enable": ([], []), "disable": ([ALL], []), "skip": ([], [ALL])}[action]
    if action == "enable":
        return without(disabled), without(skipped)
    if action == "disable":
        return plus(disabled), without(skipped)
    return without(disabled), plus(skipped)


def resolve(check: Check, overrides: dict[str, str]) -> Check:
    """Fill the check's missing timeout/attempts/wait from checks:set values, then BUILTIN."""
    values: dict[str, Any] = {}
    for key in ("timeout", "attempts", "wait"):
        if getattr(check, key) is None:
            raw = overrides.get(key)
            default = BUILTIN[key]
            values[key] = (int(raw) if key == "attempts" else float(raw)) if raw else default
    return dataclasses.replace(check, **values)


def _list(value: str | None) -> list[str]:
    return [t for t in (value or "").split(",") if t]


def _overrides(ctx: Ctx, app: App) -> dict[str, str]:
    stored = store_apps.settings(ctx.conn, app)
    return {k: stored[f"checks.{k}"] for k in KEYS if f"checks.{k}" in stored}


def policy(ctx: Ctx, app: App, release: Release | None) -> Policy:
    over = _overrides(ctx, app)
    resolved = {ptype: tuple(resolve(c, over) for c in cs)
                for ptype, cs in appjson.checks(release.app_json if release else {}).items()}
    values: dict[str, Any] = {k: int(v) if k == "attempts" else float(v)
                              for k, v in over.items() if k in ("timeout", "attempts", "wait")}
    default_http = dataclasses.replace(DEFAULT_HTTP, **values)
    return Policy(checks=resolved, default_http=default_http,
                  disabled=tuple(_list(store_apps.get_setting(ctx.conn, app, DISABLED_KEY))),
                  skipped=tuple(_list(store_apps.get_setting(ctx.conn, app, SKIPPED_KEY))))


def retire_wait(ctx: Ctx, app: App) -> float:
    """Seconds old containers keep serving after the switch: the app's setting, but never
    less than the router needs to stop sending them requests."""
    from berth import routing

    value = store_apps.get_setting(ctx.conn, app, "checks.wait-to-retire")
    wait = float(value) if value else DEFAULT_RETIRE_WAIT
    return max(wait, routing.switch_delay(ctx))


def set_value(ctx: Ctx, app_name: str, key: str, value: str | None) -> None:
    """Set one checks setting; an empty or missing value unsets it (back to the default)."""
    if key not in KEYS:
        validate(key, "")
    stored = validate(key, value) if value else None
    app = apps.get(ctx, app_name)
    with transaction(ctx.conn):
        store_apps.set_setting(ctx.conn, app, f"checks.{key}", stored)
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action="checks.set",
                      details={"key": key, "value": stored})


def known_types(ctx: Ctx, app: App) -> list[str]:
    cur = releases.current(ctx.conn, app)
    types = {"web", *(cur.processes if cur else {})} - {"release"}
    return sorted(types)


def change_mode(ctx: Ctx, app_name: str, action: str, args: list[str] | tuple[str, ...]
                ) -> tuple[list[str], list[str]]:
    app = apps.get(ctx, app_name)
    types = parse_types(args)
    with transaction(ctx.conn):
        disabled, skipped = apply_mode(
            _list(store_apps.get_setting(ctx.conn, app, DISABLED_KEY)),
            _list(store_apps.get_setting(ctx.conn, app, SKIPPED_KEY)), action, types,
            known_types(ctx, app))
        store_apps.set_setting(ctx.conn, app, DISABLED_KEY, ",".join(disabled) or None)
        store_apps.set_setting(ctx.conn, app, SKIPPED_KEY, ",".join(skipped) or None)
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action=f"checks.{action}",
                      details={"types": types or [ALL]})
    return disabled, skipped


def report(ctx: Ctx, app_name: str) -> dict[str, Any]:
    from berth.checks import describe
    from berth.schedulers.specs import port_of

    app = apps.get(ctx, app_name)
    over = _overrides(ctx, app)
    cur = releases.current(ctx.conn, app)
    pol = policy(ctx, app, cur)
    port = port_of(cur) if cur else 5000
    return {
        "app": app.name,
        "disabled": list(pol.disabled),
        "skipped": list(pol.skipped),
        "modes": {t: pol.mode(t) for t in known_types(ctx, app)},
        "wait": float(over.get("wait", BUILTIN["wait"])),
        "timeout": float(over.get("timeout", BUILTIN["timeout"])),
        "attempts": int(over.get("attempts", BUILTIN["attempts"])),
        "wait_to_retire": retire_wait(ctx, app),
        "set": {k: over[k] for k in sorted(over)},
        "healthchecks": {t: [describe(c, port) for c in pol.for_type(t)]
                         for t in known_types(ctx, app)},
    }
