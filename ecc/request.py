"""Turn what a user asked for (CLI flags, URL parameters, notebook parameters) into a
validated period, comparison and scope — one place, one set of error messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, select

from .config import SEGMENTS
from .errors import ConfigError, DataError
from .metrics.scope import Scope
from .metrics.state import data_today, first_data_date
from .periods import COMPARE_KINDS, PRESETS, Period, parse_date, preset_period
from .schema import csms


@dataclass(frozen=True)
class Request:
    """A validated metrics request."""

    period: Period
    compare: str | None
    scope: Scope
    today: date


def _segment(value: str | None) -> str | None:
    if value in (None, "", "all"):
        return None
    for seg in SEGMENTS:
        if value.lower() == seg.lower():
            return seg
    raise ConfigError(f"unknown segment {value!r}; choose one of: {', '.join(SEGMENTS)}")


def _csm(conn: Connection, value: str | None) -> str | None:
    if value in (None, "", "all"):
        return None
    found = conn.execute(select(csms.c.csm_id).where(csms.c.csm_id == value)).scalar()
    if found is None:
        raise ConfigError(
            f"CSM {value!r} does not exist; give a csm_id from the csms table "
            "(`ecc csms` lists them)"
        )
    return value


#: The longest range a request may span (a longer one is a typo or an attack on the
#: database, never a question a dashboard answers).
MAX_SPAN_DAYS = 3653  # ten years
#: How far outside the data's own span a range or a reference date may reach.
MARGIN = timedelta(days=366)


def within_data(conn: Connection, period: Period, today: date | None) -> None:
    """Refuse a period longer than ten years, or one (or a ``today``) more than a year
    outside the dates the data covers."""
    days = (period.end - period.start).days + 1
    if days > MAX_SPAN_DAYS:
        raise ConfigError(
            f"the range {period.start} to {period.end} spans {days:,} days; choose at most 10 years"
        )
    first, last = first_data_date(conn), data_today(conn)
    if first is None or last is None:
        return
    low, high = first - MARGIN, last + MARGIN
    for name, value in (("today", today), ("start", period.start), ("end", period.end)):
        if value is not None and not low <= value <= high:
            raise ConfigError(
                f"the {name} date {value} is more than a year outside the data "
                f"({first} to {last}); choose a date from {low} to {high}"
            )


def resolve(
    conn: Connection,
    *,
    preset: str | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    today: str | date | None = None,
    compare: str | None = None,
    segment: str | None = None,
    csm: str | None = None,
) -> Request:
    """Validate the inputs against each other and the data; raise ConfigError on bad input.

    Either ``preset`` (default ``this_quarter``, relative to ``today``, which defaults to the
    latest date with data) or both ``start`` and ``end`` (a custom range).
    """
    if compare in ("", "none"):
        compare = None
    if compare is not None and compare not in COMPARE_KINDS:
        raise ConfigError(
            f"unknown comparison {compare!r}; choose one of: {', '.join(COMPARE_KINDS)}"
        )
    seg = _segment(segment)
    if preset == "custom":
        preset = None
    has_range = start not in (None, "") or end not in (None, "")
    if has_range:
        if preset:
            raise ConfigError("give either a preset or --start/--end, not both")
        if start in (None, "") or end in (None, ""):
            raise ConfigError("a custom range needs both a start and an end date (YYYY-MM-DD)")
        s = start if isinstance(start, date) else parse_date(str(start), "start")
        e = end if isinstance(end, date) else parse_date(str(end), "end")
        if e < s:
            raise ConfigError(f"the end date {e} is before the start date {s}; swap them")
        period = Period(s, e)
    else:
        preset = preset or "this_quarter"
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    if today in (None, ""):
        latest = data_today(conn)
        if latest is None:
            raise DataError(
                "the database holds no data yet: load it with `ecc load DIR` or `ecc demo`"
            )
        t = latest
    else:
        t = today if isinstance(today, date) else parse_date(str(today), "today")
    if not has_range:
        period = preset_period(str(preset), t)
    within_data(conn, period, t if today not in (None, "") else None)
    return Request(period=period, compare=compare, scope=Scope(seg, _csm(conn, csm)), today=t)
