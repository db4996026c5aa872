"""Wakes the reconciler when one of this root's containers dies, is removed or (re)starts, so
a killed container is replaced, and routes follow a restarted one, about a second later
instead of at the next timed pass.

A thread of `berth server` follows the engine's event stream (container die, destroy and start with
this instance's label). When the engine goes away (restart), it retries every RETRY
seconds; the timed passes keep reconciling meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from berth.instance import prefix
from berth.schedulers import specs

RETRY = 1.0
# die/destroy: something to repair; start: a container the engine restarted may need routes
EVENTS = ["die", "destroy", "start"]


class Watcher:
    def __init__(self, wake: threading.Event, out: Callable[[str], None]) -> None:
        self.wake = wake
        self.out = out
        self.stop = threading.Event()
        self._stream: Any = None
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, name="berth-watch", daemon=True)

    def run(self) -> None:
        told = False
        while not self.stop.is_set():
            try:
                self._follow()
            except Exception as e:  # engine down or restarting: retry, never die
                if not self.stop.is_set() and not told:
                    self.out(f"berth server: engine events unavailable ({type(e).__name__}); "
                             f"retrying every {RETRY:g}s")
                    told = True
            else:
                told = False
            self.stop.wait(RETRY)

    def _follow(self) -> None:
        from berth import engine

        client = engine.client()
        stream = client.events(decode=True, filters={
            "type": "container", "event": EVENTS,
            "label": [f"{specs.LABEL_INSTANCE}={prefix()}"]})
        with self._lock:
            if self.stop.is_set():
                stream.close()
                return
            self._stream = stream
        try:
            for event in stream:
                labels = (event.get("Actor") or {}).get("Attributes") or {}
                if labels.get(specs.LABEL_ROLE) == "oneoff":
                    continue  # one-off runs end on their own; nothing to repair
                self.wake.set()
        finally:
            with self._lock:
                self._stream = None
            stream.close()

    def shutdown(self) -> None:
        with self._lock:
            self.stop.set()
            if self._stream is not None:
                self._stream.close()  # ends the blocking read
        self.thread.join(timeout=5)


def start_thread(wake: threading.Event, out: Callable[[str], None]) -> Watcher:
    w = Watcher(wake, out)
    w.thread.start()
    return w
