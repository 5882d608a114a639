"""Workload and capacity (METRICS.md, US-007): each active CSM's book against targets.

One row per active CSM (``csms.active``) at ``end``, in csm_id order; a segment filter
keeps the CSMs of that segment (``csms.segment``), a CSM filter that CSM. The book is the
active customers at end (ARR_c(end) > 0) whose current ``customers.csm_id`` is the CSM,
within the filters (under a segment filter, the customers of that segment).

- ``accounts``, ``arr``: count and ARR of the book; ``target_accounts``, ``target_arr``:
  the CSM's targets.
- ``accounts_at_risk``: customers of the book whose health category at end is
  ``at_risk`` or ``critical`` (unscored ones are not at risk).
- ``renewals_90d``: the number of renewals of the book's customers open at end
  (``closed_on`` NULL or > end) with ``due_on`` in (end, end + 90].
- ``utilization`` = max(accounts / target_accounts, arr / target_arr), exact (null only
  when a target is not positive, which the loader refuses).
- ``status``: ``over`` when utilization > ``over_utilization`` (1.0), ``under`` when <
  ``under_utilization`` (0.8), else ``balanced`` (exactly 1.0 and exactly 0.8 are balanced).
- ``recommendations``: moves ``{customer_id, from_csm, to_csm, reason}`` (and ``arr``) from
  :func:`ecc.rebalance.recommend` over the rows' books, with the limit
  ``over_utilization``. An account is not movable when a renewal of it is open at end
  and due on or before end + 90 days (late renewals, due on or before end, included:
  they are the most urgent) or a save play of it is open at end (opened_on <= end,
  closed_on NULL or > end). Only the accounts of CSMs above the limit are read one by
  one; everything else comes back as per-CSM sums.

Reading of the CSM filter: a plan needs the receivers' books, so under a CSM filter the
plan is made for the whole team (within the segment filter, if any) and the moves that
involve the CSM (from or to) are shown: the same moves the unfiltered view shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TypedDict

from sqlalchemy import ColumnElement, Connection, Subquery, and_, case, exists, func, select

from ..config import MetricSettings
from ..rebalance import CSM, Account, recommend, utilization
from ..schema import csms, customers, renewals, save_plays
from .context import Context, money
from .plan import Plan
from .scope import Scope, scope_clauses
from .state import ZERO, arr_at, category_of, customer_state, open_at

__all__ = [
    "WINDOW_DAYS",
    "Load",
    "Recommendation",
    "WorkloadResult",
    "WorkloadRow",
    "loads",
    "movable_accounts",
    "workload",
]

#: Renewals due within this many days after end count in ``renewals_90d`` and pin an account.
WINDOW_DAYS = 90

AT_RISK_CATEGORIES = ("at_risk", "critical")


class WorkloadRow(TypedDict):
    csm_id: str
    name: str
    segment: str
    accounts: int
    target_accounts: int
    arr: float
    target_arr: float
    accounts_at_risk: int
    renewals_90d: int
    utilization: float | None
    status: str | None


class Recommendation(TypedDict):
    customer_id: str
    from_csm: str
    to_csm: str
    reason: str
    arr: float


class WorkloadSummary(TypedDict):
    """Extra keys: CSMs by status, the highest utilization and the number of moves."""

    over: int
    balanced: int
    under: int
    max_utilization: float | None
    moves: int


class WorkloadResult(TypedDict):
    rows: list[WorkloadRow]
    recommendations: list[Recommendation]
    summary: WorkloadSummary


def summarize_rows(rows: list[WorkloadRow], moves: int) -> WorkloadSummary:
    """Counts by status, the highest utilization (null when none) and the move count."""
    utils = [r["utilization"] for r in rows if r["utilization"] is not None]
    return WorkloadSummary(
        over=sum(1 for r in rows if r["status"] == "over"),
        balanced=sum(1 for r in rows if r["status"] == "balanced"),
        under=sum(1 for r in rows if r["status"] == "under"),
        max_utilization=max(utils) if utils else None,
        moves=moves,
    )


@dataclass(frozen=True)
class Load:
    """One active CSM's book at a date, with targets (exact values)."""

    csm_id: str
    name: str
    segment: str
    target_accounts: int
    target_arr: Decimal
    accounts: int = 0
    arr: Decimal = ZERO
    accounts_at_risk: int = 0
    renewals_90d: int = 0

    @property
    def utilization(self) -> Fraction | None:
        """max(accounts / target_accounts, arr / target_arr); None when a target is <= 0."""
        if self.target_accounts <= 0 or self.target_arr <= 0:
            return None
        return utilization(self.accounts, self.target_accounts, self.arr, self.target_arr)


