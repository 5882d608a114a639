"""SQL building blocks shared by every metric family.

Each function returns a SQLAlchemy Core selectable or runs one aggregate query;
no metric module writes its own version of "ARR at d" or "health at d".

- ARR_c(d): the running sum of ``arr_events.arr_delta`` with ``event_date <= d``.
- health of c at d: the latest ``score`` with ``scored_on <= d`` (NULL: unscored).
- active at d: ARR_c(d) > 0.

The customer state at a date comes from the source tables, a verified month-end
snapshot or the computation's state tables, as its :class:`~ecc.metrics.plan.Plan` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
)

from ..config import AT_RISK_MIN, HEALTHY_MIN
from ..schema import (
    activities,
    arr_events,
    customers,
    health_scores,
    support_tickets,
)
from ..schema import month_end_snapshots as snap
from .plan import Plan
from .scope import Scope, scope_clauses

ZERO = Decimal("0.00")


def arr_at(d: date, name: str = "arr_at") -> Subquery:
    """Per customer with any event on or before d: ``(customer_id, arr)`` = ARR_c(d)."""
    return (
        select(arr_events.c.customer_id, func.sum(arr_events.c.arr_delta).label("arr"))
        .where(arr_events.c.event_date <= d)
        .group_by(arr_events.c.customer_id)
        .subquery(name)
    )


def score_at(d: date, customer_id_col: Any) -> Any:
    """A correlated scalar subquery: the health score of ``customer_id_col`` at d, or NULL."""
    h = health_scores.alias("h_at")
    return (
        select(h.c.score)
        .where(h.c.customer_id == customer_id_col, h.c.scored_on <= d)
        .order_by(h.c.scored_on.desc())
        .limit(1)
        .scalar_subquery()
    )


def category_of(score: Any) -> Any:
    """CASE expression: 'healthy' | 'at_risk' | 'critical', NULL when unscored."""
    return case(
        (score.is_(None), null()),
        (score >= HEALTHY_MIN, literal("healthy")),
        (score >= AT_RISK_MIN, literal("at_risk")),
        else_=literal("critical"),
    )


def category(score: Decimal | float | None) -> str | None:
    """The health category of a score (Python side, same thresholds)."""
    if score is None:
        return None
    if score >= HEALTHY_MIN:
        return "healthy"
    if score >= AT_RISK_MIN:
        return "at_risk"
    return "critical"


def state_select(d: date, scope: Scope, *, active_only: bool, name: str) -> Select[Any]:
    """The customer state at d replayed from the source tables (see :func:`customer_state`)."""
    a = arr_at(d, f"{name}_arr")
    arr_col = func.coalesce(a.c.arr, literal(ZERO, type_=arr_events.c.arr_delta.type))
    q = (
        select(
            customers.c.customer_id,
            customers.c.name,
            customers.c.segment,
            customers.c.csm_id,
            arr_col.label("arr"),
            score_at(d, customers.c.customer_id).label("score"),
        )
        .select_from(customers.outerjoin(a, a.c.customer_id == customers.c.customer_id))
        .where(*scope_clauses(scope))
    )
    if active_only:
        q = q.where(a.c.arr > 0)
    return q


def customer_state(
    plan: Plan, d: date, scope: Scope, *, active_only: bool = True, name: str = "st"
) -> Subquery:
    """Per customer in scope at d: customer_id, name, segment, csm_id, arr, score.

    ``active_only`` keeps customers with ARR_c(d) > 0 (the portfolio at d). A month end
    of ``plan.snapshots`` is read from its snapshot; with ``plan.states`` each date's
    state is computed once and read back from a temporary table by every family.
    """
    if active_only and d in plan.snapshots:
        return _snapshot_state(d, scope, name)
    if plan.states is not None:
        t = plan.states.table_for(d, scope)
        q = select(t.c.customer_id, t.c.name, t.c.segment, t.c.csm_id, t.c.arr, t.c.score).where(
            *scope_clauses(scope, t)
        )
        if active_only:
            q = q.where(t.c.arr > 0)
        return q.subquery(name)
    # OFFSET 0 is an optimization fence: without it both databases fold this subquery into
    # the outer query and run the correlated score lookup once per use of ``score``.
    return state_select(d, scope, active_only=active_only, name=name).offset(0).subquery(name)


def _snapshot_state(d: date, scope: Scope, name: str) -> Subquery:
    """Customer state at a snapshotted month end: ARR and health from the snapshot,
    name, segment and owner from ``customers`` (the metrics use current ownership)."""
    return (
        select(
            customers.c.customer_id,
            customers.c.name,
            customers.c.segment,
            customers.c.csm_id,
            snap.c.arr,
            snap.c.score,
        )
        .select_from(snap.join(customers, customers.c.customer_id == snap.c.customer_id))
        .where(snap.c.month_end == d, snap.c.arr > 0, *scope_clauses(scope))
        .subquery(name)
    )


def arr_state(plan: Plan, d: date, scope: Scope, name: str = "as") -> Subquery:
    """Per active customer in scope at d: customer_id, segment, csm_id, arr — like
    :func:`customer_state` but without the health lookup when neither a snapshot nor
    the plan's state tables hold d (ARR alone is one pass over the small ledger)."""
    if d in plan.snapshots or plan.states is not None:
        st = customer_state(plan, d, scope, name=f"{name}_st")
        return select(st.c.customer_id, st.c.segment, st.c.csm_id, st.c.arr).subquery(name)
    a = arr_at(d, f"{name}_arr")
    return (
        select(customers.c.customer_id, customers.c.segment, customers.c.csm_id, a.c.arr)
        .select_from(a.join(customers, customers.c.customer_id == a.c.customer_id))
        .where(a.c.arr > 0, *scope_clauses(scope))
        .subquery(name)
    )


