"""Segment comparison (METRICS.md, US-009): one row per segment, over P = [start, end].

For each of Enterprise, Mid-market and SMB (always all three), over the customers in scope:

- ``customers``, ``arr``, ``avg_health``: as in the portfolio, at ``end``;
- ``grr``, ``nrr``: retention over P of the segment's start cohort C (active at d0 = start - 1);
- ``expansion_rate`` = expansion ARR in P on C / B (B = sum of ARR_c(d0) over C; null when 0);
- ``time_to_value_days`` = median of (onboarded_on - signup_date) in days over the customers
  with onboarded_on in P (null when none; an even count takes the mean of the middle two);
- ``tickets`` = support tickets opened in P (by the UTC date of ``opened_at``);
- ``tickets_per_account`` = tickets / active customers at end (null when none).

A segment outside the filter shows 0 counts, 0 ARR and null averages and rates.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypedDict

from sqlalchemy import Connection, func, select

from ..config import SEGMENTS
from ..schema import arr_events, customers, support_tickets
from .context import Context, money, ratio
from .grouped import additive_over_days, by_segment
from .scope import Scope, scope_clauses
from .state import ZERO, arr_at, median
from .sums import RetentionSums, Summary, retention_sums, summarize

__all__ = ["SegmentRow", "segments"]


class SegmentRow(TypedDict):
    customers: int
    arr: float
    avg_health: float | None
    grr: float | None
    nrr: float | None
    expansion_rate: float | None
    time_to_value_days: float | None
    tickets: int
    tickets_per_account: float | None


def cohort_expansion(conn: Connection, start: date, end: date, scope: Scope) -> dict[str, Decimal]:
    """segment -> sum of expansion deltas in [start, end] of customers active at start - 1."""
    a0 = arr_at(start - timedelta(days=1), "seg_a0")
    q = (
        select(customers.c.segment, func.sum(arr_events.c.arr_delta).label("s"))
        .select_from(
            arr_events.join(customers, customers.c.customer_id == arr_events.c.customer_id).join(
                a0, a0.c.customer_id == arr_events.c.customer_id
            )
        )
        .where(
            arr_events.c.kind == "expansion",
            arr_events.c.event_date >= start,
            arr_events.c.event_date <= end,
            a0.c.arr > 0,
            *scope_clauses(scope),
        )
        .group_by(customers.c.segment)
    )
    return {row.segment: row.s for row in conn.execute(q)}


def time_to_value(conn: Connection, start: date, end: date, scope: Scope) -> dict[str, float]:
    """segment -> median days from signup to onboarding over customers onboarded in P."""
    q = select(customers.c.segment, customers.c.signup_date, customers.c.onboarded_on).where(
        customers.c.onboarded_on >= start, customers.c.onboarded_on <= end, *scope_clauses(scope)
    )
    days: dict[str, list[float]] = defaultdict(list)
    for row in conn.execute(q):
        days[row.segment].append((row.onboarded_on - row.signup_date).days)
    return {seg: m for seg, values in days.items() if (m := median(values)) is not None}


@additive_over_days(operator.add)
def ticket_counts(conn: Connection, start: date, end: date, scope: Scope) -> dict[str, int]:
    """segment -> tickets opened at or after start 00:00 and before (end + 1 day) 00:00."""
    lo = datetime.combine(start, time())
    hi = datetime.combine(end + timedelta(days=1), time())
    q = (
        select(customers.c.segment, func.count().label("n"))
        .select_from(
            support_tickets.join(
                customers, customers.c.customer_id == support_tickets.c.customer_id
            )
        )
        .where(support_tickets.c.opened_at >= lo, support_tickets.c.opened_at < hi)
        .where(*scope_clauses(scope))
        .group_by(customers.c.segment)
    )
    return {row.segment: int(row.n) for row in conn.execute(q)}


def segments(ctx: Context) -> dict[str, SegmentRow]:
    """Segment comparison over P, keyed by segment (grain: the segment's customers in scope).

    customers / arr / avg_health at end; grr / nrr over the start cohort; expansion_rate =
    cohort expansion in P / B; time_to_value_days = median onboarding days; tickets opened in
    P and tickets per active account at end.
    """
    conn, scope, p = ctx.conn, ctx.scope, ctx.period
    book = summarize(ctx.plan, conn, p.end, scope, by="segment")
    ret = retention_sums(ctx.plan, conn, p.d0, p.end, scope, by="segment")
    expansion = by_segment(ctx.plan, cohort_expansion, conn, p.start, p.end, scope=scope)
    ttv = by_segment(ctx.plan, time_to_value, conn, p.start, p.end, scope=scope)
    tickets = by_segment(ctx.plan, ticket_counts, conn, p.start, p.end, scope=scope)
    out: dict[str, SegmentRow] = {}
    for seg in SEGMENTS:
        s = book.get(seg, Summary())
        r = ret.get(seg, RetentionSums())
        n_tickets = tickets.get(seg, 0)
        out[seg] = SegmentRow(
            customers=s.customers,
            arr=money(s.arr),
            avg_health=s.avg_health,
            grr=r.grr,
            nrr=r.nrr,
            expansion_rate=ratio(expansion.get(seg, ZERO), r.base),
            time_to_value_days=ttv.get(seg),
            tickets=n_tickets,
            tickets_per_account=ratio(n_tickets, s.customers),
        )
    return out
