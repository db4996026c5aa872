"""Cron: five-field schedules (minute hour day-of-month month day-of-week, in UTC) and the
app.json `cron` entries that use them.

    parse("*/5 * * * *")            -> Schedule; a clear ValidationError says the rule
    Schedule.next_after(datetime)   -> the first matching minute strictly after it
    entries(app_json)               -> [Entry(id, schedule, command)], validated

Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, and comma lists; months and
weekdays also take names (jan, mon). Day of week 0 and 7 are Sunday. When both day fields are
restricted a day matches if either does (as in Vixie cron). `@hourly`, `@daily`, `@midnight`,
`@weekly`, `@monthly`, `@yearly` and `@annually` are shorthands.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from berth.errors import ValidationError

MAX_ENTRIES = 50
MAX_COMMAND = 4096
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
          ("day of week", 0, 7))
MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@hourly": "0 * * * *"}
RULE = ("use 5 fields 'minute hour day-of-month month day-of-week' with *, numbers, a-b, "
        "*/n and comma lists (or @hourly, @daily, @weekly, @monthly, @yearly)")


@dataclass(frozen=True)
class Schedule:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month was '*'
    any_weekday: bool  # day of week was '*'

    def matches(self, t: datetime) -> bool:
        if t.minute not in self.minutes or t.hour not in self.hours:
            return False
        if t.month not in self.months:
            return False
        return self._day_ok(t)

    def _day_ok(self, t: datetime) -> bool:
        dom = t.day in self.days
        dow = (t.isoweekday() % 7) in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return dow
        if self.any_weekday:
            return dom
        return dom or dow

    def next_after(self, t: datetime) -> datetime:
        """The first matching minute strictly after t (t is taken as UTC if naive)."""
        t = (t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC))
        t = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        # bounded: every valid schedule matches within 8 years (Feb 29 on a given weekday)
        limit = t + timedelta(days=366 * 8)
        while t < limit:
            if t.month not in self.months:
                t = _first_of_next_month(t)
                continue
            if not self._day_ok(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        raise ValidationError(f"invalid cron schedule {self.text!r}: it never matches a date")


def _first_of_next_month(t: datetime) -> datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=1, hour=0, minute=0)


def parse(text: str) -> Schedule:
    if not isinstance(text, str) or len(text) > 200:
        raise ValidationError(f"invalid cron schedule: {RULE}")
    spec = MACROS.get(text.strip().lower(), text)
    parts = spec.split()
    if len(parts) != 5:
        raise ValidationError(f"invalid cron schedule {text!r}: {RULE}")
    sets = [_field(p, name, lo, hi, text) for p, (name, lo, hi) in zip(parts, FIELDS,
                                                                        strict=True)]
    weekdays = frozenset(0 if d == 7 else d for d in sets[4])
    sched = Schedule(text=text, minutes=sets[0], hours=sets[1], days=sets[2], months=sets[3],
                     weekdays=weekdays, any_day=parts[2] == "*", any_weekday=parts[4] == "*")
    if not sched.any_day and sched.any_weekday and min(sched.days) > _max_days(sched.months):
        raise ValidationError(f"invalid cron schedule {text!r}: day {min(sched.days)} never "
                              "occurs in the months given")
    return sched


def _max_days(months: frozenset[int]) -> int:
    return max({2: 29, 4: 30, 6: 30, 9: 30, 11: 30}.get(m, 31) for m in months)


def _field(part: str, name: str, lo: int, hi: int, text: str) -> frozenset[int]:
    out: set[int] = set()
    for item in part.split(","):
        rng, _, step_s = item.partition("/")
        step = 1
        if step_s:
            step = _number(step_s, name, 1, hi - lo + 1 if hi > lo else 1, text)
        if rng == "*":
            start, end = lo, hi
        elif "-" in rng:
            a, _, b = rng.partition("-")
            start, end = _value(a, name, lo, hi, text), _value(b, name, lo, hi, text)
            if start > end:
                raise ValidationError(f"invalid cron schedule {text!r}: {name} range "
                                      f"{rng!r} runs backwards")
        else:
            start = _value(rng, name, lo, hi, text)
            end = hi if step_s else start
        out.update(range(start, end + 1, step))
    return frozenset(out)


def _value(s: str, name: str, lo: int, hi: int, text: str) -> int:
    names = MONTHS if name == "month" else DAYS if name == "day of week" else {}
    if s.lower() in names:
        return names[s.lower()]
    return _number(s, name, lo, hi, text)


def _number(s: str, name: str, lo: int, hi: int, text: str) -> int:
    if not s.isdigit() or len(s) > 3 or not lo <= int(s) <= hi:
        raise ValidationError(f"invalid cron schedule {text!r}: {name} must be {lo}-{hi}, "
                              f"got {s[:10]!r}")
    return int(s)


@dataclass(frozen=True)
class Entry:
    id: str
    schedule: Schedule
    command: str

    def argv(self) -> list[str]:
        """Run by the container's own shell, as Procfile commands are; never on the host."""
        return ["/bin/sh", "-c", self.command]


def entry_id(schedule: str, command: str) -> str:
    """Stable across deploys while the entry is unchanged."""
    return hashlib.sha256(f"{schedule}\0{command}".encode()).hexdigest()[:10]


def entries(app_json: dict) -> list[Entry]:
    """app.json `cron`: a list of {"schedule": "...", "command": "..."}; validated."""
    raw = app_json.get("cron", [])
    if not isinstance(raw, list):
        raise ValidationError("invalid app.json cron: must be a list of "
                              '{"schedule": "...", "command": "..."}')
    if len(raw) > MAX_ENTRIES:
        raise ValidationError(f"invalid app.json cron: at most {MAX_ENTRIES} entries")
    out: list[Entry] = []
    for i, item in enumerate(raw):
        where = f"app.json cron[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(f"invalid {where}: must be an object")
        unknown = set(item) - {"schedule", "command"}
        if unknown:
            raise ValidationError(f"invalid {where}: unknown key {sorted(unknown)[0]!r}; "
                                  "use schedule and command")
        schedule, command = item.get("schedule"), item.get("command")
        if not isinstance(command, str) or not command.strip() or len(command) > MAX_COMMAND:
            raise ValidationError(f"invalid {where}.command: a non-empty string "
                                  f"(max {MAX_COMMAND} characters)")
        if "\x00" in command:
            raise ValidationError(f"invalid {where}.command: NUL bytes are not allowed")
        if not isinstance(schedule, str):
            raise ValidationError(f"invalid {where}.schedule: {RULE}")
        try:
            sched = parse(schedule)
        except ValidationError as e:
            raise ValidationError(f"invalid {where}.schedule: {e}") from None
        eid = entry_id(schedule, command)
        if any(e.id == eid for e in out):
            raise ValidationError(f"invalid {where}: the same entry appears twice")
        out.append(Entry(id=eid, schedule=sched, command=command))
    return out


def find(app_json: dict, eid: str) -> Entry:
    from berth.errors import NotFound

    for e in entries(app_json):
        if e.id == eid:
            return e
    raise NotFound(f"no cron entry {eid[:20]!r}; see `berth cron:list APP`")


def now() -> datetime:
    return datetime.now(UTC)