def scores_at(plan: Plan, d: date, scope: Scope, name: str = "sc") -> Subquery:
    """Per customer in scope with a health score at d (active or not): customer_id,
    segment, csm_id, score — from the month-end snapshot, the plan's state tables, or
    the source."""
    if d in plan.snapshots:
        return (
            select(customers.c.customer_id, customers.c.segment, customers.c.csm_id, snap.c.score)
            .select_from(snap.join(customers, customers.c.customer_id == snap.c.customer_id))
            .where(snap.c.month_end == d, snap.c.score.is_not(None), *scope_clauses(scope))
            .subquery(name)
        )
    if plan.states is not None:
        t = plan.states.table_for(d, scope)
        return (
            select(t.c.customer_id, t.c.segment, t.c.csm_id, t.c.score)
            .where(t.c.score.is_not(None), *scope_clauses(scope, t))
            .subquery(name)
        )
    inner = (
        select(
            customers.c.customer_id,
            customers.c.segment,
            customers.c.csm_id,
            score_at(d, customers.c.customer_id).label("score"),
        )
        .where(*scope_clauses(scope))
        .offset(0)
        .subquery(f"{name}_all")
    )
    return select(inner).where(inner.c.score.is_not(None)).subquery(name)


# ---------------------------------------------------------------- dates with data


def data_today(conn: Connection) -> date | None:
    """The latest date on which something happened (METRICS.md: the default ``today``)."""
    candidates: list[date] = []
    for col in (arr_events.c.event_date, health_scores.c.scored_on, activities.c.occurred_on):
        value = conn.execute(select(func.max(col))).scalar()
        if value is not None:
            candidates.append(value)
    ts = conn.execute(select(func.max(support_tickets.c.opened_at))).scalar()
    if ts is not None:
        candidates.append(ts.date() if isinstance(ts, datetime) else ts)
    return max(candidates) if candidates else None


def first_data_date(conn: Connection) -> date | None:
    """The earliest ``arr_events.event_date`` or ``customers.signup_date``."""
    values = [
        conn.execute(select(func.min(arr_events.c.event_date))).scalar(),
        conn.execute(select(func.min(customers.c.signup_date))).scalar(),
    ]
    present = [v for v in values if v is not None]
    return min(present) if present else None


def open_at(closed_on: Any, d: date, opened_on: Any | None = None) -> ColumnElement[bool]:
    """A pipeline item is open at d: closed_on NULL or > d (and opened/created on or before d)."""
    clause = or_(closed_on.is_(None), closed_on > d)
    if opened_on is not None:
        return and_(opened_on <= d, clause)
    return clause


def median(values: Sequence[float]) -> float | None:
    """The median; the mean of the two middle values for an even count; None when empty."""
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    mid = n // 2
    return float(s[mid]) if n % 2 else (float(s[mid - 1]) + float(s[mid])) / 2
