"""ARR retention (METRICS.md, US-002).

Start cohort C = customers in scope active at d0 = start - 1 day; B = sum over C of ARR_c(d0).

- ``grr`` = sum over C of min(ARR_c(end), ARR_c(d0)) / B; ``nrr`` = sum over C of ARR_c(end) / B;
  both null when B = 0.
- ``grr_ttm`` / ``nrr_ttm``: the same with d0 = end - 1 year (the cohort active at exactly that
  date; Feb 29 -> Feb 28).
- ``trend``: ``{date, grr_ttm, nrr_ttm}`` at each month end inside P, then at ``end`` (once).
- ``new_arr``, ``expansion_arr``, ``reactivation_arr`` = sum of the deltas of that kind in P;
  ``contraction_arr``, ``churned_arr`` = minus the sum of the deltas of that kind in P.
- ``grr_target``, ``nrr_target``: the ``grr`` and ``nrr`` targets for P (rates, weighted by
  the days each target row covers inside P; null when no row overlaps P).
- ``forecast`` over (end, end + 90 days]: ``churn_arr`` = sum over renewals open at end
  (closed_on NULL or > end) and due in that window of arr x p_churn(forecast_status);
  ``expansion_arr`` = sum over opportunities open at end (created_on <= end, closed_on NULL or
  > end) expected to close in that window of amount x p_win(stage).
- ``cohorts``: for each of the latest 12 signup quarters that end on or before ``end`` and
  hold a signup of a customer in scope, oldest first, ``{quarter, arr_retention,
  logo_retention}``; entry k (k = 0 .. full quarters since the signup quarter up to end) is
  sum ARR_c(end of quarter k) / sum ARR_c(end of the signup quarter), and the count of those
  active at the end of quarter k / the count active at the end of the signup quarter, both
  over the base = the cohort's customers active at the end of their signup quarter (k = 0 is
  1.0). An empty base gives null ratios.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import Connection, Integer, and_, case, func, literal, or_, select
from sqlalchemy import union_all as sql_union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..config import MetricSettings
from ..periods import (
    add_months,
    minus_year,
    month_ends_between,
    quarter_end,
    quarter_start,
    trend_dates,
)
from ..schema import arr_events, customers, expansion_opportunities, renewals
from .context import Context, money, ratio
from .grouped import by_segment
from .plan import Plan
from .scope import Scope, scope_clauses
from .state import ZERO, open_at
from .sums import RetentionSums, movement_sums, retention_series, retention_sums
from .targets import target_for

__all__ = ["CohortRow", "Forecast", "RetentionResult", "TrendPoint", "retention"]


class TrendPoint(TypedDict):
    date: str
    grr_ttm: float | None
    nrr_ttm: float | None


class Forecast(TypedDict):
    churn_arr: float
    expansion_arr: float


class CohortRow(TypedDict):
    quarter: str
    arr_retention: list[float | None]
    logo_retention: list[float | None]


class RetentionResult(TypedDict):
    grr: float | None
    nrr: float | None
    grr_ttm: float | None
    nrr_ttm: float | None
    trend: list[TrendPoint]
    new_arr: float
    expansion_arr: float
    reactivation_arr: float
    contraction_arr: float
    churned_arr: float
    grr_target: float | None
    nrr_target: float | None
    forecast: Forecast
    cohorts: list[CohortRow]


def _sums(plan: Plan, conn: Connection, d0: date, end: date, scope: Scope) -> RetentionSums:
    return retention_sums(plan, conn, d0, end, scope).get("", RetentionSums())


# ---------------------------------------------------------------- forecast


def _forecast_sums(
    conn: Connection, end: date, until: date, scope: Scope
) -> dict[str, dict[tuple[str, str], Decimal]]:
    """segment -> (part, forecast status or stage) -> the ARR or amount open at end and
    due in (end, until]. One query."""
    r, o = renewals, expansion_opportunities
    seg = customers.c.segment
    due = (
        select(
            seg,
            literal("churn").label("part"),
            r.c.forecast_status.label("key"),
            func.sum(r.c.arr).label("total"),
        )
        .select_from(r.join(customers, customers.c.customer_id == r.c.customer_id))
        .where(
            open_at(r.c.closed_on, end),
            r.c.due_on > end,
            r.c.due_on <= until,
            *scope_clauses(scope),
        )
        .group_by(seg, r.c.forecast_status)
    )
    pipeline = (
        select(
            seg, literal("expansion").label("part"), o.c.stage.label("key"), func.sum(o.c.amount)
        )
        .select_from(o.join(customers, customers.c.customer_id == o.c.customer_id))
        .where(
            open_at(o.c.closed_on, end, o.c.created_on),
            o.c.expected_close_on > end,
            o.c.expected_close_on <= until,
            *scope_clauses(scope),
        )
        .group_by(seg, o.c.stage)
    )
    out: dict[str, dict[tuple[str, str], Decimal]] = {}
    for row in conn.execute(sql_union_all(due, pipeline)):
        out.setdefault(row.segment, {})[(row.part, row.key)] = row.total
    return out


def forecast(
    plan: Plan, conn: Connection, end: date, scope: Scope, settings: MetricSettings
) -> Forecast:
    """Expected churned and expanded ARR over (end, end + forecast_days].

    churn_arr = sum of renewal arr x p_churn(forecast_status); expansion_arr = sum of
    opportunity amount x p_win(stage); both over items open at end and due in the window
    (one query grouped by segment; inside a refresh, once for every segment filter).
    """
    until = end + timedelta(days=settings.forecast_days)
    totals = {"churn": ZERO, "expansion": ZERO}
    weights = {"churn": settings.p_churn, "expansion": settings.p_win}
    for sums in by_segment(plan, _forecast_sums, conn, end, until, scope=scope).values():
        for (part, key), total in sums.items():
            totals[part] += total * Decimal(str(weights[part].get(key, 0.0)))
    return Forecast(churn_arr=money(totals["churn"]), expansion_arr=money(totals["expansion"]))


# ---------------------------------------------------------------- cohorts


def _qindex(d: date) -> int:
    """Quarters since year 0: year * 4 + (quarter - 1)."""
    return d.year * 4 + (d.month - 1) // 3


def _qend(index: int) -> date:
    return quarter_end(_qstart(index))


def _qstart(index: int) -> date:
    year, q = divmod(index, 4)
    return date(year, 3 * q + 1, 1)


def _qlabel(index: int) -> str:
    year, q = divmod(index, 4)
    return f"{year}-Q{q + 1}"


class _QuarterIndex(FunctionElement[int]):
    """The same quarter index in SQL: ``year * 4 + (month - 1) / 3`` (integer division)."""

    type = Integer()
    inherit_cache = True
    name = "quarter_index"


@compiles(_QuarterIndex)
def _quarter_index_default(element: _QuarterIndex, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(EXTRACT(year FROM {col}) AS INTEGER) * 4"
        f" + (CAST(EXTRACT(month FROM {col}) AS INTEGER) - 1) / 3)"
    )


@compiles(_QuarterIndex, "sqlite")
def _quarter_index_sqlite(element: _QuarterIndex, compiler: SQLCompiler, **kw: Any) -> str:
    # dates are 'YYYY-MM-DD' text in SQLite: substr is much faster than strftime
    col = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(substr({col}, 1, 4) AS INTEGER) * 4"
        f" + (CAST(substr({col}, 6, 2) AS INTEGER) - 1) / 3)"
    )


def _qindex_sql(col: Any) -> Any:
    return _QuarterIndex(col)


def cohorts(
    plan: Plan, conn: Connection, end: date, scope: Scope, quarters: int = 12
) -> list[CohortRow]:
    """Signup-quarter cohort retention (grain: cohort x quarter since signup). Two queries.

    First the latest ``quarters`` signup quarters that end on or before ``end`` and hold a
    signup in scope; then, per (cohort, quarter), the ARR sum and active count over each
    cohort's base (see :func:`_cohort_stats`). Ratios are taken in Python from exact sums.
    """
    last_full = end if quarter_end(end) == end else quarter_start(end) - timedelta(days=1)
    # every end in the same quarter has the same cohorts: computed once per refresh
    return plan.shared(
        ("cohorts", last_full, scope, quarters),
        lambda: _cohorts(plan, conn, last_full, scope, quarters),
    )


def _cohorts(
    plan: Plan, conn: Connection, last_full: date, scope: Scope, quarters: int
) -> list[CohortRow]:
    last_idx = _qindex(last_full)
    cohort_col = _qindex_sql(customers.c.signup_date)
    picked = [
        int(row[0])
        for row in conn.execute(
            select(cohort_col)
            .where(customers.c.signup_date <= last_full, *scope_clauses(scope))
            .group_by(cohort_col)
            .order_by(cohort_col.desc())
            .limit(quarters)
        )
    ]
    if not picked:
        return []
    picked.sort()
    if scope.csm_id is None and plan.shares:
        # one query grouped by segment serves every segment filter and the whole portfolio
        by_segment = plan.shared(
            ("cohort-stats", picked[0], last_idx),
            lambda: _cohort_stats(conn, picked[0], last_idx, Scope(), by_segment=True),
        )
        stats = _pick_segment(by_segment, scope.segment)
    else:
        stats = _cohort_stats(conn, picked[0], last_idx, scope)
    rows: list[CohortRow] = []
    for c in picked:
        base_arr, base_n = stats.get((c, c), (ZERO, 0))
        arr_ret: list[float | None] = []
        logo_ret: list[float | None] = []
        for q in range(c, last_idx + 1):
            arr_q, n_q = stats.get((c, q), (ZERO, 0))
            arr_ret.append(ratio(arr_q, base_arr))
            logo_ret.append(ratio(n_q, base_n))
        rows.append(CohortRow(quarter=_qlabel(c), arr_retention=arr_ret, logo_retention=logo_ret))
    return rows


def _pick_segment(
    stats: dict[tuple[str, int, int], tuple[Decimal, int]], segment: str | None
) -> dict[tuple[int, int], tuple[Decimal, int]]:
    """Stats grouped by segment, for one segment or summed over all of them."""
    out: dict[tuple[int, int], tuple[Decimal, int]] = {}
    for (seg, cohort, q), (arr, n) in stats.items():
        if segment is not None and seg != segment:
            continue
        prev_arr, prev_n = out.get((cohort, q), (ZERO, 0))
        out[(cohort, q)] = (prev_arr + arr, prev_n + n)
    return out


def _cohort_stats(
    conn: Connection, first: int, last: int, scope: Scope, *, by_segment: bool = False
) -> Any:
    """(cohort, quarter) -> (sum ARR at the quarter end, count active) over each cohort's base.

    One query that reads each ledger event of the cohorts' customers once: deltas are summed
    by (customer, quarter of the event, events before the signup quarter counted in it), a
    running sum per customer gives ARR at the end of each quarter with an event, and that
    value holds until the customer's next such quarter (``next_q``); the base is the
    customers with ARR > 0 at the end of their signup quarter.
    """
    zero = literal(ZERO, type_=arr_events.c.arr_delta.type)
    cohort_col = _qindex_sql(customers.c.signup_date)
    group: Any = customers.c.segment if by_segment else literal("")
    members = (
        select(customers.c.customer_id, cohort_col.label("cohort"), group.label("grp"))
        .where(
            customers.c.signup_date >= _qstart(first),
            customers.c.signup_date <= _qend(last),
            *scope_clauses(scope),
        )
        .subquery("members")
    )
    event_q = _qindex_sql(arr_events.c.event_date)
    bucket = case((event_q < members.c.cohort, members.c.cohort), else_=event_q)
    deltas = (
        select(
            members.c.customer_id,
            members.c.cohort,
            members.c.grp,
            bucket.label("q"),
            func.sum(arr_events.c.arr_delta).label("d"),
        )
        .select_from(members.join(arr_events, arr_events.c.customer_id == members.c.customer_id))
        .where(arr_events.c.event_date <= _qend(last))
        .group_by(members.c.customer_id, members.c.cohort, members.c.grp, bucket)
        .subquery("deltas")
    )
    per_customer = deltas.c.customer_id
    running = (
        select(
            deltas.c.cohort,
            deltas.c.grp,
            deltas.c.q,
            func.sum(deltas.c.d)
            .over(partition_by=per_customer, order_by=deltas.c.q, rows=(None, 0))
            .label("arr"),
            func.lead(deltas.c.q)
            .over(partition_by=per_customer, order_by=deltas.c.q)
            .label("next_q"),
            func.sum(case((deltas.c.q == deltas.c.cohort, deltas.c.d), else_=zero))
            .over(partition_by=per_customer)
            .label("base_arr"),
        )
    ).subquery("running")
    quarters = sql_union_all(
        *[select(literal(i, Integer).label("qidx")) for i in range(first, last + 1)]
    ).subquery("quarters")
    held = and_(
        quarters.c.qidx >= running.c.q,
        or_(running.c.next_q.is_(None), quarters.c.qidx < running.c.next_q),
    )
    q = (
        select(
            running.c.grp,
            running.c.cohort,
            quarters.c.qidx,
            func.sum(running.c.arr).label("arr"),
            func.sum(case((running.c.arr > 0, 1), else_=0)).label("active"),
        )
        .select_from(running.join(quarters, held))
        .where(running.c.base_arr > 0)
        .group_by(running.c.grp, running.c.cohort, quarters.c.qidx)
    )
    stats = {
        (str(row.grp), int(row.cohort), int(row.qidx)): (row.arr, int(row.active))
        for row in conn.execute(q)
    }
    return stats if by_segment else _pick_segment(stats, None)


# ---------------------------------------------------------------- the family


def retention(ctx: Context) -> RetentionResult:
    """ARR retention over P = [start, end] in scope (grain: customer ARR from the ledger).

    grr / nrr over the cohort active at start - 1 day; grr_ttm / nrr_ttm over the cohort
    active at end - 1 year; trend = TTM rates at each month end in P and at end; movement
    sums by kind in P; the 90-day forecast; signup-quarter cohorts.
    """
    conn, scope, period, plan = ctx.conn, ctx.scope, ctx.period, ctx.plan
    main = _sums(plan, conn, period.d0, period.end, scope)
    trend: list[TrendPoint] = []
    ttm = RetentionSums()
    dates = trend_dates(period)
    series = retention_series(plan, conn, [(minus_year(d), d) for d in dates], scope)
    for d, s in zip(dates, series, strict=True):
        trend.append(TrendPoint(date=d.isoformat(), grr_ttm=s.grr, nrr_ttm=s.nrr))
        ttm = s  # the last point is ``end``
    moves: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (_, kind), total in movement_sums(plan, conn, period.start, period.end, scope).items():
        moves[kind] += total
    return RetentionResult(
        grr=main.grr,
        nrr=main.nrr,
        grr_ttm=ttm.grr,
        nrr_ttm=ttm.nrr,
        trend=trend,
        new_arr=money(moves["new"]),
        expansion_arr=money(moves["expansion"]),
        reactivation_arr=money(moves["reactivation"]),
        contraction_arr=money(ZERO - moves["contraction"]),
        churned_arr=money(ZERO - moves["churn"]),
        grr_target=target_for(conn, "grr", period, scope.segment),
        nrr_target=target_for(conn, "nrr", period, scope.segment),
        forecast=forecast(plan, conn, period.end, scope, ctx.settings),
        cohorts=cohorts(plan, conn, period.end, scope, ctx.settings.cohort_quarters),
    )


def retention_history(ctx: Context) -> list[dict[str, Any]]:
    """TTM GRR/NRR at each month end m of the year before the period
    (end - 12 months < m < start), ascending: the part of the trend chart before P, by
    the same formula as ``retention.trend``. Not in METRICS.md's output; the retention
    page shows it, and the refresh pre-aggregates it with the rest."""
    p = ctx.period
    ends = [
        m
        for m in month_ends_between(add_months(p.end, -12), p.start)
        if add_months(p.end, -12) < m < p.start
    ]
    pairs = [(minus_year(m), m) for m in ends]
    sums = retention_series(ctx.plan, ctx.conn, pairs, ctx.scope)
    return [
        {"date": m.isoformat(), "grr_ttm": s.grr, "nrr_ttm": s.nrr}
        for m, s in zip(ends, sums, strict=True)
    ]
