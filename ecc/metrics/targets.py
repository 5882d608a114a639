"""Targets for a period (METRICS.md, Targets).

Target rows (``targets`` table) each cover their own period [period_start, period_end]
and a segment (NULL: the whole portfolio). For a period P:

- money metrics (``config.MONEY_TARGETS``, e.g. ``expansion_arr``): the sum over the rows
  of the metric and segment that overlap P of
  ``value * (days of the row's period inside P) / (days of the row's period)``;
- rates (``grr``, ``nrr``, ``renewal_rate``, ``expansion_win_rate``): the day-weighted mean
  of the overlapping rows, ``sum(value * overlap days) / sum(overlap days)``;
- no overlapping row: null.

Targets with only a CSM filter use the portfolio rows (segment NULL): callers pass
``ctx.scope.segment``.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from sqlalchemy import Connection, select

from ..config import MONEY_TARGETS
from ..periods import Period
from ..schema import targets

__all__ = ["target_for"]


def _days(start: date, end: date) -> int:
    return (end - start).days + 1


def target_for(conn: Connection, metric: str, period: Period, segment: str | None) -> float | None:
    """The target of ``metric`` for ``period`` and ``segment`` (None: the portfolio rows).

    Money: sum of value * overlap days / row days (pro-rated); rates: the mean of the
    values weighted by overlap days. Grain: one number for the period; null when no
    target row of the metric and segment overlaps the period.
    """
    seg_clause = targets.c.segment.is_(None) if segment is None else targets.c.segment == segment
    q = select(targets.c.period_start, targets.c.period_end, targets.c.value).where(
        targets.c.metric == metric,
        seg_clause,
        targets.c.period_start <= period.end,
        targets.c.period_end >= period.start,
    )
    # Exact arithmetic (Fraction) on the few overlapping rows; one float at the end.
    weighted = Fraction(0)
    weights = 0
    money = metric in MONEY_TARGETS
    for row in conn.execute(q):
        row_days = _days(row.period_start, row.period_end)
        overlap = _days(max(row.period_start, period.start), min(row.period_end, period.end))
        if row_days <= 0 or overlap <= 0:
            continue  # a malformed row (end before start) never counts
        value = Fraction(str(row.value))
        if money:
            weighted += value * overlap / row_days
        else:
            weighted += value * overlap
        weights += overlap
    if weights == 0:
        return None
    return float(weighted) if money else float(weighted / weights)
