import json
import threading

import pytest

from berth import logs
from berth.paths import Paths


@pytest.fixture
def paths(tmp_path):
    return Paths(tmp_path / "root")


def rec(ns, proc="web.1", cid="aaaaaaaaaaaa", text="hi"):
    return logs.Record(ns=ns, process=proc, container=cid, text=text)


def test_timestamps_parse_and_format():
    ns = logs.parse_ts("2026-01-02T03:04:05.123456789Z")
    assert ns % 10**9 == 123456789
    assert logs.format_ts(ns) == "2026-01-02T03:04:05.123456789Z"
    assert logs.format_ts(ns, precise=False) == "2026-01-02T03:04:05Z"
    # the engine trims trailing zeros: .5Z is half a second
    assert logs.parse_ts("2026-01-02T03:04:05.5Z") % 10**9 == 500_000_000
    assert logs.parse_ts("2026-01-02T03:04:05Z") % 10**9 == 0
    with pytest.raises(ValueError):
        logs.parse_ts("yesterday")


def test_lines_round_trip_and_display():
    r = rec(logs.parse_ts("2026-01-02T03:04:05.1Z"), text="GET / 200  two  spaces")
    assert logs.parse_line(r.line()) == r
    assert r.show() == "2026-01-02T03:04:05Z app[web.1]: GET / 200  two  spaces"
    assert r.show(quiet=True) == "GET / 200  two  spaces"
    assert logs.parse_line("garbage") is None
    assert logs.split_engine_line(b"2026-01-02T03:04:05.000000001Z a\rb\r\n") == (
        logs.parse_ts("2026-01-02T03:04:05.000000001Z"), "ab")
    assert rec(1, proc="web.2").matches("web") and rec(1, proc="web.2").matches("web.2")
    assert not rec(1, proc="worker.1").matches("web")


def test_tail_merges_in_time_order_and_filters(paths):
    logs.append(paths, "a", [rec(3, "web.1", text="c"), rec(1, "worker.1", text="a")])
    logs.append(paths, "a", [rec(2, "web.2", text="b"), rec(4, "web.1", text="d")])
    assert [r.text for r in logs.tail(paths, "a", 10)] == ["a", "b", "c", "d"]
    assert [r.text for r in logs.tail(paths, "a", 2)] == ["c", "d"]
    assert [r.text for r in logs.tail(paths, "a", 10, "web")] == ["b", "c", "d"]
    assert logs.tail(paths, "missing", 10) == []


def test_rotation_keeps_a_bounded_number_of_files(paths):
    for i in range(200):
        logs.append(paths, "a", [rec(i, text="x" * 100)], max_bytes=2000, keep=2)
    d = logs.app_dir(paths, "a")
    assert sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) == \
        ["app.log", "app.log.1", "app.log.2"]
    assert all(p.stat().st_size <= 2000 for p in d.glob("app.log*"))
    got = logs.tail(paths, "a", 1000)
    assert got[-1].ns == 199 and [r.ns for r in got] == sorted(r.ns for r in got)


def test_positions_are_read_back_per_container(paths):
    logs.append(paths, "a", [rec(5, cid="c1"), rec(7, cid="c2"), rec(9, cid="c1"),
                             rec(9, cid="c1"), rec(8, cid="c2")])
    assert logs.positions(paths, "a") == {"c1": (9, 2), "c2": (8, 1)}
    assert logs.positions(paths, "a", {"c2"})["c2"] == (8, 1)


def test_repair_drops_a_partial_last_line(paths):
    logs.append(paths, "a", [rec(1, text="whole")])
    with open(logs.app_files(paths, "a")[0], "a") as f:
        f.write("2026-01-02T03:04:05.000000000Z web.1 cid half")
    logs.repair(paths, "a")
    logs.append(paths, "a", [rec(2, text="next")])
    assert [r.text for r in logs.tail(paths, "a", 10)] == ["whole", "next"]


