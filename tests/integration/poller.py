"""A client that polls an app through the router every 20 ms while something happens, and
keeps every failed request. Bounded in time (and so in count)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.integration.conftest import Env


class Poller:
    def __init__(self, env: Env, app: str, ok: Callable[[int, str], bool], *,
                 path: str = "/", interval: float = 0.02, max_seconds: float = 300) -> None:
        self.env, self.app, self.ok, self.path = env, app, ok, path
        self.interval, self.max_seconds = interval, max_seconds
        self.failures: list[str] = []
        self.count = 0
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                status, body = self.env.get(self.app, self.path, timeout=5)
                if not self.ok(status, body):
                    self.failures.append(f"{status} {body[:80]}")
                self.seen.add(body)
            except OSError as e:
                self.failures.append(repr(e))
            self.count += 1
            time.sleep(self.interval)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
