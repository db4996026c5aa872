from datetime import UTC, datetime

import pytest

from berth import cron
from berth.errors import NotFound, ValidationError


def at(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_every_minute_is_the_next_minute():
    s = cron.parse("* * * * *")
    assert s.next_after(at(2026, 1, 2, 3, 4, 5)) == at(2026, 1, 2, 3, 5)
    assert s.next_after(at(2026, 1, 2, 3, 4)) == at(2026, 1, 2, 3, 5)


def test_steps_ranges_lists_and_names():
    s = cron.parse("*/15 9-17 * * mon-fri")
    assert s.minutes == {0, 15, 30, 45} and s.hours == set(range(9, 18))
    assert s.weekdays == {1, 2, 3, 4, 5}
    # Friday 17:50 -> Monday 09:00
    assert s.next_after(at(2026, 1, 2, 17, 50)) == at(2026, 1, 5, 9, 0)
    assert cron.parse("0 0 1 jan,jul *").months == {1, 7}
    assert cron.parse("5-20/5 * * * *").minutes == {5, 10, 15, 20}
    assert cron.parse("10/20 * * * *").minutes == {10, 30, 50}


def test_sunday_is_0_and_7():
    assert cron.parse("0 0 * * 7").weekdays == {0}
    assert cron.parse("0 0 * * 0").next_after(at(2026, 1, 1)) == at(2026, 1, 4)  # a Sunday


def test_day_fields_or_when_both_restricted():
    s = cron.parse("0 12 13 * fri")
    # Jan 2 2026 is a Friday, Jan 13 is a Tuesday: both match
    assert s.next_after(at(2026, 1, 1)) == at(2026, 1, 2, 12)
    assert s.next_after(at(2026, 1, 12)) == at(2026, 1, 13, 12)


def test_month_and_year_rollover_and_leap_day():
    assert cron.parse("30 23 31 12 *").next_after(at(2026, 12, 31, 23, 30)) == \
        at(2027, 12, 31, 23, 30)
    assert cron.parse("0 0 29 2 *").next_after(at(2026, 3, 1)) == at(2028, 2, 29)
    assert cron.parse("@monthly").next_after(at(2026, 1, 31, 5)) == at(2026, 2, 1)
    assert cron.parse("@hourly").next_after(at(2026, 1, 1, 0, 0)) == at(2026, 1, 1, 1, 0)


def test_naive_times_are_utc_and_aware_ones_converted():
    from datetime import timedelta, timezone

    s = cron.parse("0 * * * *")
    assert s.next_after(datetime(2026, 1, 1, 0, 30)) == at(2026, 1, 1, 1)
    plus2 = timezone(timedelta(hours=2))
    assert s.next_after(datetime(2026, 1, 1, 2, 30, tzinfo=plus2)) == at(2026, 1, 1, 1)


@pytest.mark.parametrize("bad", ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
                                 "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *",
                                 "5-1 * * * *", "a * * * *", "1,,2 * * * *", "@often",
                                 "0 0 31 2 *", "; rm -rf / * * * *", "-1 * * * *"])
def test_bad_schedules_say_the_rule(bad):
    with pytest.raises(ValidationError) as e:
        cron.parse(bad)
    assert "invalid cron schedule" in str(e.value)


def test_entries_validated_with_stable_ids():
    data = {"cron": [{"schedule": "*/5 * * * *", "command": "python task.py"},
                     {"schedule": "@daily", "command": "echo $HOME; date"}]}
    got = cron.entries(data)
    assert [e.command for e in got] == ["python task.py", "echo $HOME; date"]
    assert got[0].id == cron.entry_id("*/5 * * * *", "python task.py")
    assert len(got[0].id) == 10 and got[0].id != got[1].id
    assert got[1].argv() == ["/bin/sh", "-c", "echo $HOME; date"]
    assert cron.find(data, got[1].id) == got[1]
    with pytest.raises(NotFound):
        cron.find(data, "nope")
    assert cron.entries({}) == []


@pytest.mark.parametrize("raw, where", [
    ({"cron": {}}, "must be a list"),
    ({"cron": ["x"]}, "cron[0]: must be an object"),
    ({"cron": [{"schedule": "* * * * *"}]}, "cron[0].command"),
    ({"cron": [{"schedule": "* * * * *", "command": "  "}]}, "cron[0].command"),
    ({"cron": [{"schedule": 5, "command": "x"}]}, "cron[0].schedule"),
    ({"cron": [{"schedule": "* * *", "command": "x"}]}, "cron[0].schedule"),
    ({"cron": [{"schedule": "* * * * *", "command": "x", "user": "root"}]}, "unknown key"),
    ({"cron": [{"schedule": "* * * * *", "command": "x"}] * 2}, "appears twice"),
])
def test_bad_entries_name_their_place(raw, where):
    with pytest.raises(ValidationError) as e:
        cron.entries(raw)
    assert where in str(e.value)


def test_appjson_parse_validates_cron():
    from berth import appjson

    with pytest.raises(ValidationError, match="cron"):
        appjson.parse('{"cron": [{"schedule": "every minute", "command": "x"}]}')
