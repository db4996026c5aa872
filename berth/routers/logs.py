"""Per-app access logs of the router, as one normalised record shape for both routers.

Caddy and nginx both write JSON lines to ``ROOT/logs/router/APP.log`` (requests for unknown
hosts go to nginx's ``_unknown.log`` / Caddy's ``caddy/access.log``). :func:`router_log_lines`
reads one app's file back as dicts with the keys of :data:`FIELDS` (what `logs APP -p router`
shows), whichever router wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIELDS = ("time", "router", "app", "host", "method", "uri", "proto", "status", "size",
          "duration", "remote_ip", "request_id", "user_agent")


def log_dir(root: Path) -> Path:
    return root / "logs" / "router"


def log_file(root: Path, app: str) -> Path:
    return log_dir(root) / f"{app}.log"


def normalise(entry: dict[str, Any], app: str) -> dict[str, Any]:
    """One record from a Caddy or an nginx JSON access-log line."""
    if entry.get("router") == "nginx":
        return {
            "time": float(entry.get("ts") or 0), "router": "nginx", "app": app,
            "host": entry.get("host", ""), "method": entry.get("method", ""),
            "uri": entry.get("uri", ""), "proto": entry.get("proto", ""),
            "status": int(entry.get("status") or 0), "size": int(entry.get("size") or 0),
            "duration": float(entry.get("duration") or 0),
            "remote_ip": entry.get("remote_ip", ""), "request_id": entry.get("request_id", ""),
            "user_agent": entry.get("user_agent", ""),
        }
    req = entry.get("request") or {}
    headers = req.get("headers") or {}
    rid = (entry.get("resp_headers") or {}).get("X-Request-Id") or [entry.get("uuid", "")]
    return {
        "time": float(entry.get("ts") or 0), "router": "caddy", "app": app,
        "host": req.get("host", ""), "method": req.get("method", ""),
        "uri": req.get("uri", ""), "proto": req.get("proto", ""),
        "status": int(entry.get("status") or 0), "size": int(entry.get("size") or 0),
        "duration": float(entry.get("duration") or 0),
        "remote_ip": req.get("client_ip") or req.get("remote_ip", ""),
        "request_id": rid[0] if rid else "",
        "user_agent": (headers.get("User-Agent") or [""])[0],
    }


def router_log_lines(root: Path, app: str) -> Iterator[dict[str, Any]]:
    """The app's router access log, oldest first; lines that are not JSON are skipped."""
    path = log_file(root, app)
    try:
        f = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError:
        return
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield normalise(entry, app)
