"""The cron scheduler's decisions (no Docker): when entries are due, that a server start never
fires missed runs, that overlapping runs are skipped, and the log shipper's dedupe."""

import threading
from datetime import UTC, datetime

import pytest

from berth.context import Ctx
from berth.paths import Paths
from berth.server import scheduler
from berth.server.shipper import Position


@pytest.fixture
def ctx(tmp_path):
    from berth import apps
    from berth.store import apps as store_apps
    from berth.store import releases
    from berth.store.db import transaction

    c = Ctx(paths=Paths(tmp_path / "root"), actor="root", out=lambda line: None)
    a = apps.create(c, "app1")
    cron_json = {"cron": [{"schedule": "*/5 * * * *", "command": "echo five"},
                          {"schedule": "0 3 * * *", "command": "echo nightly"}]}
    with transaction(c.conn):
        rel = releases.create(c.conn, a, image="sha256:x", git_sha=None, config={},
                              processes={}, formation={}, app_json=cron_json, port=None,
                              description="d", status="succeeded")
        store_apps.set_current(c.conn, a, rel.version)
    return c


def at(h, m, s=0):
    return datetime(2026, 1, 2, h, m, s, tzinfo=UTC)


def test_first_sight_schedules_from_now_and_fires_on_time(ctx, tmp_path):
    s = scheduler.Scheduler(root=tmp_path / "root")
    assert s.due(ctx, at(10, 4, 59)) == []  # a start never fires what it missed
    assert s.due(ctx, at(10, 4, 59)) == []
    fired = s.due(ctx, at(10, 5, 2))
    assert [e.command for _, e in fired] == ["echo five"]
    assert s.due(ctx, at(10, 5, 7)) == []  # once per matching minute
    assert [e.command for _, e in s.due(ctx, at(10, 10, 0))] == ["echo five"]
    # a late tick (the server was busy) still fires once, then goes on from now
    assert len(s.due(ctx, at(10, 27, 30))) == 1
    assert s.due(ctx, at(10, 29, 0)) == []


def test_entries_that_disappear_are_forgotten(ctx, tmp_path):
    from berth.store import apps as store_apps

    s = scheduler.Scheduler(root=tmp_path / "root")
    s.due(ctx, at(10, 0))
    assert len(s.next_runs) == 2
    store_apps.set_current(ctx.conn, store_apps.get(ctx.conn, "app1"), None)
    s.due(ctx, at(10, 1))
    assert s.next_runs == {}


def test_overlapping_run_is_skipped_and_recorded(ctx, tmp_path, monkeypatch):
    from berth import cron
    from berth.store import events

    s = scheduler.Scheduler(root=tmp_path / "root")
    s.due(ctx, at(10, 4))
    entry = cron.entries({"cron": [{"schedule": "*/5 * * * *", "command": "echo five"}]})[0]
    still = threading.Event()
    busy = threading.Thread(target=still.wait, daemon=True)
    busy.start()
    s.runs[("app1", entry.id)] = busy
    started = []
    monkeypatch.setattr(s, "fire", lambda app, eid: started.append(eid))
    try:
        s.pass_once(ctx, at(10, 5))
    finally:
        still.set()
        busy.join()
    assert started == []
    ev = events.recent(ctx.conn, "app1")[0]
    assert (ev.action, ev.actor, ev.details["id"]) == ("cron.skipped", "cron", entry.id)
    s.pass_once(ctx, at(10, 10))
    for t in s.runs.values():
        t.join(5)
    assert started == [entry.id]


def test_shipper_position_dedupes_by_time_and_count():
    p = Position()
    assert not p.seen(5, 1)
    p.advance(5)
    p.advance(5)
    assert (p.ns, p.count) == (5, 2)
    assert p.seen(4, 1) and p.seen(5, 1) and p.seen(5, 2) and not p.seen(5, 3)
    assert not p.seen(6, 1)
    p.advance(3)  # an older line shipped late does not move it back
    assert (p.ns, p.count) == (5, 2)
    p.advance(7)
    assert (p.ns, p.count) == (7, 1)


def test_shipper_replays_after_a_restart_without_repeats(tmp_path):
    from berth import logs
    from berth.server.shipper import Shipper

    paths = Paths(tmp_path / "root")

    def raw(ns, text):
        return f"{logs.format_ts(ns)} {text}".encode()

    first = Shipper(paths=paths)
    pos = first.position("a", "c1")
    lines = [raw(1, "one"), raw(2, "two-a"), raw(2, "two-b"), raw(4, "four"), raw(3, "three")]
    first.ship("c1", "a", "web.1", pos, Position(), lines, [0])
    # a new server reads where it stopped back from the file, then the engine replays
    second = Shipper(paths=paths)
    start = second.position("a", "c1")
    assert (start.ns, start.count) == (4, 1)
    replay = [raw(2, "two-a"), raw(2, "two-b"), raw(4, "four"), raw(5, "five"), raw(6, "six")]
    second.ship("c1", "a", "web.1", start, Position(start.ns, start.count), replay, [0])
    texts = [r.text for r in logs.tail(paths, "a", 100)]
    assert texts == ["one", "two-a", "two-b", "three", "four", "five", "six"]
