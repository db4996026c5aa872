import json

import pytest

from berth import resources
from berth.context import Ctx
from berth.errors import ValidationError
from berth.models import DEFAULT_TYPE, Limits, RunOptions
from berth.paths import Paths


@pytest.fixture
def ctx(tmp_path):
    from berth import apps

    c = Ctx(paths=Paths(tmp_path / "root"), actor="alice", out=lambda line: None)
    apps.create(c, "myapp")
    return c


@pytest.mark.parametrize("text, size", [("512m", 512 * 2**20), ("1g", 2**30), ("1G", 2**30),
                                        ("1.5g", 3 * 2**29), ("8192k", 8 * 2**20),
                                        ("512mb", 512 * 2**20), ("6m", 6 * 2**20),
                                        ("10485760", 10 * 2**20), ("1t", 2**40)])
def test_memory_sizes(text, size):
    assert resources.parse_memory(text) == size


@pytest.mark.parametrize("bad", ["", "m", "512x", "-1m", "5m", "2t", "1.5", "1e9",
                                 "512 m; rm", "0x10m"])
def test_bad_memory_sizes_say_the_rule(bad):
    with pytest.raises(ValidationError, match="memory size"):
        resources.parse_memory(bad)


@pytest.mark.parametrize("text, cpu", [("0.5", 0.5), ("2", 2.0), ("0.01", 0.01), ("64", 64.0)])
def test_cpus(text, cpu):
    assert resources.parse_cpu(text) == cpu


@pytest.mark.parametrize("bad", ["0", "0.001", "65", "-1", "1/2", "half", "", "1e1"])
def test_bad_cpus(bad):
    with pytest.raises(ValidationError, match="cpu"):
        resources.parse_cpu(bad)


def test_format_memory_round_trips():
    for text in ("512m", "1g", "6m", "1t", "6656k"):
        assert resources.format_memory(resources.parse_memory(text)) == text


def test_limits_stored_per_type_merged_and_recorded(ctx):
    from berth import runopts
    from berth.store import apps as store_apps
    from berth.store import events

    resources.set_values(ctx, "myapp", kind="limit", ptype=None, memory="512m", cpu="0.5")
    resources.set_values(ctx, "myapp", kind="limit", ptype="worker", memory="1g", cpu=None)
    resources.set_values(ctx, "myapp", kind="reserve", ptype=None, memory="256m", cpu="0.25")
    resources.set_values(ctx, "myapp", kind="limit", ptype="build", memory="2g", cpu="1")
    app = store_apps.get(ctx.conn, "myapp")
    opts = runopts.load(ctx, app)
    assert "build" not in opts.limits
    assert opts.limits_for("web") == Limits(memory=512 * 2**20, cpu=0.5,
                                           memory_reservation=256 * 2**20, cpu_reservation=0.25)
    assert opts.limits_for("worker").memory == 2**30
    assert resources.build_limits(ctx, app) == Limits(memory=2 * 2**30, cpu=1.0)
    evs = events.recent(ctx.conn, "myapp")
    assert [e.action for e in evs][:2] == ["resource.limit", "resource.reserve"]
    first = [e for e in evs if e.action == "resource.limit"][-1]
    assert first.actor == "alice" and first.details == {"memory": "512m", "cpu": 0.5,
                                                        "process_type": DEFAULT_TYPE}
    rep = resources.report(ctx, "myapp")
    assert rep["configured"][DEFAULT_TYPE]["limit"] == {"memory": "512m", "cpu": 0.5}
    json.dumps(rep)
    assert resources.clear(ctx, "myapp", kind="limit", ptype=None) == 2
    assert runopts.load(ctx, app).limits_for("web") == Limits(
        memory_reservation=256 * 2**20, cpu_reservation=0.25)


def test_bad_input_changes_nothing(ctx):
    from berth.store import apps as store_apps

    resources.set_values(ctx, "myapp", kind="limit", ptype=None, memory="128m", cpu=None)
    before = store_apps.settings(ctx.conn, store_apps.get(ctx.conn, "myapp"))
    for kw in ({"memory": "lots", "cpu": None}, {"memory": None, "cpu": "100"},
               {"memory": None, "cpu": None}):
        with pytest.raises(ValidationError):
            resources.set_values(ctx, "myapp", kind="limit", ptype=None, **kw)
    with pytest.raises(ValidationError, match="process type"):
        resources.set_values(ctx, "myapp", kind="limit", ptype="Web!", memory="64m", cpu=None)
    with pytest.raises(ValidationError, match="must not exceed the memory limit"):
        resources.set_values(ctx, "myapp", kind="reserve", ptype=None, memory="256m", cpu=None)
    assert store_apps.settings(ctx.conn, store_apps.get(ctx.conn, "myapp")) == before


def test_run_options_default_type_key():
    assert RunOptions(limits={DEFAULT_TYPE: Limits(cpu=1.0)}).limits_for("x").cpu == 1.0