def _book(d: date, scope: Scope, name: str) -> Subquery:
    """Active customers at d in scope: customer_id, csm_id, segment, arr."""
    a = arr_at(d, f"{name}_arr")
    return (
        select(customers.c.customer_id, customers.c.csm_id, customers.c.segment, a.c.arr)
        .select_from(customers.join(a, a.c.customer_id == customers.c.customer_id))
        .where(a.c.arr > 0, *scope_clauses(scope))
        .subquery(name)
    )


def _csm_clauses(scope: Scope) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [csms.c.active.is_(True)]
    if scope.segment is not None:
        clauses.append(csms.c.segment == scope.segment)
    if scope.csm_id is not None:
        clauses.append(csms.c.csm_id == scope.csm_id)
    return clauses


@dataclass(frozen=True)
class _Part:
    """The sums of one CSM's customers of one segment at a date."""

    accounts: int
    arr: Decimal
    at_risk: int
    renewals: int


def _book_parts(
    plan: Plan, conn: Connection, d: date, scope: Scope
) -> dict[tuple[str, str], _Part]:
    """(csm_id, customer segment) -> the book's sums at d, for the customers in scope.

    accounts, arr, at_risk over the active customers; renewals = renewals of them open at
    d with due_on in (d, d + 90]. One query.
    """
    st = customer_state(plan, d, scope, name="wl_st")
    risky = category_of(st.c.score).in_(AT_RISK_CATEGORIES)
    due = (
        select(renewals.c.customer_id, func.count().label("n"))
        .where(
            open_at(renewals.c.closed_on, d),
            renewals.c.due_on > d,
            renewals.c.due_on <= d + timedelta(days=WINDOW_DAYS),
        )
        .group_by(renewals.c.customer_id)
        .subquery("wl_due")
    )
    q = (
        select(
            st.c.csm_id,
            st.c.segment,
            func.count().label("accounts"),
            func.sum(st.c.arr).label("arr"),
            func.sum(case((risky, 1), else_=0)).label("at_risk"),
            func.sum(func.coalesce(due.c.n, 0)).label("renewals"),
        )
        .select_from(st.outerjoin(due, due.c.customer_id == st.c.customer_id))
        .group_by(st.c.csm_id, st.c.segment)
    )
    return {
        (row.csm_id, row.segment): _Part(
            int(row.accounts), row.arr, int(row.at_risk or 0), int(row.renewals or 0)
        )
        for row in conn.execute(q)
    }


def loads(plan: Plan, conn: Connection, d: date, scope: Scope) -> list[Load]:
    """Per active CSM in scope, in csm_id order: the book at d and the targets.

    accounts, arr, accounts_at_risk over the book; renewals_90d = renewals of the book open
    at d with due_on in (d, d + 90]. Inside a refresh the book sums of every CSM and
    segment are queried once per date and each segment filter takes its part.
    """
    if plan.shares and scope.csm_id is None:
        parts = plan.shared(("workload-parts", d), lambda: _book_parts(plan, conn, d, Scope()))
    else:
        parts = _book_parts(plan, conn, d, scope)
    by_csm: dict[str, list[_Part]] = {}
    for (csm_id, segment), part in parts.items():
        if scope.segment in (None, segment):
            by_csm.setdefault(csm_id, []).append(part)
    team = conn.execute(
        select(
            csms.c.csm_id, csms.c.name, csms.c.segment, csms.c.target_accounts, csms.c.target_arr
        )
        .where(*_csm_clauses(scope))
        .order_by(csms.c.csm_id)
    )
    out: list[Load] = []
    for row in team:
        book = by_csm.get(row.csm_id, [])
        out.append(
            Load(
                csm_id=row.csm_id,
                name=row.name,
                segment=row.segment,
                target_accounts=int(row.target_accounts),
                target_arr=row.target_arr,
                accounts=sum(p.accounts for p in book),
                arr=sum((p.arr for p in book), ZERO),
                accounts_at_risk=sum(p.at_risk for p in book),
                renewals_90d=sum(p.renewals for p in book),
            )
        )
    return out


