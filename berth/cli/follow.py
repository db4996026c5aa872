"""Following output (`logs -t`, `events -t`) until the reader goes away: Ctrl-C locally, or
the SSH client disconnecting (then berth's stdout is a pipe or socket whose other end is
closed, which poll() reports as POLLERR/POLLHUP; with a pty, the kernel sends SIGHUP)."""

from __future__ import annotations

import select
import signal
import sys

import click


def output_closed() -> bool:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    p = select.poll()
    p.register(fd, 0)  # errors and hang-ups are always reported
    return any(ev & (select.POLLERR | select.POLLHUP | select.POLLNVAL) for _, ev in p.poll(0))


class Stop:
    """stop() for a follow loop: true once Ctrl-C, SIGHUP/SIGTERM or a gone reader."""

    def __init__(self) -> None:
        self.stopped = False
        for sig in (signal.SIGHUP, signal.SIGTERM):
            signal.signal(sig, self._set)

    def _set(self, *_: object) -> None:
        self.stopped = True

    def __call__(self) -> bool:
        if not self.stopped and output_closed():
            self.stopped = True
        return self.stopped


def echo(line: str) -> None:
    """One line, flushed at once (a follower's reader wants it now)."""
    click.echo(line)
    sys.stdout.flush()
