"""Evaluate the alert rules over a range of days and record what fired (``ecc alerts run``),
and after each refresh over the days since the last evaluation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, Engine, select

from ..config import AlertSettings
from ..errors import ConfigError
from ..schema import ecc_meta
from .rules import evaluate
from .store import Fired, record

log = logging.getLogger("ecc.alerts")

#: ecc_meta key: the last day the rules were evaluated for after a refresh.
EVALUATED_THROUGH = "alerts_evaluated_through"
#: The first evaluation after a refresh looks back this many days (then: the days since).
FIRST_LOOKBACK_DAYS = 30


@dataclass(frozen=True)
class AlertRun:
    since: date
    until: date
    fired: int  # alerts the rules produced (recorded before or now; a rule that fires once
    # per subject produces none for a subject alerted already)
    new: list[int]  # ids of the alerts recorded by this run


def run_range(
    engine: Engine, since: date, until: date, settings: AlertSettings | None = None
) -> AlertRun:
    """Evaluate every day of [since, until] and record the new alerts in one transaction.

    Re-running a range, or running it twice at once, records nothing twice: the table's
    unique (rule, subject, day) decides.
    """
    if since > until:
        raise ConfigError(
            f"--since {since.isoformat()} is after --until {until.isoformat()}; swap them"
        )
    with engine.begin() as conn:
        fired = evaluate(conn, since, until, settings)
        new = record(conn, fired)
    return AlertRun(since, until, len(fired), new)


def due_since(conn: Connection, today: date) -> date | None:
    """The first day the rules are still to be evaluated for, up to ``today`` (the day
    after the last evaluated one; the first time, FIRST_LOOKBACK_DAYS back), or None."""
    last = conn.execute(
        select(ecc_meta.c.value).where(ecc_meta.c.key == EVALUATED_THROUGH)
    ).scalar()
    since = (
        date.fromisoformat(last) + timedelta(days=1)
        if last
        else today - timedelta(days=FIRST_LOOKBACK_DAYS - 1)
    )
    return None if since > today else since


def record_evaluated(engine: Engine, since: date, today: date, fired: list[Fired]) -> AlertRun:
    """Record the alerts the rules fired on [since, today] and remember ``today``."""
    with engine.begin() as conn:
        new = record(conn, fired)
        conn.execute(ecc_meta.delete().where(ecc_meta.c.key == EVALUATED_THROUGH))
        conn.execute(ecc_meta.insert().values(key=EVALUATED_THROUGH, value=today.isoformat()))
    log.info("alerts for %s..%s: %d fired, %d new", since, today, len(fired), len(new))
    return AlertRun(since, today, len(fired), new)


def run_since_last(
    engine: Engine, today: date, settings: AlertSettings | None = None
) -> AlertRun | None:
    """Evaluate the days after the last evaluated one up to ``today`` (the first time,
    the last FIRST_LOOKBACK_DAYS days), record what fired and remember ``today``. (A
    refresh evaluates them on its own read of the data: :mod:`ecc.cache.refresh`.)"""
    with engine.connect() as conn:
        since = due_since(conn, today)
        if since is None:
            return None
        fired = evaluate(conn, since, today, settings)
    return record_evaluated(engine, since, today, fired)
