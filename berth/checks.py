"""Health checks a new container must pass before traffic moves to it."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import Any

from berth import engine
from berth.appjson import Check
from berth.errors import DeployError

DEFAULT = Check(type="startup", path="/", content=None, timeout=2.0, attempts=240, wait=0.0)
POLL = 0.25


def probe(ip: str, port: int, check: Check) -> str | None:
    """One attempt; None when it passed, else the reason it did not. The default check passes
    on any HTTP answer; a configured one needs a status below 400 and its content."""
    conn = http.client.HTTPConnection(ip, port, timeout=check.timeout)
    try:
        conn.request("GET", check.path or "/", headers={"User-Agent": "berth-check"})
        resp = conn.getresponse()
        body = resp.read(1024 * 1024).decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return f"no HTTP answer on port {port} ({e.__class__.__name__})"
    finally:
        conn.close()
    if check is DEFAULT:
        return None
    if resp.status >= 400:
        return f"{check.path} answered HTTP {resp.status}"
    if check.content is not None and check.content not in body:
        return f"{check.path} did not contain {check.content!r}"
    return None


def wait_http(container: Any, ip: str, port: int, checks: list[Check],
              out: Callable[[str], None]) -> None:
    for check in checks or [DEFAULT]:
        if check.wait:
            time.sleep(check.wait)
        if check is not DEFAULT:
            what = f" for {check.content!r}" if check.content else ""
            out(f"       check {check.path or '/'}{what}")
        reason = "not started"
        for _ in range(check.attempts):
            if not running(container):
                raise _failed(container, "the container exited")
            reason = probe(ip, port, check) or ""
            if not reason:
                break
            time.sleep(POLL)
        if reason:
            raise _failed(container, reason)


def wait_running(container: Any, seconds: float = 1.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not running(container):
            raise _failed(container, "the container exited")
        time.sleep(0.25)


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
