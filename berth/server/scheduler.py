"""The cron scheduler: a thread of `berth server` that runs app.json `cron` entries of each
app's current release as one-off containers (run.cron_run), and sweeps one-off containers
that have exited.

Every `tick` seconds (`berth server --cron-tick`, default 5) it reads the apps' entries and
fires those whose next time has come; the first time an entry is seen its next time is
computed from now, so a server (re)start never fires runs it missed. A run whose previous run
of the same entry still goes is skipped (recorded as cron.skipped). Each run is its own
thread; commands only ever run inside the app's container, by its own /bin/sh.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from berth import cron
from berth.context import Ctx
from berth.errors import BerthError
from berth.paths import Paths

TICK = 5.0
SWEEP_AFTER = 30.0  # seconds an exited one-off is kept (for its exit code and logs)
ACTOR = "cron"


@dataclass
class Scheduler:
    root: Path
    out: Callable[[str], None] = print
    tick: float = TICK
    next_runs: dict[tuple[str, str], datetime] = field(default_factory=dict)
    runs: dict[tuple[str, str], threading.Thread] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        ctx = Ctx(paths=Paths(self.root), actor=ACTOR, out=self.out)
        while not self.stop.is_set():
            try:
                self.pass_once(ctx, cron.now())
            except Exception:
                self.out("cron: " + traceback.format_exc(limit=3))
            try:
                sweep(time.time())
            except Exception as e:
                self.out(f"cron: sweeping one-offs failed: {e}")
            self.stop.wait(self.tick)

    def due(self, ctx: Ctx, now: datetime) -> list[tuple[str, cron.Entry]]:
        """Entries whose time has come (and advance their next time); pure but for the store."""
        from berth import ps
        from berth.store import apps as store_apps
        from berth.store import releases

        fire: list[tuple[str, cron.Entry]] = []
        seen = set()
        for app in store_apps.all_apps(ctx.conn):
            rel = releases.current(ctx.conn, app)
            if rel is None or rel.image is None or ps.is_stopped(ctx, app):
                continue
            try:
                entries = cron.entries(rel.app_json)
            except BerthError:
                continue
            for entry in entries:
                key = (app.name, entry.id)
                seen.add(key)
                nxt = self.next_runs.get(key)
                if nxt is None:
                    self.next_runs[key] = entry.schedule.next_after(now)
                elif now >= nxt:
                    self.next_runs[key] = entry.schedule.next_after(now)
                    fire.append((app.name, entry))
        for key in set(self.next_runs) - seen:
            del self.next_runs[key]
        return fire

    def pass_once(self, ctx: Ctx, now: datetime) -> None:
        for app, entry in self.due(ctx, now):
            key = (app, entry.id)
            busy = self.runs.get(key)
            if busy is not None and busy.is_alive():
                from berth.store import events
                from berth.store.db import transaction

                with transaction(ctx.conn):
                    events.record(ctx.conn, actor=ACTOR, app=app, action="cron.skipped",
                                  details={"id": entry.id, "trigger": "schedule",
                                           "reason": "the previous run is still going"})
                continue
            t = threading.Thread(target=self.fire, args=(app, entry.id),
                                 name=f"cron-{app}-{entry.id}", daemon=True)
            self.runs[key] = t
            t.start()

    def fire(self, app: str, entry_id: str) -> None:
        from berth import run

        ctx = Ctx(paths=Paths(self.root), actor=ACTOR, out=self.out)
        try:
            code = run.cron_run(ctx, app, entry_id, trigger="schedule")
            self.out(f"cron: {app} {entry_id} " +
                     ("skipped (still running)" if code is None else f"exited {code}"))
        except Exception as e:
            self.out(f"cron: {app} {entry_id} failed: {e}")
        finally:
            if ctx._conn is not None:
                ctx._conn.close()


def sweep(now: float) -> list[str]:
    """Remove one-off containers (run, run:detached, cron, release ...) that exited more than
    SWEEP_AFTER seconds ago; their runners normally remove them, this catches the rest."""
    from berth import engine, logs
    from berth.instance import prefix
    from berth.schedulers import specs

    client = engine.client()
    with engine.errors("listing one-off containers"):
        rows = client.api.containers(all=True, filters={
            "label": [f"{specs.LABEL_ROLE}=oneoff", f"{specs.LABEL_INSTANCE}={prefix()}"],
            "status": ["exited", "dead"]})
    removed = []
    for row in rows:
        try:
            state = client.api.inspect_container(row["Id"])["State"]
            finished = logs.parse_ts(_trim_ts(state.get("FinishedAt", ""))) / 1e9
        except Exception:
            continue
        if now - finished >= SWEEP_AFTER:
            try:
                client.api.remove_container(row["Id"], force=True)
                removed.append(row["Id"][:12])
            except Exception:
                continue
    return removed


def _trim_ts(value: str) -> str:
    """The engine's FinishedAt may carry a zone offset of +00:00 instead of Z."""
    return value.replace("+00:00", "Z")


def start_thread(root: Path, out: Callable[[str], None], tick: float = TICK) -> Scheduler:
    sched = Scheduler(root=root, out=out, tick=tick)
    threading.Thread(target=sched.run, name="cron", daemon=True).start()
    return sched
