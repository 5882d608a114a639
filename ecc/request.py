"""Turn what a user asked for (CLI flags, URL parameters, notebook parameters) into a
validated period, comparison and scope — one place, one set of error messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from .config import SEGMENTS
from .errors import ConfigError, DataError
from .metrics.state import Scope, data_today
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
    return Request(period=period, compare=compare, scope=Scope(seg, _csm(conn, csm)), today=t)
