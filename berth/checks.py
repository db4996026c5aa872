"""Health checks a new container must pass before traffic moves to it.

    Policy                       per process type: checked, skipped or disabled, and which
                                 checks (app.json's, or the defaults), all values filled in
    run(container, ip, port, checks, out)
                                 one container through its checks; DeployError if one fails

Three kinds of check (app.json `healthchecks`): an HTTP `path` (status below 400 and, if
given, the expected `content` in the body), a `command` run inside the container with
`docker exec` (an argv list, no shell; exit 0 passes), and `uptime` (the container stays up
that many seconds without a restart). With no app.json check for a type, a web container must
answer HTTP on its port (any status) and any other container must stay up DEFAULT_UPTIME s.
"""

from __future__ import annotations

import http.client
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from berth import engine
from berth.appjson import Check
from berth.errors import DeployError

CHECKED, SKIPPED, DISABLED = "checked", "skipped", "disabled"
ALL = "_all_"
DEFAULT_UPTIME = 1.5
# the default web check: any HTTP answer, polled every 0.05 s for up to a minute (a refused
# connection costs nothing, and each poll saved is time the deploy waits for nothing)
DEFAULT_HTTP = Check(type="default", path="/", timeout=2.0, attempts=1200, wait=0.05)
# what an app.json check gets for a value neither it nor `checks:set` gives
BUILTIN = {"timeout": 5.0, "attempts": 30, "wait": 1.0}
MAX_UPTIME_POLLS = 4000

Out = Callable[[str], None]


@dataclass(frozen=True)
class Policy:
    checks: dict[str, tuple[Check, ...]] = field(default_factory=dict)
    default_http: Check = DEFAULT_HTTP
    disabled: tuple[str, ...] = ()  # process types, or (ALL,)
    skipped: tuple[str, ...] = ()

    def mode(self, ptype: str) -> str:
        if ALL in self.disabled or ptype in self.disabled:
            return DISABLED
        if ALL in self.skipped or ptype in self.skipped:
            return SKIPPED
        return CHECKED

    def for_type(self, ptype: str) -> list[Check]:
        if self.checks.get(ptype):
            return list(self.checks[ptype])
        if ptype == "web":
            return [self.default_http]
        return [Check(type="default", uptime=DEFAULT_UPTIME)]


def describe(check: Check, port: int) -> str:
    if check.kind == "uptime":
        return f"up for {check.uptime:g}s without a restart"
    if check.kind == "command":
        what = "command " + shlex.join(check.command or ())
    elif check.type == "default":
        what = f"any HTTP answer on port {port}"
    else:
        what = f"GET {check.path or '/'}" + (f" for {check.content!r}" if check.content else "")
    return (f"{what} ({check.attempts} attempts, {check.wait:g}s apart, "
            f"timeout {check.timeout:g}s)")


def run(container: Any, ip: str | None, port: int, checks: list[Check], out: Out,
        label: str) -> None:
    out(f"-----> Checking {label}")
    for check in checks:
        if check.name:
            out(f"       {check.name}")
        out(f"       {describe(check, port)}")
        if check.initial_delay:
            time.sleep(check.initial_delay)
        if check.kind == "uptime":
            _uptime(container, float(check.uptime or 0))
            out("       passed")
            continue
        attempts = check.attempts or 1
        reason, output = "not tried", ""
        for attempt in range(1, attempts + 1):
            if not running(container):
                raise _failed(container, "the container exited")
            if check.kind == "command":
                reason, output = command(container, check)
            else:
                reason = probe(ip or "", port, check) or ""
            if not reason:
                out(f"       passed on attempt {attempt}")
                break
            if attempt < attempts:
                time.sleep(check.wait or 0)
        if reason:
            for line in output.splitlines()[-10:]:
                out("       | " + line)
            raise _failed(container, reason)


def probe(ip: str, port: int, check: Check) -> str | None:
    """One HTTP attempt; None when it passed, else the reason it did not. The default check
    passes on any HTTP answer; a configured one needs a status below 400 and its content."""
    conn = http.client.HTTPConnection(ip, port, timeout=check.timeout)
    try:
        conn.request("GET", check.path or "/", headers={"User-Agent": "berth-check"})
        resp = conn.getresponse()
        body = resp.read(1024 * 1024).decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return f"no HTTP answer on port {port} ({e.__class__.__name__})"
    finally:
        conn.close()
    if check.type == "default":
        return None
    if resp.status >= 400:
        return f"{check.path} answered HTTP {resp.status}"
    if check.content is not None and check.content not in body:
        return f"{check.path} did not contain {check.content!r}"
    return None


def command(container: Any, check: Check) -> tuple[str, str]:
    """One command attempt: ("", output) when it exited 0, else (reason, output)."""
    argv = list(check.command or ())
    code, output = engine.exec_run(container, argv, timeout=check.timeout or BUILTIN["timeout"])
    if code is None:
        return f"command {argv[0]} timed out after {check.timeout:g}s", output
    if code != 0:
        return f"command {argv[0]} exited with code {code}", output
    return "", output


def _uptime(container: Any, seconds: float) -> None:
    for _ in range(MAX_UPTIME_POLLS):
        if not running(container):
            raise _failed(container, "the container exited")
        state = container.attrs.get("State", {})
        if int(container.attrs.get("RestartCount", 0) or 0) > 0:
            raise _failed(container, "the container restarted")
        up = time.time() - _parse_time(state.get("StartedAt", ""))
        if up >= seconds:
            return
        time.sleep(min(0.25, max(0.01, seconds - up)))
    raise _failed(container, f"not up for {seconds:g}s")


def _parse_time(value: str) -> float:
    """Docker's RFC 3339 time with nanoseconds -> epoch seconds (now if unreadable)."""
    try:
        head, _, frac = value.rstrip("Z").partition(".")
        base = datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()
        return base + (float("0." + frac[:9]) if frac.isdigit() else 0.0)
    except ValueError:
        return time.time()


def running(container: Any) -> bool:
    try:
        container.reload()
    except Exception:  # gone from the engine
        return False
    return bool(container.status == "running")


def _failed(container: Any, reason: str) -> DeployError:
    tail = engine.logs_tail(container, 20).rstrip()
    msg = f"{container.name} failed its checks: {reason}"
    if tail:
        msg += "\n       last lines of its log:\n" + "\n".join(
            "       | " + line for line in tail.splitlines())
    return DeployError(msg)