def test_follow_sees_new_lines_across_rotation(paths):
    logs.append(paths, "a", [rec(1, text="old")])
    seen: list[str] = []
    stop = threading.Event()
    t = threading.Thread(target=logs.follow, args=(paths, "a", 5, None,
                                                   lambda r: seen.append(r.text), stop.is_set),
                         kwargs={"poll": 0.01})
    t.start()
    try:
        import time

        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(30):
            logs.append(paths, "a", [rec(10 + i, text=f"n{i}" + "y" * 50)], max_bytes=300)
            time.sleep(0.005 if i % 2 else 0.03)  # poll sees 0, 1 or several rotations
        while len(seen) < 31 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        t.join(5)
    assert seen[0] == "old"
    assert [s[:3].rstrip("y") for s in seen[1:]] == [f"n{i}" for i in range(30)]


def test_router_lines_of_one_app_from_either_router(paths):
    log = logs.access_log(paths, "a")
    log.parent.mkdir(parents=True)
    entries = [
        {"ts": 1767323045.5, "logger": "http.log.access.a", "duration": 0.0123, "status": 200,
         "request": {"method": "GET", "uri": "/x?y=1", "host": "a.localhost:8080"}},
        {"router": "nginx", "ts": 1767323047.0, "app": "a", "method": "POST", "uri": "/z",
         "status": 502, "duration": 0.002},
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in entries) + "not json\n[1]\n")
    got = logs.router_tail(paths, "a", 10)
    assert [r.show() for r in got] == [
        "2026-01-02T03:04:05Z app[router]: GET /x?y=1 200 12.3ms",
        "2026-01-02T03:04:07Z app[router]: POST /z 502 2.0ms"]
    assert [r.text for r in logs.router_tail(paths, "a", 1)] == ["POST /z 502 2.0ms"]
    assert logs.router_tail(paths, "other", 10) == []


def test_build_capture_keeps_output_per_release(tmp_path):
    from berth.context import Ctx

    printed: list[str] = []
    ctx = Ctx(paths=Paths(tmp_path / "r"), out=printed.append)
    with logs.capture_build(ctx, "a") as cap:
        ctx.step("Building")
        ctx.info("step 1/3")
        cap.keep(4)
    assert printed == ["-----> Building", "       step 1/3"]
    assert logs.build_log(ctx.paths, "a", 4).read_text() == "-----> Building\n       step 1/3\n"
    with pytest.raises(RuntimeError), logs.capture_build(ctx, "a"):
        ctx.out("failed before a release existed")
        raise RuntimeError
    assert sorted(p.name for p in (ctx.paths.logs / "builds" / "a").iterdir()) == ["v4.log"]
    assert ctx.out == printed.append


def test_build_logs_keep_the_newest(tmp_path, monkeypatch):
    from berth.context import Ctx

    monkeypatch.setattr(logs, "KEEP_BUILDS", 3)
    ctx = Ctx(paths=Paths(tmp_path / "r"), out=lambda line: None)
    for v in range(1, 12):
        with logs.capture_build(ctx, "a") as cap:
            ctx.out(f"release {v}")
            cap.keep(v)
    names = sorted(p.name for p in (ctx.paths.logs / "builds" / "a").iterdir())
    assert names == ["v10.log", "v11.log", "v9.log"]


def test_follower_reads_every_file_of_several_rotations_between_polls(paths):
    logs.append(paths, "a", [rec(1, text="first")])
    current = logs.app_files(paths, "a")[0]
    f = logs.Follower(current, current.stat().st_size)
    for i in range(6):  # ~3 rotations at 300 bytes, all before the next poll
        logs.append(paths, "a", [rec(10 + i, text=f"m{i}" + "y" * 80)], max_bytes=300)
    got = [logs.parse_line(line).text[:2] for line in f.poll()]
    f.close()
    assert got == [f"m{i}" for i in range(6)]
