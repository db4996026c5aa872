"""A detached helper process berth starts and later adopts through a pid file: it runs in
its own session, so it outlives the `berth server` or CLI process that started it.

    d = Daemon(pid_file, marker)     marker: an argv word only our process has
    d.pid()                          the live process of the pid file, or None
    d.start(argv, log=..., cwd=...)  start it (the caller checks it is not running)
    d.wait_gone(pid, timeout)        reap it once it exits; False if still there
    d.stop(timeout)                  SIGTERM, then SIGKILL; True if one ran
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from berth.files import write_atomic

# children started by this process, so stopping them also reaps them (no zombies)
_children: dict[int, subprocess.Popen[bytes]] = {}


class Daemon:
    def __init__(self, pid_file: Path, marker: str) -> None:
        self.pid_file = pid_file
        self.marker = os.fsencode(marker)

    def is_ours(self, pid: int) -> bool:
        """Alive (not a zombie) and started with our marker in its argv."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            return False
        return state != b"Z" and self.marker in argv

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        child = _children.get(pid)
        if child is not None and child.poll() is not None:
            _children.pop(pid, None)
            return None
        return pid if self.is_ours(pid) else None

    def start(self, argv: list[str], *, log: Path, cwd: Path,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,  # argv only
                                    stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                    start_new_session=True)
        _children[proc.pid] = proc
        write_atomic(self.pid_file, f"{proc.pid}\n")
        return proc

    @staticmethod
    def forget(proc: subprocess.Popen[bytes]) -> None:
        """Reap a child that failed to start (the caller killed or saw it exit)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        _children.pop(proc.pid, None)

    def wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            child = _children.get(pid)
            if child is not None:
                child.poll()  # reaps it once it has exited
            else:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            if not self.is_ours(pid):
                _children.pop(pid, None)
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if self.wait_gone(pid, timeout):
                break
        self.pid_file.unlink(missing_ok=True)
        return True
