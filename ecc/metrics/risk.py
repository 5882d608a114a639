"""Risk exposure (METRICS.md, US-003): ARR held by at-risk customers at ``end``.

A customer is at risk when its health category at end is ``at_risk`` (40 <= score < 70) or
``critical`` (score < 40); unscored customers are not at risk.

- ``arr_at_risk`` = sum of ARR_c(end) over active customers in scope that are at risk;
  ``critical_arr`` = the same over critical customers alone.
- ``trend``: ``improving`` if arr_at_risk fell since the comparison end by more than 1% of the
  earlier value, ``worsening`` if it rose by more than 1% of it (so 0 -> anything positive is
  worsening), else ``stable``; null without a comparison.
- ``top_accounts``: the 10 at-risk customers with the largest ARR (ties: lower score, then
  customer_id).
- ``by_segment``: for each of the three segments ``arr_at_risk``, ``accounts_at_risk`` and
  ``share`` = arr_at_risk / the segment's ARR (null when that ARR is 0).
- ``by_csm``: keyed by csm_id (current owner), one entry per CSM owning an active customer in
  scope at end: ``arr_at_risk``, ``accounts_at_risk``, ``share`` = arr_at_risk / book ARR.
- ``save_plays``: ``active`` = plays open at end (opened_on <= end, closed_on NULL or > end);
  ``saved`` / ``lost`` = plays closed in P by outcome; ``success_rate`` = saved / (saved +
  lost), null when none. Plays are scoped through their customer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TypedDict

from sqlalchemy import Connection, case, func, literal, select

from ..config import SEGMENTS
from ..schema import arr_events, customers, save_plays
from .context import Context, money, ratio
from .grouped import by_segment
from .plan import Plan
from .scope import Scope, scope_clauses
from .state import ZERO, category_of, customer_state, open_at

__all__ = ["RiskResult", "risk"]

AT_RISK_CATEGORIES = ("at_risk", "critical")


class TopAccount(TypedDict):
    customer_id: str
    name: str
    segment: str
    csm_id: str
    arr: float
    score: float
    category: str


class GroupRisk(TypedDict):
    """A segment's or a CSM's exposure; share = arr_at_risk / the group's ARR."""

    arr_at_risk: float
    accounts_at_risk: int
    share: float | None


class SavePlays(TypedDict):
    active: int
    saved: int
    lost: int
    success_rate: float | None


class RiskResult(TypedDict):
    arr_at_risk: float
    critical_arr: float
    trend: str | None
    top_accounts: list[TopAccount]
    by_segment: dict[str, GroupRisk]
    by_csm: dict[str, GroupRisk]
    save_plays: SavePlays


@dataclass
class Exposure:
    """Sums over a group of active customers at one date."""

    arr: Decimal = ZERO
    at_risk_arr: Decimal = ZERO
    critical_arr: Decimal = ZERO
    at_risk: int = 0

    def add(self, other: Exposure) -> None:
        self.arr += other.arr
        self.at_risk_arr += other.at_risk_arr
        self.critical_arr += other.critical_arr
        self.at_risk += other.at_risk


def exposure(
    plan: Plan, conn: Connection, d: date, scope: Scope
) -> dict[tuple[str, str], Exposure]:
    """(segment, csm_id) -> ARR, at-risk ARR, critical ARR and at-risk count at d. One query
    (in a refresh, one per date for every filter)."""
    if plan.shares:
        every = plan.shared(("exposure", d), lambda: _exposure(plan, conn, d, Scope()))
        return {
            k: replace(v)
            for k, v in every.items()
            if scope.segment in (None, k[0]) and scope.csm_id in (None, k[1])
        }
    return _exposure(plan, conn, d, scope)


def _exposure(
    plan: Plan, conn: Connection, d: date, scope: Scope
) -> dict[tuple[str, str], Exposure]:
    st = customer_state(plan, d, scope)
    cat = category_of(st.c.score)
    risky = cat.in_(AT_RISK_CATEGORIES)
    zero = literal(ZERO, type_=arr_events.c.arr_delta.type)
    q = select(
        st.c.segment,
        st.c.csm_id,
        func.sum(st.c.arr).label("arr"),
        func.sum(case((risky, st.c.arr), else_=zero)).label("at_risk_arr"),
        func.sum(case((cat == "critical", st.c.arr), else_=zero)).label("critical_arr"),
        func.sum(case((risky, 1), else_=0)).label("at_risk"),
    ).group_by(st.c.segment, st.c.csm_id)
    return {
        (row.segment, row.csm_id): Exposure(
            row.arr, row.at_risk_arr, row.critical_arr, int(row.at_risk)
        )
        for row in conn.execute(q)
    }


