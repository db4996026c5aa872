"""Load generators, each bounded in time: wrk (Debian's package; keep-alive connections, as
fast as it can) and a paced Python client whose workers either keep one connection alive
(checking, as urllib3 does, that the server has not closed it before reusing it) or open a
new connection for every request."""

from __future__ import annotations

import http.client
import re
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WRK_MAX_SECONDS = 900

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk (see bench/README)")
    return found


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    socket_errors: dict[str, int]
    non_2xx: int
    raw: str = ""

    @property
    def failed(self) -> int:
        return sum(self.socket_errors.values()) + self.non_2xx


def parse_wrk(out: str) -> WrkResult:
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    req = re.search(r"^\s+(\d+) requests in", out, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     out)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not (req and rps and "50" in lat and "99" in lat):
        raise RuntimeError(f"unreadable wrk output:\n{out}")
    names = ("connect", "read", "write", "timeout")
    return WrkResult(
        requests=int(req.group(1)), rps=float(rps.group(1)),
        p50_ms=_ms(lat["50"]), p99_ms=_ms(lat["99"]),
        socket_errors=dict(zip(names, (int(x) for x in errs.groups()), strict=True))
        if errs else dict.fromkeys(names, 0),
        non_2xx=int(non.group(1)) if non else 0, raw=out)


def wrk_argv(url: str, *, seconds: float, connections: int, threads: int,
             host: str | None = None) -> list[str]:
    argv = [wrk_path(), "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s",
            "--latency", "--timeout", "5s"]
    if host:
        argv += ["-H", f"Host: {host}"]
    return [*argv, url]


def wrk(url: str, *, seconds: float, connections: int = 50, threads: int = 2,
        host: str | None = None) -> WrkResult:
    argv = wrk_argv(url, seconds=seconds, connections=connections, threads=threads, host=host)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr.strip()}")
    return parse_wrk(proc.stdout)


class Wrk:
    """wrk in the background until stop() (SIGINT makes it print its statistics), at most
    WRK_MAX_SECONDS."""

    def __init__(self, url: str, *, connections: int, threads: int = 1,
                 host: str | None = None) -> None:
        self.argv = wrk_argv(url, seconds=WRK_MAX_SECONDS, connections=connections,
                             threads=threads, host=host)
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Wrk:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        return self

    def stop(self) -> WrkResult:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=30)
        return parse_wrk(out)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Failure:
    at: float  # time.monotonic()
    mode: str
    what: str


@dataclass
class ClientStats:
    mode: str
    requests: int = 0
    failures: list[Failure] = field(default_factory=list)
    idle_closed: int = 0  # keep-alive connections the server closed between requests


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True if the server closed this idle connection (readable with nothing expected)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class PacedClient:
    """``workers`` threads per mode, each sending one GET every ``interval`` seconds to the
    router with a Host header; a request fails on a socket error, a timeout, a status other
    than 200 or a body without ``expect``. Stops at stop() or after ``max_seconds``."""

    def __init__(self, port: int, host: str, *, modes: tuple[str, ...] = ("keepalive", "close"),
                 workers: int = 4, interval: float = 0.02, max_seconds: float = 900,
                 ok: Callable[[int, str], bool] | None = None) -> None:
        self.port, self.host = port, host
        self.interval, self.max_seconds = interval, max_seconds
        self.ok = ok or (lambda status, body: status == 200)
        self.stats = {m: ClientStats(m) for m in modes}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(m,), daemon=True)
                         for m in modes for _ in range(workers)]

    def _fail(self, mode: str, what: str) -> None:
        with self._lock:
            self.stats[mode].failures.append(Failure(time.monotonic(), mode, what))

    def _request(self, conn: http.client.HTTPConnection, close: bool) -> tuple[int, str]:
        headers = {"Host": self.host}
        if close:
            headers["Connection"] = "close"
        conn.request("GET", "/", headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")

    def _run(self, mode: str) -> None:
        deadline = time.monotonic() + self.max_seconds
        conn: http.client.HTTPConnection | None = None
        close = mode == "close"
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            if conn is not None and (close or _dropped(conn)):
                if not close:
                    with self._lock:
                        self.stats[mode].idle_closed += 1
                conn.close()
                conn = None
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                status, body = self._request(conn, close)
                if not self.ok(status, body):
                    self._fail(mode, f"{status} {body[:60]!r}")
            except (OSError, http.client.HTTPException) as e:
                self._fail(mode, type(e).__name__)
                conn.close()
                conn = None
            with self._lock:
                self.stats[mode].requests += 1
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        if conn is not None:
            conn.close()

    def __enter__(self) -> PacedClient:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
