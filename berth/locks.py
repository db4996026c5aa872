"""File locks (flock): the kernel drops them when the holder dies, so a crashed deploy never
leaves a stale lock behind. The holder writes who it is, for the waiting message.

A lock can be handed down to child processes (`hand_down`): the SSH front door takes an app's
deploy lock before it execs git-receive-pack, so a push is serialised from the moment git
advertises the refs to the ref update, and the pre-receive hook's `hold` of the same lock
adopts the inherited one instead of waiting for itself. The lock is free again once every
process sharing it has exited."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from berth.errors import LockTimeout

INHERITED = "BERTH_INHERITED_LOCK"  # "FD:PATH" of a lock a parent process took for us


@contextmanager
def hold(path: Path, *, what: str, timeout: float, out: Callable[[str], None] | None = None,
         holder: str = "") -> Iterator[None]:
    fd = _adopt(path)
    if fd is not None:  # a parent holds it for us (hand_down): ours until we are done
        _note(fd, holder)
        try:
            yield
        finally:
            os.close(fd)
        return
    fd = acquire(path, what=what, timeout=timeout, out=out, holder=holder)
    try:
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def acquire(path: Path, *, what: str, timeout: float, out: Callable[[str], None] | None = None,
            holder: str = "") -> int:
    """Take the lock (waiting up to `timeout` seconds); returns the open fd that holds it."""
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
    except BaseException:
        os.close(fd)
        raise
    _note(fd, holder)
    return fd


def hand_down(fd: int, path: Path) -> dict[str, str]:
    """Let child processes share the lock held by `fd` (from `acquire`): the fd survives exec
    and the returned environment tells a `hold` of `path` in a descendant to adopt it."""
    os.set_inheritable(fd, True)
    return {INHERITED: f"{fd}:{path}"}


def _adopt(path: Path) -> int | None:
    """The inherited fd, if it is this very lock file and already locked by our parent (flock
    on a shared open file description succeeds at once). Used once: the variable is dropped."""
    fd_text = os.environ.get(INHERITED, "").partition(":")[0]
    if not fd_text.isdigit():
        return None
    fd = int(fd_text)
    try:
        mine, theirs = os.fstat(fd), os.stat(path)
    except OSError:
        return None
    if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
        return None  # some other lock
    os.environ.pop(INHERITED, None)
    if not _try(fd):
        return None
    os.set_inheritable(fd, False)
    return fd


def _note(fd: int, holder: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{holder or 'pid'} pid={os.getpid()}".encode(), 0)


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
