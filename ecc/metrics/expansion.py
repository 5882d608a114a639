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

from decimal import Decimal
from typing import TypedDict

from sqlalchemy import case, func, select

from ..config import EXPANSION_TYPES, OPPORTUNITY_STAGES
from ..schema import customers
from ..schema import expansion_opportunities as opps
from .context import Context, money, ratio
from .state import ZERO, in_scope, movement_sums, open_at
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


def expansion(ctx: Context) -> ExpansionResult:
    """The expansion pipeline at ``end`` and over P.

    Grain: one object for the scope; ``top_opportunities`` one row per opportunity.
    Queries: open counts and sums by (type, stage), the top list, won/lost in P, the
    ledger's expansion sum, two targets.
    """
    conn, period, scope, settings = ctx.conn, ctx.period, ctx.scope, ctx.settings
    end = period.end
    o = opps.c
    scoped = in_scope(o.customer_id, scope)
    is_open = open_at(o.closed_on, end, o.created_on)

    # open at end: count and value by (type, stage); every total below folds these rows
    count_t = {t: 0 for t in EXPANSION_TYPES}
    value_t = {t: ZERO for t in EXPANSION_TYPES}
    count_s = {s: 0 for s in OPPORTUNITY_STAGES}
    value_s = {s: ZERO for s in OPPORTUNITY_STAGES}
    p_win_sum = Decimal(0)
    n_open = 0
    for row in conn.execute(
        select(o.type, o.stage, func.count().label("n"), func.sum(o.amount).label("value"))
        .where(is_open, *scoped)
        .group_by(o.type, o.stage)
    ):
        n = int(row.n)
        count_t[row.type] += n
        value_t[row.type] += row.value
        count_s[row.stage] += n
        value_s[row.stage] += row.value
        p_win_sum += n * Decimal(str(settings.p_win[row.stage]))
        n_open += n

    top = conn.execute(
        select(
            o.opportunity_id,
            o.customer_id,
            customers.c.name,
            o.type,
            o.stage,
            o.amount,
            o.expected_close_on,
        )
        .select_from(opps.join(customers, customers.c.customer_id == o.customer_id))
        .where(is_open, *scoped)
        .order_by(o.amount.desc(), o.opportunity_id)
        .limit(settings.top_n)
    ).all()

    closed = conn.execute(
        select(
            func.sum(case((o.outcome == "won", 1), else_=0)).label("won"),
            func.count().label("closed"),
        ).where(
            o.closed_on >= period.start,
            o.closed_on <= end,
            o.outcome.in_(("won", "lost")),
            *scoped,
        )
    ).one()

    moves = movement_sums(conn, period.start, end, scope)

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
        "win_rate": ratio(int(closed.won or 0), int(closed.closed or 0)),
        "forecast_win_rate": ratio(p_win_sum, n_open),
        "expansion_arr": money(moves.get(("", "expansion"), ZERO)),
        "target": target_for(conn, "expansion_arr", period, scope.segment),
        "win_rate_target": target_for(conn, "expansion_win_rate", period, scope.segment),
    }
