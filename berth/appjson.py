"""app.json: the parts berth uses (formation, healthchecks, scripts), validated."""

from __future__ import annotations

import json
from dataclasses import dataclass

from berth import names
from berth.errors import ValidationError

MAX_SIZE = 256 * 1024
SCRIPTS = ("predeploy", "postdeploy")
MAX_ARGV = 64


@dataclass(frozen=True)
class Check:
    """One health check, of one of three kinds: an HTTP `path` (+ expected `content`), a
    `command` run inside the container (an argv list; exit 0 passes), or `uptime` (seconds the
    container must stay up without a restart). None for timeout/attempts/wait means "the app's
    checks:set value, else berth's default" (checks_config.resolve fills them in). `wait` is
    the pause between attempts, `initial_delay` the pause before the first one."""

    type: str = "startup"
    name: str | None = None
    path: str | None = None
    content: str | None = None
    command: tuple[str, ...] | None = None
    uptime: float | None = None
    timeout: float | None = None
    attempts: int | None = None
    wait: float | None = None
    initial_delay: float = 0.0

    @property
    def kind(self) -> str:
        if self.command is not None:
            return "command"
        if self.uptime is not None:
            return "uptime"
        return "http"


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
    for name in SCRIPTS:
        script(data, name)
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
    kinds = [k for k in ("path", "command", "uptime") if item.get(k) is not None]
    if len(kinds) > 1:
        raise ValidationError(f"invalid {where}: use one of path, command or uptime, "
                              "not several")
    path = item.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")
                             or any(c in path for c in "\r\n ")):
        raise ValidationError(f"invalid {where}.path: must start with '/', no spaces")
    content = item.get("content")
    if content is not None and (not isinstance(content, str) or kinds not in ([], ["path"])):
        raise ValidationError(f"invalid {where}.content: a string, for HTTP (path) checks only")
    command = _argv(where, item.get("command"))
    name = item.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 100):
        raise ValidationError(f"invalid {where}.name: a string of at most 100 characters")
    kind = item.get("type", "startup")
    if kind not in ("startup", "liveness", "readiness"):
        raise ValidationError(f"invalid {where}.type: startup, liveness or readiness")
    attempts = item.get("attempts")
    if attempts is not None and (not isinstance(attempts, int) or isinstance(attempts, bool)
                                 or not 1 <= attempts <= 1000):
        raise ValidationError(f"invalid {where}.attempts: an integer from 1 to 1000")
    return Check(type=kind, name=name, path=path, content=content, command=command,
                 uptime=_number(where, item, "uptime", 0.1, 600),
                 timeout=_number(where, item, "timeout", 0.1, 600), attempts=attempts,
                 wait=_number(where, item, "wait", 0, 600),
                 initial_delay=_number(where, item, "initialDelay", 0, 600) or 0.0)


def _number(where: str, item: dict, key: str, lo: float, hi: float) -> float | None:
    v = item.get(key)
    if v is None:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool) or not lo <= v <= hi:
        raise ValidationError(f"invalid {where}.{key}: a number from {lo:g} to {hi:g} (seconds)")
    return float(v)


def _argv(where: str, value: object) -> tuple[str, ...] | None:
    """A command is an argv list run without a shell; use ["/bin/sh", "-c", "..."] for one."""
    if value is None:
        return None
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_ARGV
            or not all(isinstance(a, str) and a and "\x00" not in a and len(a) <= 4096
                       for a in value)):
        raise ValidationError(
            f"invalid {where}.command: a list of 1 to {MAX_ARGV} non-empty strings (argv, no "
            'shell), e.g. ["/bin/sh", "-c", "test -f /tmp/ready"]')
    return tuple(value)


def script(data: dict, name: str) -> str | None:
    scripts = data.get("scripts", {})
    if not isinstance(scripts, dict):
        raise ValidationError("invalid app.json scripts: must be an object")
    value = scripts.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"invalid app.json scripts.{name}: must be a string")
    return value
