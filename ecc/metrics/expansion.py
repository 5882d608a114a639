"""The expansion pipeline (METRICS.md, Expansion pipeline, US-005) — ``expansion``.

An opportunity is open at d when ``created_on <= d`` and (``closed_on`` is NULL or > d);
its stage is the recorded one.

- ``open_value``: sum of amount of the opportunities open at end.
- ``by_type``: ``{upsell, cross_sell, upgrade}``, each ``{count, value}`` of those open.
- ``by_stage``: ``{identified, qualified, proposal, negotiation}``, each ``{count, value}``.
- ``top_opportunities``: the ``settings.top_n`` (10) open at end with the largest amount,
  ties by opportunity_id: ``{opportunity_id, customer_id, type, stage, amount,
  expected_close_on}`` plus the customer's ``name``.
- ``win_rate``: count won / count (won + lost) among those closed in P; null when none.
- ``forecast_win_rate``: mean of p_win(stage) over those open at end; null when none.
- ``expansion_arr``: sum of the ``expansion`` deltas of the ARR ledger in P
  (= ``retention.expansion_arr``).
- ``target``: the ``expansion_arr`` target for P (money, pro-rated); extra key
  ``win_rate_target``: the ``expansion_win_rate`` target for P.

Scope: an opportunity belongs to the scope of its customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import Connection, case, func, select

from ..config import EXPANSION_TYPES, OPPORTUNITY_STAGES
from ..schema import customers
from ..schema import expansion_opportunities as opps
from .context import Context, money, ratio
from .grouped import by_segment
from .scope import Scope, scope_clauses
from .state import ZERO, open_at
from .sums import movement_sums
from .targets import target_for

__all__ = [
    "CountValue",
    "ExpansionByStage",
    "ExpansionByType",
    "ExpansionResult",
    "TopOpportunity",
    "expansion",
]


class CountValue(TypedDict):
    count: int
    value: float


class ExpansionByType(TypedDict):
    upsell: CountValue
    cross_sell: CountValue
    upgrade: CountValue


class ExpansionByStage(TypedDict):
    identified: CountValue
    qualified: CountValue
    proposal: CountValue
    negotiation: CountValue


class TopOpportunity(TypedDict):
    opportunity_id: str
    customer_id: str
    name: str
    type: str
    stage: str
    amount: float
    expected_close_on: str


class ExpansionResult(TypedDict):
    open_value: float
    by_type: ExpansionByType
    by_stage: ExpansionByStage
    top_opportunities: list[TopOpportunity]
    win_rate: float | None
    forecast_win_rate: float | None
    expansion_arr: float
    target: float | None
    win_rate_target: float | None


@dataclass(frozen=True)
class _Open:
    type: str
    stage: str
    count: int
    value: Decimal


@dataclass(frozen=True)
class _Top:
    opportunity_id: str
    customer_id: str
    name: str
    type: str
    stage: str
    amount: Decimal
    expected_close_on: date


def _joined() -> Any:
    return opps.join(customers, customers.c.customer_id == opps.c.customer_id)


def _open_sums(conn: Connection, end: date, scope: Scope) -> dict[str, list[_Open]]:
    """segment -> count and value of the opportunities open at end, by (type, stage)."""
    o = opps.c
    out: dict[str, list[_Open]] = {}
    for row in conn.execute(
        select(
            customers.c.segment,
            o.type,
            o.stage,
            func.count().label("n"),
            func.sum(o.amount).label("v"),
        )
        .select_from(_joined())
        .where(open_at(o.closed_on, end, o.created_on), *scope_clauses(scope))
        .group_by(customers.c.segment, o.type, o.stage)
    ):
        out.setdefault(row.segment, []).append(_Open(row.type, row.stage, int(row.n), row.v))
    return out


def _top_open(conn: Connection, end: date, limit: int, scope: Scope) -> dict[str, list[_Top]]:
    """segment -> its ``limit`` largest opportunities open at end (ties by opportunity_id);
    the largest of any set of segments are among the union of theirs."""
    o = opps.c
    pos = func.row_number().over(
        partition_by=customers.c.segment, order_by=(o.amount.desc(), o.opportunity_id)
    )
    ranked = (
        select(
            customers.c.segment,
            o.opportunity_id,
            o.customer_id,
            customers.c.name,
            o.type,
            o.stage,
            o.amount,
            o.expected_close_on,
            pos.label("pos"),
        )
        .select_from(_joined())
        .where(open_at(o.closed_on, end, o.created_on), *scope_clauses(scope))
        .subquery("ranked")
    )
    out: dict[str, list[_Top]] = {}
    for row in conn.execute(select(ranked).where(ranked.c.pos <= limit)):
        out.setdefault(row.segment, []).append(
            _Top(
                row.opportunity_id,
                row.customer_id,
                row.name,
                row.type,
                row.stage,
                row.amount,
                row.expected_close_on,
            )
        )
    return out


def closed_counts(
    conn: Connection, start: date, end: date, scope: Scope
) -> dict[str, tuple[int, int]]:
    """segment -> (won, won + lost) among the opportunities closed in [start, end]."""
    o = opps.c
    return {
        row.segment: (int(row.won or 0), int(row.closed or 0))
        for row in conn.execute(
            select(
                customers.c.segment,
                func.sum(case((o.outcome == "won", 1), else_=0)).label("won"),
                func.count().label("closed"),
            )
            .select_from(_joined())
            .where(
                o.closed_on >= start,
                o.closed_on <= end,
                o.outcome.in_(("won", "lost")),
                *scope_clauses(scope),
            )
            .group_by(customers.c.segment)
        )
    }


def expansion(ctx: Context) -> ExpansionResult:
    """The expansion pipeline at ``end`` and over P.

    Grain: one object for the scope; ``top_opportunities`` one row per opportunity.
    Queries grouped by segment (inside a refresh, once for every segment filter): open
    counts and sums by (type, stage), each segment's top list, won/lost in P; then the
    ledger's expansion sum and two targets.
    """
    conn, period, scope, settings = ctx.conn, ctx.period, ctx.scope, ctx.settings
    end = period.end

    # open at end: count and value by (type, stage); every total below folds these rows
    count_t = {t: 0 for t in EXPANSION_TYPES}
    value_t = {t: ZERO for t in EXPANSION_TYPES}
    count_s = {s: 0 for s in OPPORTUNITY_STAGES}
    value_s = {s: ZERO for s in OPPORTUNITY_STAGES}
    p_win_sum = Decimal(0)
    n_open = 0
    for group in by_segment(ctx.plan, _open_sums, conn, end, scope=scope).values():
        for row in group:
            count_t[row.type] += row.count
            value_t[row.type] += row.value
            count_s[row.stage] += row.count
            value_s[row.stage] += row.value
            p_win_sum += row.count * Decimal(str(settings.p_win[row.stage]))
            n_open += row.count

    tops = by_segment(ctx.plan, _top_open, conn, end, settings.top_n, scope=scope)
    top = sorted(
        (t for group in tops.values() for t in group),
        key=lambda t: (-t.amount, t.opportunity_id),
    )[: settings.top_n]

    won = n_closed = 0
    for seg_won, seg_closed in by_segment(
        ctx.plan, closed_counts, conn, period.start, end, scope=scope
    ).values():
        won += seg_won
        n_closed += seg_closed

    moves = movement_sums(ctx.plan, conn, period.start, end, scope)

    def cv(count: int, value: Decimal) -> CountValue:
        return {"count": count, "value": money(value)}

    return {
        "open_value": money(sum(value_t.values(), ZERO)),
        "by_type": {
            "upsell": cv(count_t["upsell"], value_t["upsell"]),
            "cross_sell": cv(count_t["cross_sell"], value_t["cross_sell"]),
            "upgrade": cv(count_t["upgrade"], value_t["upgrade"]),
        },
        "by_stage": {
            "identified": cv(count_s["identified"], value_s["identified"]),
            "qualified": cv(count_s["qualified"], value_s["qualified"]),
            "proposal": cv(count_s["proposal"], value_s["proposal"]),
            "negotiation": cv(count_s["negotiation"], value_s["negotiation"]),
        },
        "top_opportunities": [
            {
                "opportunity_id": row.opportunity_id,
                "customer_id": row.customer_id,
                "name": row.name,
                "type": row.type,
                "stage": row.stage,
                "amount": money(row.amount),
                "expected_close_on": row.expected_close_on.isoformat(),
            }
            for row in top
        ],
        "win_rate": ratio(won, n_closed),
        "forecast_win_rate": ratio(p_win_sum, n_open),
        "expansion_arr": money(moves.get(("", "expansion"), ZERO)),
        "target": target_for(conn, "expansion_arr", period, scope.segment),
        "win_rate_target": target_for(conn, "expansion_win_rate", period, scope.segment),
    }
