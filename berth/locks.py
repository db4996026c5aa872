"""File locks (flock): the kernel drops them when the holder dies, so a crashed deploy never
leaves a stale lock behind. The holder writes who it is, for the waiting message."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from berth.errors import LockTimeout


@contextmanager
def hold(path: Path, *, what: str, timeout: float, out: Callable[[str], None] | None = None,
         holder: str = "") -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try(fd):
            who = _read(fd)
            if out:
                out(f"-----> Waiting for {what}" + (f" (held by {who})" if who else ""))
            deadline = time.monotonic() + timeout
            while not _try(fd):
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"timed out after {timeout:.0f}s waiting for {what}"
                        + (f" (held by {who})" if who else "") + "; try again later")
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder or 'pid'} pid={os.getpid()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_held(path: Path) -> bool:
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        if _try(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        return True
    finally:
        os.close(fd)


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        return ""