def _top_by_segment(
    plan: Plan, conn: Connection, d: date, limit: int, scope: Scope
) -> dict[str, list[tuple[Decimal, Decimal, TopAccount]]]:
    """segment -> its ``limit`` at-risk customers with the largest ARR at d (ties: lower
    score, id), with their exact ARR and score; the largest of any set of segments are
    among the union of theirs."""
    st = customer_state(plan, d, scope)
    cat = category_of(st.c.score)
    pos = func.row_number().over(
        partition_by=st.c.segment,
        order_by=(st.c.arr.desc(), st.c.score.asc(), st.c.customer_id.asc()),
    )
    ranked = (
        select(st, cat.label("category"), pos.label("pos"))
        .where(cat.in_(AT_RISK_CATEGORIES))
        .subquery("top_ranked")
    )
    out: dict[str, list[tuple[Decimal, Decimal, TopAccount]]] = {}
    for row in conn.execute(select(ranked).where(ranked.c.pos <= limit)):
        account = TopAccount(
            customer_id=row.customer_id,
            name=row.name,
            segment=row.segment,
            csm_id=row.csm_id,
            arr=money(row.arr),
            score=float(row.score),
            category=row.category,
        )
        out.setdefault(row.segment, []).append((row.arr, row.score, account))
    return out


def top_accounts(
    plan: Plan, conn: Connection, d: date, scope: Scope, limit: int
) -> list[TopAccount]:
    """The ``limit`` at-risk customers with the largest ARR at d (ties: lower score, id)."""
    groups = by_segment(plan, partial(_top_by_segment, plan), conn, d, limit, scope=scope)
    ranked = sorted(
        (t for group in groups.values() for t in group),
        key=lambda t: (-t[0], t[1], t[2]["customer_id"]),
    )
    return [account for _, _, account in ranked[:limit]]


def save_plays_by_segment(
    conn: Connection, start: date, end: date, scope: Scope
) -> dict[str, tuple[int, int, int]]:
    """segment -> plays open at end, saved in [start, end], lost in [start, end]."""
    sp = save_plays
    closed_in_p = sp.c.closed_on.between(start, end)
    q = (
        select(
            customers.c.segment,
            func.sum(case((open_at(sp.c.closed_on, end, sp.c.opened_on), 1), else_=0)),
            func.sum(case((closed_in_p & (sp.c.outcome == "saved"), 1), else_=0)),
            func.sum(case((closed_in_p & (sp.c.outcome == "lost"), 1), else_=0)),
        )
        .select_from(sp.join(customers, customers.c.customer_id == sp.c.customer_id))
        .where(*scope_clauses(scope))
        .group_by(customers.c.segment)
    )
    return {
        row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in conn.execute(q)
    }


def save_play_counts(
    plan: Plan, conn: Connection, start: date, end: date, scope: Scope
) -> SavePlays:
    """Plays open at end, and plays closed in [start, end] by outcome."""
    active = saved = lost = 0
    plays = by_segment(plan, save_plays_by_segment, conn, start, end, scope=scope)
    for a, s, n in plays.values():
        active, saved, lost = active + a, saved + s, lost + n
    return SavePlays(active=active, saved=saved, lost=lost, success_rate=ratio(saved, saved + lost))


def _trend(now: Decimal, before: Decimal, fraction: float) -> str:
    limit = before * Decimal(str(fraction))
    if before - now > limit:
        return "improving"
    if now - before > limit:
        return "worsening"
    return "stable"


def _group_row(e: Exposure) -> GroupRisk:
    return GroupRisk(
        arr_at_risk=money(e.at_risk_arr),
        accounts_at_risk=e.at_risk,
        share=ratio(e.at_risk_arr, e.arr),
    )


def risk(ctx: Context) -> RiskResult:
    """Risk exposure at ``ctx.period.end`` (grain: active customers in scope by category).

    arr_at_risk / critical_arr = ARR of at-risk / critical customers; trend vs the
    comparison end (+-1% of the earlier value); top accounts; by segment and by CSM with
    share = at-risk ARR / group ARR; save plays open at end and closed in P.
    """
    conn, scope, period, settings = ctx.conn, ctx.scope, ctx.period, ctx.settings
    groups = exposure(ctx.plan, conn, period.end, scope)
    total = Exposure()
    by_seg = {seg: Exposure() for seg in SEGMENTS}
    by_csm: dict[str, Exposure] = {}
    for (seg, csm_id), e in groups.items():
        total.add(e)
        by_seg.setdefault(seg, Exposure()).add(e)
        by_csm.setdefault(csm_id, Exposure()).add(e)
    trend: str | None = None
    if ctx.comparison is not None:
        before = ZERO
        for e in exposure(ctx.plan, conn, ctx.comparison.end, scope).values():
            before += e.at_risk_arr
        trend = _trend(total.at_risk_arr, before, settings.trend_risk_fraction)
    return RiskResult(
        arr_at_risk=money(total.at_risk_arr),
        critical_arr=money(total.critical_arr),
        trend=trend,
        top_accounts=top_accounts(ctx.plan, conn, period.end, scope, settings.top_n),
        by_segment={seg: _group_row(e) for seg, e in by_seg.items()},
        by_csm={csm_id: _group_row(e) for csm_id, e in sorted(by_csm.items())},
        save_plays=save_play_counts(ctx.plan, conn, period.start, period.end, scope),
    )
