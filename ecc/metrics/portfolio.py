"""Portfolio summary (METRICS.md, US-001): the active book at ``end``.

At a date d, over the active customers in scope (ARR_c(d) > 0):

- ``customers`` = count of active customers; ``arr`` = sum of their ARR_c(d);
- ``avg_health`` = mean health over the active, scored customers (unweighted; null when none);
- ``distribution`` = ``{healthy, at_risk, critical}``: the fraction of active scored customers
  in each category (healthy >= 70, at_risk 40..<70, critical < 40; all null when none scored).

``trend`` compares avg_health at ``end`` with avg_health at the comparison end:
``improving`` when the difference is >= 1.0 point, ``declining`` when <= -1.0, else ``stable``;
null without a comparison or when either mean is null.

``mom`` / ``qoq`` hold the same four numbers at end - 1 month / end - 3 months (day number
clamped to the month's length) and ``delta`` = value at end - value then for each of them
(the three distribution fractions too); null - anything is null.

``by_segment`` gives the four numbers for each of Enterprise, Mid-market and SMB, always all
three (0 counts, 0 ARR, null means for a segment with no active customer in scope).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TypedDict

from ..config import CATEGORIES, SEGMENTS
from ..periods import add_months
from .context import Context, money
from .state import ZERO
from .sums import Summary, summarize

__all__ = ["Distribution", "Movement", "PortfolioResult", "Snapshot", "portfolio"]


class Distribution(TypedDict):
    healthy: float | None
    at_risk: float | None
    critical: float | None


class Snapshot(TypedDict):
    """The four numbers of the portfolio at one date."""

    customers: int
    arr: float
    avg_health: float | None
    distribution: Distribution


class Delta(TypedDict):
    """Value at end - value at the earlier date, for each of the four numbers."""

    customers: int
    arr: float
    avg_health: float | None
    distribution: Distribution


class Movement(Snapshot):
    """The four numbers at an earlier date (``date``) with the change since then."""

    date: str
    delta: Delta


class PortfolioResult(Snapshot):
    trend: str | None
    mom: Movement
    qoq: Movement
    by_segment: dict[str, Snapshot]


def _total(parts: dict[str, Summary]) -> Summary:
    """One Summary that adds up the counts and sums of several groups."""
    return Summary(
        customers=sum(s.customers for s in parts.values()),
        arr=sum((s.arr for s in parts.values()), ZERO),
        score_sum=sum((s.score_sum for s in parts.values()), ZERO),
        scored=sum(s.scored for s in parts.values()),
        healthy=sum(s.healthy for s in parts.values()),
        at_risk=sum(s.at_risk for s in parts.values()),
        critical=sum(s.critical for s in parts.values()),
    )


def _mean(s: Summary) -> Decimal | None:
    """The exact mean health (Decimal), None when no customer is scored."""
    return None if s.scored == 0 else s.score_sum / s.scored


def _fractions(s: Summary) -> dict[str, Fraction | None]:
    counts = {"healthy": s.healthy, "at_risk": s.at_risk, "critical": s.critical}
    return {k: (None if s.scored == 0 else Fraction(counts[k], s.scored)) for k in CATEGORIES}


def _distribution(values: dict[str, Fraction | None]) -> Distribution:
    def f(x: Fraction | None) -> float | None:
        return None if x is None else float(x)

    return Distribution(
        healthy=f(values["healthy"]), at_risk=f(values["at_risk"]), critical=f(values["critical"])
    )


def snapshot(s: Summary) -> Snapshot:
    """The JSON form of a Summary: customers, arr, avg_health, distribution."""
    mean = _mean(s)
    return Snapshot(
        customers=s.customers,
        arr=money(s.arr),
        avg_health=None if mean is None else float(mean),
        distribution=_distribution(_fractions(s)),
    )


def _movement(now: Summary, then: Summary, when: date) -> Movement:
    """The numbers at ``when`` and the exact differences now - then (null when either is null)."""
    m_now, m_then = _mean(now), _mean(then)
    f_now, f_then = _fractions(now), _fractions(then)
    diff: dict[str, Fraction | None] = {}
    for k in CATEGORIES:
        a, b = f_now[k], f_then[k]
        diff[k] = None if a is None or b is None else a - b
    delta = Delta(
        customers=now.customers - then.customers,
        arr=money(now.arr - then.arr),
        avg_health=None if m_now is None or m_then is None else float(m_now - m_then),
        distribution=_distribution(diff),
    )
    return Movement(**snapshot(then), date=when.isoformat(), delta=delta)


def _trend(now: Summary, then: Summary, points: float) -> str | None:
    m_now, m_then = _mean(now), _mean(then)
    if m_now is None or m_then is None:
        return None
    change = m_now - m_then
    threshold = Decimal(str(points))
    if change >= threshold:
        return "improving"
    if change <= -threshold:
        return "declining"
    return "stable"


def portfolio(ctx: Context) -> PortfolioResult:
    """Portfolio summary at ``ctx.period.end`` (grain: the active customers in scope at a date).

    customers = count active; arr = sum ARR_c(end); avg_health = mean latest score over the
    active scored customers; distribution = share of scored customers per category;
    trend from avg_health(end) - avg_health(comparison end) (+-1.0 point);
    mom/qoq = the same at end - 1 / - 3 months (day clamped) with deltas; by_segment = the
    four numbers per segment. Runs one grouped query per date (3, or 4 with a comparison).
    """
    conn, scope, end = ctx.conn, ctx.scope, ctx.period.end
    by_seg = summarize(ctx.plan, conn, end, scope, by="segment")
    now = _total(by_seg)

    def at(d: date) -> Summary:
        return summarize(ctx.plan, conn, d, scope).get("", Summary())

    mom_date, qoq_date = add_months(end, -1), add_months(end, -3)
    trend: str | None = None
    if ctx.comparison is not None:
        trend = _trend(now, at(ctx.comparison.end), ctx.settings.trend_health_points)
    return PortfolioResult(
        **snapshot(now),
        trend=trend,
        mom=_movement(now, at(mom_date), mom_date),
        qoq=_movement(now, at(qoq_date), qoq_date),
        by_segment={seg: snapshot(by_seg.get(seg, Summary())) for seg in SEGMENTS},
    )
