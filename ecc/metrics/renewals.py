"""The renewal pipeline (METRICS.md, Renewal pipeline, US-004) — ``renewals``.

Q = the calendar quarter that contains ``end``. A renewal is open at d when
``closed_on`` is NULL or > d (a renewal has no creation date); its stage at ``end`` is
its ``outcome`` when closed on or before ``end``, else its ``forecast_status`` (a renewal
closed after ``end`` counts as open at ``end``).

- ``due_this_quarter``: renewals with due_on in Q, ``{renewal_id, customer_id, due_on,
  arr, stage}``, by due_on then renewal_id.
- ``stages``: over those, count and ARR by stage ``on_track``, ``at_risk`` (open at end),
  ``renewed``, ``churned`` (closed on or before end).
- ``late``: open at end with due_on < end; count and ARR.
- ``upcoming``: open at end by due_on: ``d30`` in (end, end+30], ``d60`` in
  (end+30, end+60], ``d90`` in (end+60, end+90]; count and ARR each.
- ``renewal_rate``: ARR (``arr``) of renewals closed in P with outcome renewed / ARR of
  renewals closed in P; null when none.
- ``forecast_rate``: (ARR renewed and closed by end among those due in Q + sum over
  renewals due in Q and open at end of arr * (1 - p_churn(forecast_status))) / ARR due
  in Q; null when nothing is due in Q.
- ``target``: the ``renewal_rate`` target for Q (see :mod:`ecc.metrics.targets`).

Scope: a renewal belongs to the scope of its customer. Extra key: ``quarter``
(``{label, start, end}`` of Q).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import and_, case, func, or_, select

from ..periods import Period, quarter_end, quarter_label, quarter_start
from ..schema import renewals as renewals_t
from .context import Context, money, ratio
from .state import ZERO, in_scope, open_at
from .targets import target_for

__all__ = [
    "CountArr",
    "DueRenewal",
    "QuarterInfo",
    "RenewalStages",
    "RenewalsResult",
    "Upcoming",
    "renewals",
]


class CountArr(TypedDict):
    count: int
    arr: float


class DueRenewal(TypedDict):
    renewal_id: str
    customer_id: str
    due_on: str
    arr: float
    stage: str


class RenewalStages(TypedDict):
    on_track: CountArr
    at_risk: CountArr
    renewed: CountArr
    churned: CountArr


class Upcoming(TypedDict):
    d30: CountArr
    d60: CountArr
    d90: CountArr


class QuarterInfo(TypedDict):
    label: str
    start: str
    end: str


class RenewalsResult(TypedDict):
    due_this_quarter: list[DueRenewal]
    stages: RenewalStages
    late: CountArr
    upcoming: Upcoming
    renewal_rate: float | None
    forecast_rate: float | None
    target: float | None
    quarter: QuarterInfo


STAGES: tuple[str, ...] = ("on_track", "at_risk", "renewed", "churned")
_BUCKETS: tuple[str, ...] = ("late", "d30", "d60", "d90")


def _count_arr(count: int | None, arr: Decimal | None) -> CountArr:
    return {"count": int(count or 0), "arr": money(arr)}


def renewals(ctx: Context) -> RenewalsResult:
    """The renewal pipeline at ``end`` for Q (the quarter of ``end``) and P.

    Grain: one object for the scope; ``due_this_quarter`` has one row per renewal due in Q.
    Three queries: the renewals due in Q, the open-at-end buckets, the closed-in-P sums.
    """
    conn, period, scope = ctx.conn, ctx.period, ctx.scope
    end = period.end
    r = renewals_t.c
    scoped = in_scope(r.customer_id, scope)
    q_start, q_end = quarter_start(end), quarter_end(end)

    # 1. renewals due in Q, with their stage at end
    closed_by_end = and_(r.closed_on.is_not(None), r.closed_on <= end)
    stage = case((closed_by_end, r.outcome), else_=r.forecast_status)
    due_rows = conn.execute(
        select(r.renewal_id, r.customer_id, r.due_on, r.arr, stage.label("stage"))
        .where(r.due_on >= q_start, r.due_on <= q_end, *scoped)
        .order_by(r.due_on, r.renewal_id)
    ).all()

    # stage totals and the forecast from the same rows (their number is the list's length)
    counts = dict.fromkeys(STAGES, 0)
    sums = dict.fromkeys(STAGES, ZERO)
    due_total = ZERO
    expected = ZERO  # ARR expected to renew: renewed for sure, or open weighted by 1 - p_churn
    for row in due_rows:
        counts[row.stage] += 1
        sums[row.stage] += row.arr
        due_total += row.arr
        if row.stage == "renewed":
            expected += row.arr
        elif row.stage in ctx.settings.p_churn:
            expected += row.arr * (1 - Decimal(str(ctx.settings.p_churn[row.stage])))

    # 2. open at end: late and the 30/60/90-day buckets, one pass
    d30, d60, d90 = (end + timedelta(days=n) for n in (30, 60, 90))
    ranges = {
        "late": r.due_on < end,
        "d30": and_(r.due_on > end, r.due_on <= d30),
        "d60": and_(r.due_on > d30, r.due_on <= d60),
        "d90": and_(r.due_on > d60, r.due_on <= d90),
    }
    cols: list[Any] = []
    for name, cond in ranges.items():
        cols.append(func.sum(case((cond, 1), else_=0)).label(f"{name}_n"))
        cols.append(func.sum(case((cond, r.arr), else_=None)).label(f"{name}_arr"))
    open_row = conn.execute(
        select(*cols).where(
            open_at(r.closed_on, end),
            or_(r.due_on < end, and_(r.due_on > end, r.due_on <= d90)),
            *scoped,
        )
    ).one()
    m = open_row._mapping
    buckets = {b: _count_arr(m[f"{b}_n"], m[f"{b}_arr"]) for b in _BUCKETS}

    # 3. closed in P: renewal rate by ARR
    closed = conn.execute(
        select(
            func.sum(case((r.outcome == "renewed", r.arr), else_=None)).label("renewed"),
            func.sum(r.arr).label("closed"),
        ).where(r.closed_on >= period.start, r.closed_on <= end, *scoped)
    ).one()

    return {
        "due_this_quarter": [
            {
                "renewal_id": row.renewal_id,
                "customer_id": row.customer_id,
                "due_on": row.due_on.isoformat(),
                "arr": money(row.arr),
                "stage": row.stage,
            }
            for row in due_rows
        ],
        "stages": {
            "on_track": _count_arr(counts["on_track"], sums["on_track"]),
            "at_risk": _count_arr(counts["at_risk"], sums["at_risk"]),
            "renewed": _count_arr(counts["renewed"], sums["renewed"]),
            "churned": _count_arr(counts["churned"], sums["churned"]),
        },
        "late": buckets["late"],
        "upcoming": {"d30": buckets["d30"], "d60": buckets["d60"], "d90": buckets["d90"]},
        "renewal_rate": ratio(closed.renewed or ZERO, closed.closed or ZERO),
        "forecast_rate": ratio(expected, due_total),
        "target": target_for(conn, "renewal_rate", Period(q_start, q_end), scope.segment),
        "quarter": {
            "label": quarter_label(end),
            "start": q_start.isoformat(),
            "end": q_end.isoformat(),
        },
    }
