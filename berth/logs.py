"""App logs on disk: what every container of an app printed, kept across redeploys.

Files, under ROOT/logs/ (mode 0700)::

    apps/APP/app.log        one line per output line, appended by `berth server`'s log
    apps/APP/app.log.1..3   shipper (server/shipper.py) and the cron runner; rotated at
                            MAX_BYTES, KEEP old files
    builds/APP/vN.log       the build and deploy output of release vN

A line is ``TIMESTAMP PROCESS CONTAINER TEXT`` with a nanosecond UTC timestamp taken from the
engine (``2026-01-02T03:04:05.123456789Z web.1 3f2a1c9b8e7d listening on 5000``), so sorting by
time is sorting by text, and the shipper can find where it stopped for each container after a
restart (:func:`positions`). Writers take an flock on ``.lock`` in the app's directory, so the
server and a CLI `cron:run` can both append. The router writes each app's access log itself
(ROOT/logs/router/APP.log, routers/logs.py); :func:`router_tail` reads it.
"""

from __future__ import annotations

import calendar
import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from berth.context import Ctx
from berth.paths import Paths

MAX_BYTES = 8 * 1024 * 1024
KEEP = 3
MAX_LINE = 16 * 1024
KEEP_BUILDS = 50  # build logs kept per app, newest releases
BLOCK = 64 * 1024
INVERSION = 2 * 10**9  # ns; how far out of order one container's lines may be
SLACK = 500  # extra lines read by tail() to put the last n in time order
_TS = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Record:
    ns: int  # UTC, nanoseconds since the epoch
    process: str  # web.1, cron.ID, run.1234, router
    container: str  # 12 hex digits, or "-"
    text: str

    def line(self) -> str:
        return f"{format_ts(self.ns)} {self.process} {self.container} {self.text}\n"

    def show(self, *, quiet: bool = False) -> str:
        """`2026-01-02T03:04:05Z app[web.1]: text`, or the text alone."""
        if quiet:
            return self.text
        return f"{format_ts(self.ns, precise=False)} app[{self.process}]: {self.text}"

    def matches(self, ptype: str | None) -> bool:
        """-p web matches web.1, web.2 ...; -p web.2 only that one."""
        if not ptype:
            return True
        return self.process == ptype or self.process.split(".", 1)[0] == ptype