def movable_accounts(conn: Connection, d: date, scope: Scope, csm_ids: list[str]) -> list[Account]:
    """The movable accounts at d of the given CSMs' books, in scope. One query.

    Movable: of the owner's segment, no renewal open at d and due on or before d + 90
    (late ones included), no save play open at d.
    """
    if not csm_ids:
        return []
    bk = _book(d, scope, "wl_move_book")
    renewal_due = exists().where(
        renewals.c.customer_id == bk.c.customer_id,
        open_at(renewals.c.closed_on, d),
        renewals.c.due_on <= d + timedelta(days=WINDOW_DAYS),
    )
    play_open = exists().where(
        save_plays.c.customer_id == bk.c.customer_id,
        open_at(save_plays.c.closed_on, d, save_plays.c.opened_on),
    )
    q = (
        select(bk.c.customer_id, bk.c.csm_id, bk.c.segment, bk.c.arr)
        .select_from(
            bk.join(csms, and_(csms.c.csm_id == bk.c.csm_id, csms.c.segment == bk.c.segment))
        )
        .where(bk.c.csm_id.in_(csm_ids), ~renewal_due, ~play_open)
        .order_by(bk.c.customer_id)
    )
    return [
        Account(customer_id=r.customer_id, csm_id=r.csm_id, segment=r.segment, arr=r.arr)
        for r in conn.execute(q)
    ]


def _status(u: Fraction | None, over: Fraction, under: Fraction) -> str | None:
    if u is None:
        return None
    if u > over:
        return "over"
    if u < under:
        return "under"
    return "balanced"


def _row(t: Load, over: Fraction, under: Fraction) -> WorkloadRow:
    u = t.utilization
    return WorkloadRow(
        csm_id=t.csm_id,
        name=t.name,
        segment=t.segment,
        accounts=t.accounts,
        target_accounts=t.target_accounts,
        arr=money(t.arr),
        target_arr=money(t.target_arr),
        accounts_at_risk=t.accounts_at_risk,
        renewals_90d=t.renewals_90d,
        utilization=None if u is None else float(u),
        status=_status(u, over, under),
    )


def workload(ctx: Context) -> WorkloadResult:
    """Rows per active CSM at end and the rebalancing moves (see the module docstring).

    Grain: one row per active CSM in scope; recommendations for the team in scope. The
    rows and moves are those at the period's end: inside a refresh, the periods that end
    on the same day (this month, quarter and year to date) share them.
    """
    key = ("workload-at", ctx.period.end, ctx.scope, repr(ctx.settings))
    return ctx.plan.shared(
        key, lambda: _workload_at(ctx.plan, ctx.conn, ctx.period.end, ctx.scope, ctx.settings)
    )


def _workload_at(
    plan: Plan, conn: Connection, end: date, scope: Scope, settings: MetricSettings
) -> WorkloadResult:
    over = Fraction(str(settings.over_utilization))
    under = Fraction(str(settings.under_utilization))
    team_scope = Scope(segment=scope.segment)
    team = loads(plan, conn, end, team_scope)
    planned = [t for t in team if t.utilization is not None]
    givers = [t.csm_id for t in planned if (t.utilization or 0) > over]
    moves = recommend(
        [
            CSM(
                csm_id=t.csm_id,
                segment=t.segment,
                active=True,
                target_accounts=t.target_accounts,
                target_arr=t.target_arr,
                accounts=t.accounts,
                arr=t.arr,
                name=t.name,
            )
            for t in planned
        ],
        movable_accounts(conn, end, team_scope, givers),
        max_utilization=settings.over_utilization,
    )
    only = scope.csm_id
    rows = [_row(t, over, under) for t in team if only is None or t.csm_id == only]
    recommendations = [
        Recommendation(
            customer_id=m.customer_id,
            from_csm=m.from_csm,
            to_csm=m.to_csm,
            reason=m.reason,
            arr=money(m.arr),
        )
        for m in moves
        if only is None or only in (m.from_csm, m.to_csm)
    ]
    return WorkloadResult(
        rows=rows,
        recommendations=recommendations,
        summary=summarize_rows(rows, len(recommendations)),
    )
