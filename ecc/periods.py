"""Periods, date-range presets and comparison periods (METRICS.md, Time).

A :class:`Period` is ``[start, end]`` with both dates inclusive; ``end`` is the as-of
date. Presets are relative to ``today``, which defaults to the latest date on which
something happened in the data (see :func:`ecc.metrics.state.data_today`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from .errors import ConfigError

Preset = Literal["this_month", "last_month", "this_quarter", "last_quarter", "ytd", "custom"]
CompareKind = Literal["previous", "yoy"]

PRESETS: tuple[str, ...] = ("this_month", "last_month", "this_quarter", "last_quarter", "ytd")
PRESET_LABELS: dict[str, str] = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "ytd": "Year to date",
    "custom": "Custom range",
}
COMPARE_KINDS: tuple[str, ...] = ("previous", "yoy")
#: The comparison as a menu offers it ("none": no comparison).
COMPARE_LABELS: dict[str, str] = {
    "previous": "vs previous period",
    "yoy": "vs same period last year",
    "none": "no comparison",
}
#: The comparison beside a number ("+1.2M vs last year").
COMPARE_SHORT: dict[str, str] = {"previous": "vs previous period", "yoy": "vs last year"}


@dataclass(frozen=True)
class Period:
    """An inclusive date range; ``preset`` records how it was chosen."""

    start: date
    end: date
    preset: str = "custom"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigError(
                f"the period ends ({self.end}) before it starts ({self.start}); "
                "give an end on or after the start"
            )

    @property
    def d0(self) -> date:
        """The day before the period: "at the start of P"."""
        return self.start - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Comparison:
    """The period a comparison runs over."""

    kind: str
    period: Period

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, **self.period.as_dict()}


# ---------------------------------------------------------------- calendar arithmetic


def month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(d: date, months: int) -> date:
    """``d`` moved by ``months``, keeping the day number clamped to the month's length."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, month_length(year, month)))


def minus_year(d: date) -> date:
    """One year earlier; Feb 29 becomes Feb 28."""
    return add_months(d, -12)


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=month_length(d.year, d.month))


def quarter_of(d: date) -> int:
    return (d.month - 1) // 3 + 1


def quarter_start(d: date) -> date:
    return date(d.year, 3 * (quarter_of(d) - 1) + 1, 1)


def quarter_end(d: date) -> date:
    return month_end(date(d.year, 3 * quarter_of(d), 1))


def quarter_label(d: date) -> str:
    return f"{d.year}-Q{quarter_of(d)}"


def month_pieces(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] cut at month ends: (start, end) pairs, each within one calendar month."""
    out: list[tuple[date, date]] = []
    a = start
    while a <= end:
        b = min(month_end(a), end)
        out.append((a, b))
        a = b + timedelta(days=1)
    return out


def month_ends_between(start: date, end: date) -> list[date]:
    """Every month end ``m`` with ``start <= m <= end``, ascending."""
    out: list[date] = []
    m = month_end(start)
    while m <= end:
        out.append(m)
        m = month_end(add_months(month_start(m), 1))
    return out


def trend_dates(period: Period) -> list[date]:
    """Month ends inside the period, then ``end`` (once, even when it is a month end)."""
    dates = [m for m in month_ends_between(period.start, period.end) if m != period.end]
    return [*dates, period.end]


# ---------------------------------------------------------------- presets and comparisons


def preset_period(preset: str, today: date) -> Period:
    """The range of a preset relative to ``today``."""
    if preset == "this_month":
        return Period(month_start(today), today, preset)
    if preset == "last_month":
        prev = add_months(month_start(today), -1)
        return Period(prev, month_end(prev), preset)
    if preset == "this_quarter":
        return Period(quarter_start(today), today, preset)
    if preset == "last_quarter":
        prev = add_months(quarter_start(today), -3)
        return Period(prev, quarter_end(prev), preset)
    if preset == "ytd":
        return Period(date(today.year, 1, 1), today, preset)
    raise ConfigError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")


def _cut(start: date, days: int, limit: date) -> Period:
    end = min(start + timedelta(days=days - 1), limit)
    return Period(start, end)


def comparison_period(period: Period, kind: str) -> Comparison:
    """The comparison period of ``kind`` (``previous`` or ``yoy``) for ``period``."""
    if kind == "yoy":
        return Comparison(kind, Period(minus_year(period.start), minus_year(period.end)))
    if kind != "previous":
        raise ConfigError(f"unknown comparison {kind!r}; choose one of: {', '.join(COMPARE_KINDS)}")
    p = period.preset
    if p == "last_month":
        start = add_months(period.start, -1)
        return Comparison(kind, Period(start, month_end(start)))
    if p == "last_quarter":
        start = add_months(period.start, -3)
        return Comparison(kind, Period(start, quarter_end(start)))
    if p == "this_month":  # to date: the same number of days, clamped to the month
        start = add_months(period.start, -1)
        return Comparison(kind, _cut(start, period.days, month_end(start)))
    if p == "this_quarter":
        start = add_months(period.start, -3)
        return Comparison(kind, _cut(start, period.days, quarter_end(start)))
    if p == "ytd":
        return Comparison(kind, Period(minus_year(period.start), minus_year(period.end)))
    # custom: the range of the same length that ends the day before start
    end = period.start - timedelta(days=1)
    return Comparison(kind, Period(end - timedelta(days=period.days - 1), end))


def parse_date(text: str, what: str = "date") -> date:
    """An ISO date, or a ConfigError that says what was expected."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{what} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-31"
        ) from None
