"""Deploy locks: a holder that dies frees the lock at once, and a lock handed down to a child
process is adopted there instead of waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from berth import locks
from berth.errors import LockTimeout

REPO = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from pathlib import Path
from berth import locks
with locks.hold(Path(sys.argv[1]), what="x", timeout=float(sys.argv[2]), holder="child"):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
print("done", flush=True)
"""


def child(path: Path, timeout: float, sleep: float, **kw) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **kw.pop("env", {})}
    return subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(timeout), str(sleep)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            **kw)


def test_lock_of_a_killed_holder_is_free_at_once(tmp_path: Path):
    path = tmp_path / "app-x.lock"
    proc = child(path, 1, 600)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    assert locks.is_held(path)
    assert f"child pid={proc.pid}" in path.read_text()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not locks.is_held(path)
    started = time.monotonic()
    with locks.hold(path, what="x", timeout=0.1, holder="next"):
        assert time.monotonic() - started < 0.1
        assert path.read_text().startswith("next pid=")


def test_waiting_times_out_with_the_holder_named(tmp_path: Path):
    path = tmp_path / "app-x.lock"
    fd = locks.acquire(path, what="x", timeout=1, holder="alice")
    try:
        with pytest.raises(LockTimeout, match=r"timed out after 0s waiting for x \(held by "
                                              r"alice pid="):
            with locks.hold(path, what="x", timeout=0.3):
                pass
    finally:
        os.close(fd)


def test_a_handed_down_lock_is_adopted_by_the_child(tmp_path: Path):
    path = tmp_path / "app-x.lock"
    fd = locks.acquire(path, what="x", timeout=1, holder="parent")
    try:
        env = locks.hand_down(fd, path)
        adopted = child(path, 0.5, 0, env=env, pass_fds=(fd,))
        out, err = adopted.communicate(timeout=30)
        assert (out, adopted.returncode) == ("held\ndone\n", 0), err
        # still ours after the child is done; a child without the hand-down has to wait
        assert locks.is_held(path)
        other = child(path, 0.3, 0)
        _, err = other.communicate(timeout=30)
        assert other.returncode != 0 and "timed out" in err
    finally:
        os.close(fd)
    assert not locks.is_held(path)


def test_a_handed_down_fd_of_another_file_is_not_adopted(tmp_path: Path):
    mine, theirs = tmp_path / "app-a.lock", tmp_path / "app-b.lock"
    fd = locks.acquire(theirs, what="b", timeout=1)
    blocker = locks.acquire(mine, what="a", timeout=1)
    try:
        proc = child(mine, 0.3, 0, env=locks.hand_down(fd, theirs), pass_fds=(fd,))
        _, err = proc.communicate(timeout=30)
        assert proc.returncode != 0 and "timed out" in err
    finally:
        os.close(fd)
        os.close(blocker)
