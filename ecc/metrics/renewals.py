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

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from ..periods import Period, quarter_end, quarter_label, quarter_start
from ..schema import customers
from ..schema import renewals as renewals_t
from .context import Context, money, ratio
from .grouped import by_segment
from .scope import Scope, scope_clauses
from .state import ZERO, open_at
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


@dataclass(frozen=True)
class _Due:
    renewal_id: str
    customer_id: str
    due_on: date
    arr: Decimal
    stage: str


def _due_in_quarter(conn: Connection, end: date, scope: Scope) -> dict[str, list[_Due]]:
    """segment -> the renewals due in the quarter of end, with their stage at end."""
    r = renewals_t.c
    closed_by_end = and_(r.closed_on.is_not(None), r.closed_on <= end)
    stage = case((closed_by_end, r.outcome), else_=r.forecast_status)
    out: dict[str, list[_Due]] = {}
    for row in conn.execute(
        select(
            customers.c.segment, r.renewal_id, r.customer_id, r.due_on, r.arr, stage.label("stage")
        )
        .select_from(renewals_t.join(customers, customers.c.customer_id == r.customer_id))
        .where(r.due_on >= quarter_start(end), r.due_on <= quarter_end(end), *scope_clauses(scope))
    ):
        out.setdefault(row.segment, []).append(
            _Due(row.renewal_id, row.customer_id, row.due_on, row.arr, row.stage)
        )
    return out


def bucket_clauses(end: date) -> dict[str, ColumnElement[bool]]:
    """Which open renewals each bucket holds at ``end``, by due date: ``late`` (due
    before end), ``d30``/``d60``/``d90`` (due in (end, end + 30], (+30, +60], (+60, +90]).
    A renewal due on ``end`` itself is in none (neither late nor upcoming)."""
    r = renewals_t.c
    d30, d60, d90 = (end + timedelta(days=n) for n in (30, 60, 90))
    return {
        "late": r.due_on < end,
        "d30": and_(r.due_on > end, r.due_on <= d30),
        "d60": and_(r.due_on > d30, r.due_on <= d60),
        "d90": and_(r.due_on > d60, r.due_on <= d90),
    }


def _open_buckets(
    conn: Connection, end: date, scope: Scope
) -> dict[str, dict[str, tuple[int, Decimal]]]:
    """segment -> bucket (late, d30, d60, d90) -> count and exact ARR of renewals open at end."""
    r = renewals_t.c
    d90 = end + timedelta(days=90)
    ranges = bucket_clauses(end)
    cols: list[Any] = []
    for name, cond in ranges.items():
        cols.append(func.sum(case((cond, 1), else_=0)).label(f"{name}_n"))
        cols.append(func.sum(case((cond, r.arr), else_=None)).label(f"{name}_arr"))
    out: dict[str, dict[str, tuple[int, Decimal]]] = {}
    for row in conn.execute(
        select(customers.c.segment, *cols)
        .select_from(renewals_t.join(customers, customers.c.customer_id == r.customer_id))
        .where(
            open_at(r.closed_on, end),
            or_(r.due_on < end, and_(r.due_on > end, r.due_on <= d90)),
            *scope_clauses(scope),
        )
        .group_by(customers.c.segment)
    ):
        m = row._mapping
        out[row.segment] = {b: (int(m[f"{b}_n"] or 0), m[f"{b}_arr"] or ZERO) for b in _BUCKETS}
    return out


def closed_in(
    conn: Connection, start: date, end: date, scope: Scope
) -> dict[str, tuple[Decimal, Decimal]]:
    """segment -> (ARR renewed, ARR closed) of the renewals closed in [start, end]."""
    r = renewals_t.c
    return {
        row.segment: (row.renewed or ZERO, row.closed or ZERO)
        for row in conn.execute(
            select(
                customers.c.segment,
                func.sum(case((r.outcome == "renewed", r.arr), else_=None)).label("renewed"),
                func.sum(r.arr).label("closed"),
            )
            .select_from(renewals_t.join(customers, customers.c.customer_id == r.customer_id))
            .where(r.closed_on >= start, r.closed_on <= end, *scope_clauses(scope))
            .group_by(customers.c.segment)
        )
    }


def renewals(ctx: Context) -> RenewalsResult:
    """The renewal pipeline at ``end`` for Q (the quarter of ``end``) and P.

    Grain: one object for the scope; ``due_this_quarter`` has one row per renewal due in Q.
    Three queries grouped by segment (inside a refresh, once for every segment filter):
    the renewals due in Q, the open-at-end buckets, the closed-in-P sums.
    """
    conn, period, scope = ctx.conn, ctx.period, ctx.scope
    end = period.end
    q_start, q_end = quarter_start(end), quarter_end(end)

    # 1. renewals due in Q, with their stage at end
    due_rows = sorted(
        (
            d
            for rows in by_segment(ctx.plan, _due_in_quarter, conn, end, scope=scope).values()
            for d in rows
        ),
        key=lambda d: (d.due_on, d.renewal_id),
    )

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

    # 2. open at end: late and the 30/60/90-day buckets
    bucket_n = dict.fromkeys(_BUCKETS, 0)
    bucket_arr: dict[str, Decimal | None] = dict.fromkeys(_BUCKETS, None)
    for seg in by_segment(ctx.plan, _open_buckets, conn, end, scope=scope).values():
        for b, (n, arr) in seg.items():
            bucket_n[b] += n
            if n:
                bucket_arr[b] = (bucket_arr[b] or ZERO) + arr
    buckets = {b: _count_arr(bucket_n[b], bucket_arr[b]) for b in _BUCKETS}

    # 3. closed in P: renewal rate by ARR
    renewed = closed = ZERO
    for seg_renewed, seg_closed in by_segment(
        ctx.plan, closed_in, conn, period.start, end, scope=scope
    ).values():
        renewed += seg_renewed
        closed += seg_closed

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
        "renewal_rate": ratio(renewed, closed),
        "forecast_rate": ratio(expected, due_total),
        "target": target_for(conn, "renewal_rate", Period(q_start, q_end), scope.segment),
        "quarter": {
            "label": quarter_label(end),
            "start": q_start.isoformat(),
            "end": q_end.isoformat(),
        },
    }
