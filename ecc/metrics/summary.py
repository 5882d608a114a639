"""The executive summary's trend lines — ``summary_trend``, a page area beside METRICS.md.

For each of the 12 calendar months that end with the month of ``end`` (the last one cut
at ``end``), at its last day d (``end`` for the last):

- stocks at d, by the families' own definitions: ``arr`` and ``customers``
  (portfolio), ``grr_ttm`` and ``nrr_ttm`` (retention's trailing twelve months),
  ``arr_at_risk`` and ``critical_arr`` (risk), ``csms_over_capacity`` (workload rows
  whose utilization is above ``over_utilization``);
- flows over the month [first day, d]: ``expansion_arr`` (the ledger's expansion
  deltas), ``win_rate`` (won / (won + lost) among opportunities closed then) and
  ``renewal_rate`` (ARR renewed / ARR closed among renewals closed then).

Each series is a list of ``{date, value}``. The last point of a stock is the value the
summary's tile shows; the flows are monthly, not the period's total. Not part of ``ecc
metrics``' output: the landing page draws it, and the refresh pre-aggregates it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection

from ..config import MetricSettings
from ..periods import add_months, minus_year, month_end, month_start
from .context import Context, money, ratio
from .expansion import closed_counts
from .grouped import by_segment
from .plan import Plan
from .renewals import closed_in
from .risk import exposure
from .scope import Scope
from .state import ZERO
from .sums import Summary, movement_sums, retention_series, summarize
from .workload import loads

#: How many months the trend lines cover.
MONTHS = 12

Series = list[dict[str, Any]]


def months(end: date) -> list[tuple[date, date]]:
    """(first day, last day) of each of the :data:`MONTHS` months up to ``end``'s, the
    last one cut at ``end``; oldest first."""
    out = []
    for back in range(MONTHS - 1, -1, -1):
        first = month_start(add_months(month_start(end), -back))
        out.append((first, min(month_end(first), end)))
    return out


def summary_trend(ctx: Context) -> dict[str, Series]:
    """The series of the module's description for ``ctx`` (its period's end, its filters).
    Every period ending on the same day has the same series: a refresh computes it once."""
    key = ("summary-trend", ctx.period.end, ctx.scope, repr(ctx.settings))
    return ctx.plan.shared(
        key, lambda: _trend(ctx.plan, ctx.conn, ctx.period.end, ctx.scope, ctx.settings)
    )


def _trend(
    plan: Plan, conn: Connection, end: date, scope: Scope, settings: MetricSettings
) -> dict[str, Series]:
    spans = months(end)
    days = [b for _, b in spans]
    out: dict[str, list[Any]] = {name: [] for name in SERIES}
    over = Fraction(str(settings.over_utilization))
    team = Scope(segment=scope.segment)  # workload's rows: the team of the segment filter
    retention = retention_series(plan, conn, [(minus_year(d), d) for d in days], scope)
    for (first, d), kept in zip(spans, retention, strict=True):
        book = summarize(plan, conn, d, scope).get("", Summary())
        out["arr"].append(money(book.arr))
        out["customers"].append(book.customers)
        out["grr_ttm"].append(kept.grr)
        out["nrr_ttm"].append(kept.nrr)
        at_risk = critical = ZERO
        for e in exposure(plan, conn, d, scope).values():
            at_risk += e.at_risk_arr
            critical += e.critical_arr
        out["arr_at_risk"].append(money(at_risk))
        out["critical_arr"].append(money(critical))
        over_count = sum(
            1
            for t in loads(plan, conn, d, team)
            if t.utilization is not None and t.utilization > over
        )
        out["csms_over_capacity"].append(over_count)
        moves = movement_sums(plan, conn, first, d, scope)
        out["expansion_arr"].append(
            money(sum((v for (_, kind), v in moves.items() if kind == "expansion"), ZERO))
        )
        won = closed = 0
        for w, c in by_segment(plan, closed_counts, conn, first, d, scope=scope).values():
            won, closed = won + w, closed + c
        out["win_rate"].append(ratio(won, closed))
        renewed = closed_arr = Decimal(0)
        for arr_renewed, arr_closed in by_segment(
            plan, closed_in, conn, first, d, scope=scope
        ).values():
            renewed, closed_arr = renewed + arr_renewed, closed_arr + arr_closed
        out["renewal_rate"].append(ratio(renewed, closed_arr))
    return {
        name: [{"date": d.isoformat(), "value": v} for d, v in zip(days, values, strict=True)]
        for name, values in out.items()
    }


#: The series, in the order of the summary's tiles.
SERIES: tuple[str, ...] = (
    "arr",
    "customers",
    "grr_ttm",
    "nrr_ttm",
    "arr_at_risk",
    "critical_arr",
    "renewal_rate",
    "expansion_arr",
    "win_rate",
    "csms_over_capacity",
)
