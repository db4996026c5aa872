"""app.json: the parts berth uses (formation, healthchecks, scripts), validated."""

from __future__ import annotations

import json
from dataclasses import dataclass

from berth import names
from berth.errors import ValidationError

MAX_SIZE = 256 * 1024


@dataclass(frozen=True)
class Check:
    """One health check: HTTP path (+ expected content), or uptime only."""

    type: str = "startup"
    path: str | None = None
    content: str | None = None
    timeout: float = 5.0
    attempts: int = 30
    wait: float = 0.0


def parse(text: str) -> dict:
    if len(text.encode(errors="surrogatepass")) > MAX_SIZE:
        raise ValidationError("invalid app.json: larger than 256 KiB")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationError(f"invalid app.json: {e.msg} at line {e.lineno}") from None
    if not isinstance(data, dict):
        raise ValidationError("invalid app.json: the top level must be an object")
    formation(data)
    checks(data)
    from berth import cron

    cron.entries(data)
    return data


def formation(data: dict) -> dict[str, int]:
    raw = data.get("formation", {})
    if not isinstance(raw, dict):
        raise ValidationError("invalid app.json formation: must be an object")
    out = {}
    for ptype, spec in raw.items():
        names.process_type(ptype)
        qty = spec.get("quantity", 1) if isinstance(spec, dict) else None
        if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= 100:
            raise ValidationError(
                f"invalid app.json formation.{ptype}.quantity: an integer from 0 to 100")
        out[ptype] = qty
    return out


def checks(data: dict) -> dict[str, list[Check]]:
    raw = data.get("healthchecks", {})
    if not isinstance(raw, dict):
        raise ValidationError("invalid app.json healthchecks: must be an object")
    out: dict[str, list[Check]] = {}
    for ptype, items in raw.items():
        names.process_type(ptype)
        if not isinstance(items, list):
            raise ValidationError(f"invalid app.json healthchecks.{ptype}: must be a list")
        out[ptype] = [_check(ptype, i, item) for i, item in enumerate(items)]
    return out


def _check(ptype: str, i: int, item: object) -> Check:
    where = f"app.json healthchecks.{ptype}[{i}]"
    if not isinstance(item, dict):
        raise ValidationError(f"invalid {where}: must be an object")
    path = item.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")
                             or any(c in path for c in "\r\n ")):
        raise ValidationError(f"invalid {where}.path: must start with '/', no spaces")
    content = item.get("content")
    if content is not None and not isinstance(content, str):
        raise ValidationError(f"invalid {where}.content: must be a string")
    nums = {}
    for key, default, hi in (("timeout", 5.0, 600), ("attempts", 30, 1000), ("wait", 0.0, 600)):
        v = item.get(key, default)
        if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= hi:
            raise ValidationError(f"invalid {where}.{key}: a number from 0 to {hi}")
        nums[key] = v
    kind = item.get("type", "startup")
    if kind not in ("startup", "liveness", "readiness"):
        raise ValidationError(f"invalid {where}.type: startup, liveness or readiness")
    return Check(type=kind, path=path, content=content, timeout=float(nums["timeout"]),
                 attempts=max(1, int(nums["attempts"])), wait=float(nums["wait"]))


def script(data: dict, name: str) -> str | None:
    scripts = data.get("scripts", {})
    if not isinstance(scripts, dict):
        raise ValidationError("invalid app.json scripts: must be an object")
    value = scripts.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"invalid app.json scripts.{name}: must be a string")
    return value
