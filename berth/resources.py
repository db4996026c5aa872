"""Resource limits and reservations per app and process type.

    resource:limit APP [--process-type T] --memory 512m --cpu 0.5     hard caps
    resource:reserve APP [--process-type T] --memory 256m --cpu 0.25  soft guarantees

Stored as app settings `resource.TYPE.limit|reserve.memory|cpu` (memory in bytes, cpu in
CPUs). TYPE `_default` applies to every process type without a value of its own; the type
`build` applies to the app's image builds instead. Changes apply on the next deploy or
restart: specs.process_spec turns them into the container's limits."""

from __future__ import annotations

import os
import re
from typing import Any

from berth import names
from berth.context import Ctx
from berth.errors import ValidationError
from berth.models import DEFAULT_TYPE, App, Limits
from berth.store import apps as store_apps
from berth.store import events
from berth.store.db import transaction

KINDS = ("limit", "reserve")
BUILD = "build"
MIN_MEMORY = 6 * 1024 * 1024  # the engine refuses less
MAX_MEMORY = 1024 ** 4
MIN_CPU, MAX_CPU = 0.01, 64.0
_SIZE = re.compile(r"([0-9]{1,13})(?:\.([0-9]{1,3}))?\s*([bkmgt]?)(?:i?b)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


def parse_memory(value: str) -> int:
    """'512m', '1g', '1.5g', '268435456' (bytes) -> bytes; 6m to 1t."""
    m = _SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
    if not m or (m.group(2) and not m.group(3)):
        raise ValidationError(f"invalid memory size {str(value)[:20]!r}: use a number with "
                              "an optional unit b, k, m, g or t (e.g. 512m, 1g)")
    whole, frac, unit = m.group(1), m.group(2) or "0", m.group(3).lower()
    size = int(whole) * _UNITS[unit] + int(frac) * _UNITS[unit] // 10 ** len(frac)
    if not MIN_MEMORY <= size <= MAX_MEMORY:
        raise ValidationError(f"invalid memory size {value!r}: from 6m to 1t")
    return size


def parse_cpu(value: str) -> float:
    """'0.5', '2' -> CPUs, from 0.01 to 64 (two decimals at most)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,2}(\.[0-9]{1,2})?", value.strip()):
        raise ValidationError(f"invalid cpu {str(value)[:20]!r}: a number of CPUs from "
                              f"{MIN_CPU} to {MAX_CPU:g} (e.g. 0.5)")
    cpu = float(value)
    if not MIN_CPU <= cpu <= MAX_CPU:
        raise ValidationError(f"invalid cpu {value!r}: from {MIN_CPU} to {MAX_CPU:g}")
    return cpu


def format_memory(size: int | None) -> str | None:
    if size is None:
        return None
    for unit, mult in (("t", 1024 ** 4), ("g", 1024 ** 3), ("m", 1024 ** 2), ("k", 1024)):
        if size % mult == 0:
            return f"{size // mult}{unit}"
    return str(size)


def process_type(value: str | None) -> str:
    if value is None or value == DEFAULT_TYPE:
        return DEFAULT_TYPE
    return names.process_type(value)


def _key(ptype: str, kind: str, what: str) -> str:
    return f"resource.{ptype}.{kind}.{what}"


def load(ctx: Ctx, app: App) -> dict[str, Limits]:
    """Every type's own values, as stored (no defaults merged)."""
    raw: dict[str, dict[str, str]] = {}
    for key, value in store_apps.settings(ctx.conn, app).items():
        parts = key.split(".")
        if len(parts) == 4 and parts[0] == "resource" and parts[2] in KINDS:
            raw.setdefault(parts[1], {})[f"{parts[2]}.{parts[3]}"] = value
    out = {}
    for ptype, vals in raw.items():
        out[ptype] = Limits(memory=_int(vals.get("limit.memory")),
                            cpu=_float(vals.get("limit.cpu")),
                            memory_reservation=_int(vals.get("reserve.memory")),
                            cpu_reservation=_float(vals.get("reserve.cpu")))
    return out


def _int(v: str | None) -> int | None:
    return int(v) if v is not None else None


def _float(v: str | None) -> float | None:
    return float(v) if v is not None else None


def set_values(ctx: Ctx, app_name: str, *, kind: str, ptype: str | None,
               memory: str | None, cpu: str | None) -> Limits:
    """Validate, store and record; returns the type's merged values after the change."""
    from berth import apps
    from berth.models import RunOptions

    assert kind in KINDS
    pt = process_type(ptype)
    if memory is None and cpu is None:
        raise ValidationError("give --memory and/or --cpu")
    mem = parse_memory(memory) if memory is not None else None
    cpus = parse_cpu(cpu) if cpu is not None else None
    if cpus is not None and kind == "limit" and cpus > (os.cpu_count() or 1):
        raise ValidationError(f"invalid cpu {cpu}: this host has only "
                              f"{os.cpu_count() or 1} CPUs")
    app = apps.get(ctx, app_name)
    with transaction(ctx.conn):
        if mem is not None:
            store_apps.set_setting(ctx.conn, app, _key(pt, kind, "memory"), str(mem))
        if cpus is not None:
            store_apps.set_setting(ctx.conn, app, _key(pt, kind, "cpu"), repr(cpus))
        stored = load(ctx, app)
        opts = RunOptions(limits=stored)
        for t in sorted({pt, *stored}):  # a default reaches every type
            m = opts.limits_for(t)
            if (m.memory is not None and m.memory_reservation is not None
                    and m.memory_reservation > m.memory):
                raise ValidationError(
                    f"the memory reservation ({format_memory(m.memory_reservation)}) must "
                    f"not exceed the memory limit ({format_memory(m.memory)}) of {t}")
        merged = opts.limits_for(pt)
        details: dict[str, object] = {"process_type": pt}
        if mem is not None:
            details["memory"] = format_memory(mem)
        if cpus is not None:
            details["cpu"] = cpus
        events.record(ctx.conn, actor=ctx.actor, app=app.name, action=f"resource.{kind}",
                      details=details)
    return merged


def clear(ctx: Ctx, app_name: str, *, kind: str, ptype: str | None) -> int:
    from berth import apps

    assert kind in KINDS
    pt = process_type(ptype)
    app = apps.get(ctx, app_name)
    with transaction(ctx.conn):
        n = 0
        for what in ("memory", "cpu"):
            if store_apps.get_setting(ctx.conn, app, _key(pt, kind, what)) is not None:
                store_apps.set_setting(ctx.conn, app, _key(pt, kind, what), None)
                n += 1
        events.record(ctx.conn, actor=ctx.actor, app=app.name,
                      action=f"resource.{kind}-clear", details={"process_type": pt})
    return n


def build_limits(ctx: Ctx, app: App) -> Limits:
    """What an image build of this app may use: the `build` type's limits only."""
    return load(ctx, app).get(BUILD, Limits())


def describe(limits: Limits) -> dict[str, dict[str, object]]:
    return {"limit": {"memory": format_memory(limits.memory), "cpu": limits.cpu},
            "reserve": {"memory": format_memory(limits.memory_reservation),
                        "cpu": limits.cpu_reservation}}


def report(ctx: Ctx, app_name: str) -> dict[str, Any]:
    """Stored values per type, and what each process type of the current release gets."""
    from berth import apps
    from berth.models import RunOptions
    from berth.store import releases

    app = apps.get(ctx, app_name)
    stored = load(ctx, app)
    opts = RunOptions(limits=stored)
    cur = releases.current(ctx.conn, app)
    types = sorted({*(cur.processes if cur else {}), *(["web"] if cur else [])} - {"release"})
    return {
        "app": app.name,
        "configured": {t: describe(v) for t, v in sorted(stored.items())},
        "effective": {t: describe(opts.limits_for(t)) for t in types},
        "build": describe(build_limits(ctx, app)),
    }
