"""The log shipper: a thread of `berth server` that copies what every app container prints
into the app's log on disk (berth/logs.py), so logs outlive containers, redeploys and
restarts.

Every SCAN seconds it lists the instance's containers (one engine call) and starts one
follower thread per container that has none: process containers and detached runs (cron
runs write their own lines). A follower reads `logs(stream, follow, timestamps, since=P)`
where P is the last timestamp shipped for that container; lines at or before P that were
already shipped are skipped by (timestamp, count at that timestamp), so neither a restart
of the container nor of the server duplicates or loses a line. Positions come from the log
files themselves at start-up (logs.positions), with a small state file as a fallback for
containers whose lines have rotated out.
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from berth import logs
from berth.instance import prefix
from berth.paths import Paths
from berth.schedulers import specs

SCAN = 1.0
STATE_EVERY = 5.0
STATE_FILE = "positions.json"
POOL = 512  # engine connections: each followed container holds one


@dataclass
class Position:
    ns: int = 0
    count: int = 0  # lines shipped with exactly this timestamp

    def seen(self, ns: int, nth_at_ns: int) -> bool:
        """Was the nth line (1-based) carrying timestamp ns already shipped?"""
        return ns < self.ns or (ns == self.ns and nth_at_ns <= self.count)

    def advance(self, ns: int) -> None:
        if ns == self.ns:
            self.count += 1
        elif ns > self.ns:
            self.ns, self.count = ns, 1


@dataclass
class Follow:
    app: str
    label: str
    thread: threading.Thread
    stream: Any = None


@dataclass
class Shipper:
    paths: Paths
    out: Callable[[str], None] = print
    scan: float = SCAN
    positions: dict[str, Position] = field(default_factory=dict)  # container id (12) -> pos
    follows: dict[str, Follow] = field(default_factory=dict)
    drained: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)  # apps whose positions were read back
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    state_lock: threading.Lock = field(default_factory=threading.Lock)
    _api: Any = None

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> None:
        last_state = 0.0
        while not self.stop.is_set():
            try:
                self.pass_once()
                if time.monotonic() - last_state >= STATE_EVERY:
                    self.save_state()
                    last_state = time.monotonic()
            except Exception:  # the engine may be restarting; try again next pass
                self.out("log shipper: " + traceback.format_exc(limit=3))
            self.stop.wait(self.scan)

    def pass_once(self) -> None:
        rows = self.list_containers()
        present = set()
        for row in rows:
            lab = row.get("Labels") or {}
            app = lab.get(specs.LABEL_APP)
            if not app or not self.wanted(lab):
                continue
            cid = row["Id"][:12]
            present.add(cid)
            running = row.get("State") == "running"
            if running:
                self.drained.discard(cid)
            f = self.follows.get(cid)
            if f is not None and f.thread.is_alive():
                continue
            if not running and cid in self.drained:
                continue
            self.start(cid, app, f"{lab.get(specs.LABEL_TYPE)}.{lab.get(specs.LABEL_INDEX)}")
        with self.lock:
            for cid in list(self.positions):
                if cid not in present and cid not in self.follows:
                    del self.positions[cid]
        for cid in list(self.follows):
            if cid not in present and not self.follows[cid].thread.is_alive():
                del self.follows[cid]
        self.drained &= present

    @staticmethod
    def wanted(lab: dict[str, str]) -> bool:
        role = lab.get(specs.LABEL_ROLE)
        return role == "process" or (role == "oneoff" and lab.get("berth.oneoff") == "detached")

    def list_containers(self) -> list[dict[str, Any]]:
        from berth import engine

        with engine.errors("listing containers"):
            rows = self.api().containers(all=True, filters={"label": [
                specs.LABEL_APP, f"{specs.LABEL_INSTANCE}={prefix()}"]})
        return list(rows)

    def api(self) -> Any:
        """A client of its own: one connection per followed container, so a big pool."""
        if self._api is None:
            import docker

            self._api = docker.from_env(timeout=120, max_pool_size=POOL).api
        return self._api

    # -- one container -----------------------------------------------------------------

    def position(self, app: str, cid: str) -> Position:
        with self.lock:
            if app not in self.loaded:
                self.load(app)
            return self.positions.setdefault(cid, Position())

    def load(self, app: str) -> None:
        """Read back where shipping stopped for app's containers (called under self.lock)."""
        self.loaded.add(app)
        logs.repair(self.paths, app)
        saved = self.read_state(app)
        found = logs.positions(self.paths, app)
        for cid, (ns, count) in {**saved, **found}.items():
            if cid not in self.positions or self.positions[cid].ns < ns:
                self.positions[cid] = Position(ns, count)

    def start(self, cid: str, app: str, label: str) -> None:
        pos = self.position(app, cid)
        t = threading.Thread(target=self.follow, args=(cid, app, label, pos),
                             name=f"logs-{cid}", daemon=True)
        self.follows[cid] = Follow(app=app, label=label, thread=t)
        t.start()

    def follow(self, cid: str, app: str, label: str, pos: Position) -> None:
        with self.lock:
            start = Position(pos.ns, pos.count)  # what was shipped before this stream
        try:
            api = self.api()
            kwargs: dict[str, Any] = {"stream": True, "follow": True, "timestamps": True}
            if start.ns:
                kwargs["since"] = max(0.001, start.ns / 1e9 - 0.001)
            stream = api.logs(cid, **kwargs)
            self.follows[cid].stream = stream
            at_start = [0]  # lines seen carrying exactly start.ns
            buf = b""
            for chunk in stream:
                buf += chunk
                *lines, buf = buf.split(b"\n")
                self.ship(cid, app, label, pos, start, lines, at_start)
                if self.stop.is_set():
                    break
            if buf and not self.stop.is_set():
                self.ship(cid, app, label, pos, start, [buf], at_start)
        except Exception as e:  # the container went away mid-stream: nothing more to read
            if "No such container" not in str(e) and not self.stop.is_set():
                self.out(f"log shipper: {label} of {app}: {e}")
        finally:
            if not self.is_running(cid):  # else it restarted: the next pass follows again
                self.drained.add(cid)

    def ship(self, cid: str, app: str, label: str, pos: Position, start: Position,
             lines: list[bytes], at_start: list[int]) -> None:
        """Append the lines not shipped before this stream began. Only the starting position
        filters: within one stream stdout and stderr may be a little out of time order."""
        records = []
        for raw in lines:
            parsed = logs.split_engine_line(raw)
            if parsed is None:
                continue
            ns, text = parsed
            if ns == start.ns:
                at_start[0] += 1
            if start.seen(ns, at_start[0]):
                continue
            records.append(logs.Record(ns=ns, process=label, container=cid, text=text))
        if not records:
            return
        logs.append(self.paths, app, records)
        with self.lock:
            for r in records:
                pos.advance(r.ns)

    def is_running(self, cid: str) -> bool:
        try:
            return bool(self.api().inspect_container(cid)["State"]["Running"])
        except Exception:
            return False

    # -- state file and shutdown -------------------------------------------------------

    def state_path(self, app: str) -> Path:
        return logs.app_dir(self.paths, app) / STATE_FILE

    def read_state(self, app: str) -> dict[str, tuple[int, int]]:
        try:
            data = json.loads(self.state_path(app).read_text())
            return {str(k): (int(v[0]), int(v[1])) for k, v in data.items()}
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            return {}

    def save_state(self) -> None:
        with self.state_lock:
            self._save_state()

    def _save_state(self) -> None:
        by_app: dict[str, dict[str, list[int]]] = {}
        with self.lock:
            for cid, f in self.follows.items():
                pos = self.positions.get(cid)
                if pos is not None and pos.ns:
                    by_app.setdefault(f.app, {})[cid] = [pos.ns, pos.count]
        for app, data in by_app.items():
            path = self.state_path(app)
            if not path.parent.is_dir():
                continue
            tmp = path.with_name(path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            tmp.replace(path)

    def shutdown(self) -> None:
        self.stop.set()
        for f in list(self.follows.values()):
            if f.stream is not None:
                try:
                    f.stream.close()
                except Exception:
                    pass
        deadline = time.monotonic() + 5
        for f in list(self.follows.values()):
            f.thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.save_state()


def start_thread(root: Path, out: Callable[[str], None]) -> Shipper:
    shipper = Shipper(paths=Paths(root), out=out)
    threading.Thread(target=shipper.run, name="log-shipper", daemon=True).start()
    return shipper
