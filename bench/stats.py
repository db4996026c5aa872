"""Samples and figures. A Figure is one row of the table: berth's samples, the floor's samples
(measured interleaved in the same run), the ratio of each pair, and the target."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Summary:
    median: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> Summary | None:
        if not samples:
            return None
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))


@dataclass
class Figure:
    """``value`` samples are berth's; ``floor`` the baseline's, paired by index when both
    exist (then each pair gives one ratio). ``higher_is_better`` flips the ratio's sense for
    throughput: ratio = berth / floor either way, and the target says which side passes."""

    key: str
    title: str
    unit: str
    target: str
    floor_title: str = ""
    value: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    ratio_max: float | None = None  # pass if median ratio <= this
    ratio_min: float | None = None  # pass if median ratio >= this
    value_max: float | None = None  # pass if median value <= this
    diff_max: float | None = None  # pass if median (value - floor) <= this
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def ratios(self) -> list[float]:
        pairs = zip(self.value, self.floor, strict=False)
        return [v / f for v, f in pairs if f > 0]

    def diffs(self) -> list[float]:
        return [v - f for v, f in zip(self.value, self.floor, strict=False)]

    def summary(self) -> dict[str, Any]:
        v, f, r = Summary.of(self.value), Summary.of(self.floor), Summary.of(self.ratios())
        d = Summary.of(self.diffs())
        return {"value": asdict(v) if v else None, "floor": asdict(f) if f else None,
                "ratio": asdict(r) if r else None, "diff": asdict(d) if d else None}

    def passed(self) -> bool | None:
        if self.error:
            return False
        s = self.summary()
        checks: list[bool] = []
        if self.ratio_max is not None and s["ratio"]:
            checks.append(s["ratio"]["median"] <= self.ratio_max)
        if self.ratio_min is not None and s["ratio"]:
            checks.append(s["ratio"]["median"] >= self.ratio_min)
        if self.value_max is not None and s["value"]:
            checks.append(s["value"]["median"] <= self.value_max)
        if self.diff_max is not None and s["diff"]:
            checks.append(s["diff"]["median"] <= self.diff_max)
        return all(checks) if checks else None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "unit": self.unit, "target": self.target,
                "floor_title": self.floor_title, "samples": self.value,
                "floor_samples": self.floor, **self.summary(), "passed": self.passed(),
                "note": self.note, "extra": self.extra, "error": self.error}


def fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit == "s":
        return f"{x:.2f} s" if x >= 0.1 else f"{x * 1000:.0f} ms"
    if unit == "ms":
        return f"{x:.2f} ms"
    if unit == "req/s":
        return f"{x:,.0f} req/s"
    if unit == "MB":
        return f"{x:.0f} MB"
    if unit == "failed":
        return f"{x:.0f}"
    return f"{x:g} {unit}".strip()