def parse_ts(text: str) -> int:
    """RFC 3339 UTC with up to 9 fraction digits (what the engine writes) -> nanoseconds."""
    m = _TS.fullmatch(text)
    if not m:
        raise ValueError(f"not an RFC 3339 UTC timestamp: {text[:40]!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = (m.group(7) or "").ljust(9, "0")
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10**9 + int(frac)


def format_ts(ns: int, *, precise: bool = True) -> str:
    secs, frac = divmod(ns, 10**9)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    return f"{base}.{frac:09d}Z" if precise else f"{base}Z"


def parse_line(line: str) -> Record | None:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 3:
        return None
    try:
        ns = parse_ts(parts[0])
    except ValueError:
        return None
    return Record(ns=ns, process=parts[1], container=parts[2],
                  text=parts[3] if len(parts) == 4 else "")


def split_engine_line(raw: bytes) -> tuple[int, str] | None:
    """One line of `docker logs --timestamps` -> (ns, text); None if it has no timestamp."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    stamp, _, rest = text.partition(" ")
    try:
        ns = parse_ts(stamp)
    except ValueError:
        return None
    return ns, clean(rest)


def clean(text: str) -> str:
    """One display line: no newlines or NULs, at most MAX_LINE characters."""
    text = text.replace("\r", "").replace("\n", " ").replace("\x00", "")
    return text[:MAX_LINE]


# -- paths ---------------------------------------------------------------------------------

def app_dir(paths: Paths, app: str) -> Path:
    return paths.logs / "apps" / app


def app_files(paths: Paths, app: str) -> list[Path]:
    """Newest first: app.log, app.log.1 ... app.log.KEEP."""
    d = app_dir(paths, app)
    return [d / "app.log"] + [d / f"app.log.{i}" for i in range(1, KEEP + 1)]


def build_log(paths: Paths, app: str, version: int) -> Path:
    return paths.logs / "builds" / app / f"v{version}.log"


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


# -- writing -------------------------------------------------------------------------------

def _thread_lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


@contextmanager
def _locked(paths: Paths, app: str) -> Iterator[Path]:
    d = app_dir(paths, app)
    _private_dir(d)
    with _thread_lock(str(d)):
        fd = os.open(d / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield d
        finally:
            os.close(fd)


def append(paths: Paths, app: str, records: Iterable[Record], *,
           max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
    data = "".join(r.line() for r in records).encode()
    if not data:
        return
    with _locked(paths, app) as d:
        current = d / "app.log"
        try:
            size = current.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and size + len(data) > max_bytes:
            _rotate(d, keep)
        fd = os.open(current, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def _rotate(d: Path, keep: int) -> None:
    (d / f"app.log.{keep}").unlink(missing_ok=True)
    for i in range(keep - 1, 0, -1):
        src = d / f"app.log.{i}"
        if src.exists():
            src.rename(d / f"app.log.{i + 1}")
    if keep > 0:
        (d / "app.log").rename(d / "app.log.1")
    else:
        (d / "app.log").unlink()


def repair(paths: Paths, app: str) -> None:
    """Drop a partial last line (a writer killed mid-write) so the next append starts clean."""
    with _locked(paths, app) as d:
        current = d / "app.log"
        if not current.exists() or current.stat().st_size == 0:
            return
        with open(current, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":
                return
            end = f.seek(0, os.SEEK_END)
            start = max(0, end - BLOCK)
            f.seek(start)
            chunk = f.read()
            cut = chunk.rfind(b"\n")
            f.truncate(start + cut + 1 if cut >= 0 else 0)


def remove(paths: Paths, app: str) -> None:
    import shutil

    shutil.rmtree(app_dir(paths, app), ignore_errors=True)
    shutil.rmtree(paths.logs / "builds" / app, ignore_errors=True)


def rename(paths: Paths, old: str, new: str) -> None:
    """Move an app's logs and build output along with it (apps:rename)."""
    for base in (paths.logs / "apps", paths.logs / "builds"):
        if (base / old).is_dir() and not (base / new).exists():
            (base / old).rename(base / new)


# -- reading -------------------------------------------------------------------------------

def _lines_backwards(path: Path, end: int | None = None) -> Iterator[str]:
    """A file's complete lines, last first, reading blocks from the end."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        pos = f.seek(0, os.SEEK_END) if end is None else end
        rest = b""
        while pos > 0:
            step = min(BLOCK, pos)
            pos -= step
            f.seek(pos)
            buf = f.read(step) + rest
            lines = buf.split(b"\n")
            rest = lines[0]
            for raw in reversed(lines[1:]):
                if raw:
                    yield raw.decode("utf-8", errors="replace")
        if rest:
            yield rest.decode("utf-8", errors="replace")


def tail(paths: Paths, app: str, n: int, ptype: str | None = None,
         end: int | None = None) -> list[Record]:
    """The last n records (of one process type if given), oldest first. `end` stops reading
    app.log at that offset (so a follower can start there without repeats)."""
    found: list[Record] = []
    want = n + SLACK if n else 0  # lines of several containers arrive slightly out of order
    for i, path in enumerate(app_files(paths, app)):
        for line in _lines_backwards(path, end if i == 0 else None):
            rec = parse_line(line)
            if rec is not None and rec.matches(ptype):
                found.append(rec)
                if len(found) >= want:
                    break
        if len(found) >= want:
            break
    found.reverse()  # file order, so lines with the same timestamp keep theirs
    found.sort(key=lambda r: r.ns)
    return found[-n:] if n else []


def positions(paths: Paths, app: str, wanted: set[str] | None = None
              ) -> dict[str, tuple[int, int]]:
    """container -> (latest timestamp shipped, how many lines carry exactly that timestamp),
    read back from the files (newest first). stdout and stderr lines may be a little out of
    order, so a container is done once a line is INVERSION older than its latest."""
    out: dict[str, tuple[int, int]] = {}
    done: set[str] = set()
    for path in app_files(paths, app):
        for line in _lines_backwards(path):
            rec = parse_line(line)
            if rec is None or rec.container in done:
                continue
            best = out.get(rec.container)
            if best is None or rec.ns > best[0]:
                out[rec.container] = (rec.ns, 1)
            elif rec.ns == best[0]:
                out[rec.container] = (best[0], best[1] + 1)
            elif rec.ns < best[0] - INVERSION:
                done.add(rec.container)
                if wanted is not None and wanted <= done:
                    return out
    return out


class Follower:
    """New lines of an app's log as they are appended, across rotations."""

    def __init__(self, path: Path, offset: int | None = None) -> None:
        self.path = path
        self.f: IO[bytes] | None = None
        self.ino = -1
        self.buf = b""
        if path.exists():
            self._open(offset if offset is not None else path.stat().st_size)

    def _open(self, offset: int) -> None:
        try:
            self.f = open(self.path, "rb")  # noqa: SIM115 (held across polls)
        except FileNotFoundError:
            self.f = None
            return
        self.ino = os.fstat(self.f.fileno()).st_ino
        self.f.seek(offset)

    def poll(self) -> list[str]:
        out: list[str] = []
        if self.f is not None:
            out += self._read()
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return out
        if self.f is None or st.st_ino != self.ino:  # rotated: the old file is read to its end
            if self.f is not None:
                out += self._read()
                self.f.close()
                out += self._between()
            self.buf = b""
            self._open(0)
            out += self._read()
        return out

    def _between(self) -> list[str]:
        """Files rotated in after ours and before the current one (several rotations
        between two polls), read whole, oldest first."""
        rotated = [self.path.with_name(f"{self.path.name}.{i}") for i in range(1, KEEP + 1)]
        inodes = []
        for p in rotated:
            try:
                inodes.append(p.stat().st_ino)
            except FileNotFoundError:
                inodes.append(-1)
        newer = rotated[:inodes.index(self.ino)] if self.ino in inodes else \
            [p for p, i in zip(rotated, inodes, strict=True) if i != -1]
        out: list[str] = []
        for p in reversed(newer):
            try:
                data = p.read_bytes()
            except FileNotFoundError:
                continue
            out += [ln.decode("utf-8", errors="replace") for ln in data.split(b"\n") if ln]
        return out

    def _read(self) -> list[str]:
        assert self.f is not None
        data = self.f.read(4 * 1024 * 1024)
        if not data:
            return []
        lines = (self.buf + data).split(b"\n")
        self.buf = lines.pop()
        return [ln.decode("utf-8", errors="replace") for ln in lines if ln]

    def close(self) -> None:
        if self.f is not None:
            self.f.close()


def follow(paths: Paths, app: str, n: int, ptype: str | None, emit: Callable[[Record], None],
           stop: Callable[[], bool], *, poll: float = 0.25) -> None:
    """Emit the last n records, then every new one until stop() says so."""
    current = app_files(paths, app)[0]
    size = current.stat().st_size if current.exists() else 0
    for rec in tail(paths, app, n, ptype, end=size):
        emit(rec)
    f = Follower(current, size)
    try:
        while not stop():
            for line in f.poll():
                new = parse_line(line)
                if new is not None and new.matches(ptype):
                    emit(new)
            time.sleep(poll)
    finally:
        f.close()


# -- the router's access log ---------------------------------------------------------------

def access_log(paths: Paths, app: str) -> Path:
    """The app's own access log, written by Caddy or nginx (routers/logs.py)."""
    from berth.routers import logs as router_logs

    return router_logs.log_file(paths.root, app)


def router_record(line: str, app: str) -> Record | None:
    """One JSON access-log line (either router) -> `METHOD URI STATUS DURATIONms`."""
    from berth.routers import logs as router_logs

    try:
        entry = json.loads(line)
        if not isinstance(entry, dict):
            return None
        r = router_logs.normalise(entry, app)
        ns = int(r["time"] * 1e9)
        text = f"{r['method'] or '?'} {r['uri'] or '?'} {r['status']} {r['duration'] * 1000:.1f}ms"
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return Record(ns=ns, process="router", container="-", text=clean(text))


def router_tail(paths: Paths, app: str, n: int, end: int | None = None) -> list[Record]:
    found = []
    for line in _lines_backwards(access_log(paths, app), end):
        rec = router_record(line, app)
        if rec is not None:
            found.append(rec)
            if len(found) >= n:
                break
    found.reverse()
    return found


def router_follow(paths: Paths, app: str, n: int, emit: Callable[[Record], None],
                  stop: Callable[[], bool], *, poll: float = 0.25) -> None:
    path = access_log(paths, app)
    size = path.stat().st_size if path.exists() else 0
    for rec in router_tail(paths, app, n, end=size):
        emit(rec)
    f = Follower(path, size)
    try:
        while not stop():
            for line in f.poll():
                new = router_record(line, app)
                if new is not None:
                    emit(new)
            time.sleep(poll)
    finally:
        f.close()


# -- build output --------------------------------------------------------------------------

class BuildCapture:
    """Tees a deploy's output into builds/APP/vN.log. Until the release exists the lines go to
    a pending file; `keep(version)` names it, and an exit without a version removes it."""

    def __init__(self, paths: Paths, app: str) -> None:
        self.dir = paths.logs / "builds" / app
        _private_dir(self.dir)
        for old in self.dir.glob(".pending-*.log"):  # left by a deploy that was killed
            if old.stat().st_mtime < time.time() - 86400:
                old.unlink(missing_ok=True)
        self.pending = self.dir / f".pending-{os.getpid()}-{threading.get_ident()}.log"
        fd = os.open(self.pending, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.f = os.fdopen(fd, "w", encoding="utf-8", errors="replace")
        self.version: int | None = None

    def write(self, line: str) -> None:
        if not self.f.closed:
            self.f.write(line + "\n")
            self.f.flush()

    def keep(self, version: int) -> None:
        self.version = version

    def close(self) -> None:
        self.f.close()
        if self.version is None:
            self.pending.unlink(missing_ok=True)
            return
        self.pending.replace(self.dir / f"v{self.version}.log")
        kept = sorted(self.dir.glob("v*.log"),
                      key=lambda p: int(p.stem[1:]) if p.stem[1:].isdigit() else 0)
        for old in kept[:-KEEP_BUILDS]:
            old.unlink(missing_ok=True)


@contextmanager
def capture_build(ctx: Ctx, app: str) -> Iterator[BuildCapture]:
    """Within the block, everything ctx.out prints also goes to the build log."""
    cap = BuildCapture(ctx.paths, app)
    original = ctx.out

    def tee(line: str) -> None:
        cap.write(line)
        original(line)

    ctx.out = tee
    try:
        yield cap
    finally:
        ctx.out = original
        cap.close()
