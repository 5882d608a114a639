"""The five executive alert rules of METRICS.md, evaluated for every day of a range.

Each rule is one set-based query over the range (not one per day), so a backfill of a
quarter costs about as much as one day. ``csm_over_capacity`` is the exception: it
needs each CSM's utilization at d and d - 1, and utilization changes only on days with
an ARR event (the books are the current owners' customers active at d, the targets are
the current ones), so it computes the books at ``since - 1`` and on each such day.

Boundaries, as METRICS.md words them: ARR must be *above* 100,000 and utilization
*above* 1.2 (equal does not fire; 1.2 the day before counts as "at or below"); a
renewal due in exactly 30 days is within the window (d < due <= d + 30) and fires once,
on the first evaluated day it qualifies; an expansion of exactly 50,000 fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, exists, func, or_, select, type_coerce

from ..config import AT_RISK_MIN, AlertSettings
from ..formatting import money
from ..metrics.plan import DIRECT, Plan
from ..metrics.scope import Scope
from ..metrics.state import category
from ..metrics.workload import Load, loads
from ..schema import arr_events, customers, health_scores, renewals
from .store import Fired, alerted

__all__ = ["RULES", "evaluate"]


def _usd(amount: Decimal | float) -> str:
    return money(float(amount), compact=False)


def _days_text(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _days(since: date, until: date) -> Iterator[date]:
    d = since
    while d <= until:
        yield d
        d += timedelta(days=1)


def _arr_on(customer_id: Any, on: Any) -> Any:
    """Correlated: ARR of the customer with events on or before ``on``."""
    e = arr_events.alias("arr_on")
    return (
        select(type_coerce(func.coalesce(func.sum(e.c.arr_delta), 0), e.c.arr_delta.type))
        .where(e.c.customer_id == customer_id, e.c.event_date <= on)
        .scalar_subquery()
    )


def _score_before(customer_id: Any, before: Any) -> Any:
    """Correlated: the customer's latest score dated before ``before`` (NULL when none)."""
    h = health_scores.alias("score_before")
    return (
        select(h.c.score)
        .where(h.c.customer_id == customer_id, h.c.scored_on < before)
        .order_by(h.c.scored_on.desc())
        .limit(1)
        .scalar_subquery()
    )


def large_account_critical(
    conn: Connection, since: date, until: date, settings: AlertSettings, plan: Plan
) -> Iterator[Fired]:
    h = health_scores.c
    limit = Decimal(str(settings.large_account_arr))
    q = (
        select(
            h.customer_id,
            h.scored_on,
            h.score,
            customers.c.name,
            customers.c.segment,
            _score_before(h.customer_id, h.scored_on).label("previous"),
            _arr_on(h.customer_id, h.scored_on).label("arr"),
        )
        .select_from(health_scores.join(customers, customers.c.customer_id == h.customer_id))
        .where(h.scored_on >= since, h.scored_on <= until, h.score < AT_RISK_MIN)
        .order_by(h.scored_on, h.customer_id)
    )
    for r in conn.execute(q):
        if r.previous is None or category(r.previous) == "critical":
            continue
        arr = Decimal(r.arr)
        if arr <= limit:
            continue
        yield Fired(
            rule="large_account_critical",
            severity="critical",
            subject_type="customer",
            subject_id=r.customer_id,
            fired_on=r.scored_on,
            message=(
                f"{r.name} ({r.segment}, {_usd(arr)} ARR) turned critical: health "
                f"{float(r.score):g}, down from {float(r.previous):g}."
            ),
        )


def _over(load: Load, limit: Fraction) -> bool:
    u = load.utilization
    return u is not None and u > limit


def csm_over_capacity(
    conn: Connection, since: date, until: date, settings: AlertSettings, plan: Plan
) -> Iterator[Fired]:
    limit = Fraction(str(settings.over_capacity_utilization))
    changes = set(
        conn.execute(
            select(arr_events.c.event_date)
            .where(arr_events.c.event_date >= since, arr_events.c.event_date <= until)
            .distinct()
        ).scalars()
    )
    before = {t.csm_id: t for t in loads(plan, conn, since - timedelta(days=1), Scope())}
    for d in sorted(changes):
        now = {t.csm_id: t for t in loads(plan, conn, d, Scope())}
        for csm_id, t in now.items():
            prev = before.get(csm_id)
            if _over(t, limit) and (prev is None or not _over(prev, limit)):
                was = prev.utilization if prev is not None else None
                yield Fired(
                    rule="csm_over_capacity",
                    severity="warning",
                    subject_type="csm",
                    subject_id=csm_id,
                    fired_on=d,
                    message=(
                        f"{t.name} ({t.segment}) is over capacity: utilization "
                        f"{float(t.utilization or 0):.2f} ({t.accounts} of {t.target_accounts} "
                        f"accounts, {_usd(t.arr)} of {_usd(t.target_arr)} ARR)"
                        + (f"; {float(was):.2f} the day before." if was is not None else ".")
                    ),
                )
        before = now


def renewal_at_risk_30d(
    conn: Connection, since: date, until: date, settings: AlertSettings, plan: Plan
) -> Iterator[Fired]:
    """Once per renewal: on the first evaluated day on which it is open, forecast at risk
    and due within ``renewal_days`` (METRICS.md) — so over [since, until] on
    max(since, due_on - renewal_days) — unless an alert for it exists already."""
    r = renewals.c
    days = timedelta(days=settings.renewal_days)
    q = (
        select(
            r.renewal_id,
            r.customer_id,
            r.due_on,
            r.arr,
            r.closed_on,
            customers.c.name,
            customers.c.segment,
        )
        .select_from(renewals.join(customers, customers.c.customer_id == r.customer_id))
        .where(
            r.forecast_status == "at_risk",
            r.due_on > since,  # due after the first day, so within the window on some day
            r.due_on <= until + days,
            ~alerted("renewal_at_risk_30d", r.renewal_id),
        )
        .order_by(r.due_on, r.renewal_id)
    )
    for row in conn.execute(q):
        d = max(since, row.due_on - days)  # the first evaluated day it is due within the window
        if row.closed_on is not None and row.closed_on <= d:
            continue  # closed by d: not open (and never open again)
        yield Fired(
            rule="renewal_at_risk_30d",
            severity="high",
            subject_type="renewal",
            subject_id=row.renewal_id,
            fired_on=d,
            message=(
                f"Renewal {row.renewal_id} of {row.name} ({row.segment}, "
                f"{_usd(row.arr)} ARR) is forecast at risk and due in "
                f"{_days_text((row.due_on - d).days)}, on {row.due_on:%b %-d, %Y}."
            ),
        )


def unexpected_churn(
    conn: Connection, since: date, until: date, settings: AlertSettings, plan: Plan
) -> Iterator[Fired]:
    e = arr_events.c
    ren = renewals.alias("warning_renewal")
    # an at_risk renewal open at d - 1: closed_on NULL or > d - 1, i.e. >= d
    renewal_warning = exists().where(
        ren.c.customer_id == e.customer_id,
        ren.c.forecast_status == "at_risk",
        or_(ren.c.closed_on.is_(None), ren.c.closed_on >= e.event_date),
    )
    q = (
        select(
            e.customer_id,
            e.event_date,
            func.sum(e.arr_delta).label("lost"),
            customers.c.name,
            customers.c.segment,
            _score_before(e.customer_id, e.event_date).label("score"),
            renewal_warning.label("renewal_at_risk"),
        )
        .select_from(arr_events.join(customers, customers.c.customer_id == e.customer_id))
        .where(e.kind == "churn", e.event_date >= since, e.event_date <= until)
        .group_by(e.customer_id, e.event_date, customers.c.name, customers.c.segment)
        .order_by(e.event_date, e.customer_id)
    )
    for row in conn.execute(q):
        cat = category(row.score)
        signs: list[str] = []
        if cat in ("at_risk", "critical"):
            signs.append(f"health {cat.replace('_', ' ')} ({float(row.score):g})")
        if row.renewal_at_risk:
            signs.append("a renewal forecast at risk")
        lost = _usd(-Decimal(row.lost))
        if signs:
            message = f"{row.name} ({row.segment}) churned, {lost} ARR lost; warning signs: "
            message += " and ".join(signs) + "."
        else:
            health = "unscored" if row.score is None else f"{float(row.score):g} (healthy)"
            message = (
                f"{row.name} ({row.segment}) churned with no warning sign, {lost} ARR lost: "
                f"health was {health} and no renewal was at risk."
            )
        yield Fired(
            rule="unexpected_churn",
            severity="high" if signs else "critical",
            subject_type="customer",
            subject_id=row.customer_id,
            fired_on=row.event_date,
            message=message,
        )


def major_expansion_closed(
    conn: Connection, since: date, until: date, settings: AlertSettings, plan: Plan
) -> Iterator[Fired]:
    e = arr_events.c
    q = (
        select(
            e.customer_id,
            e.event_date,
            func.sum(e.arr_delta).label("added"),
            func.count().label("n"),
            customers.c.name,
            customers.c.segment,
        )
        .select_from(arr_events.join(customers, customers.c.customer_id == e.customer_id))
        .where(
            e.kind == "expansion",
            e.event_date >= since,
            e.event_date <= until,
            e.arr_delta >= Decimal(str(settings.major_expansion_arr)),
        )
        .group_by(e.customer_id, e.event_date, customers.c.name, customers.c.segment)
        .order_by(e.event_date, e.customer_id)
    )
    for row in conn.execute(q):
        deals = "" if row.n == 1 else f" in {row.n} deals"
        yield Fired(
            rule="major_expansion_closed",
            severity="info",
            subject_type="customer",
            subject_id=row.customer_id,
            fired_on=row.event_date,
            message=(f"{row.name} ({row.segment}) expanded by {_usd(row.added)} ARR{deals}."),
        )


RULES = (
    large_account_critical,
    csm_over_capacity,
    renewal_at_risk_30d,
    unexpected_churn,
    major_expansion_closed,
)


def evaluate(
    conn: Connection,
    since: date,
    until: date,
    settings: AlertSettings | None = None,
    *,
    plan: Plan = DIRECT,
) -> list[Fired]:
    """Every alert the rules fire on the days of [since, until], by day then rule; a
    refresh passes its ``plan``, so the rules read what it has computed already."""
    settings = settings or AlertSettings()
    fired = [f for rule in RULES for f in rule(conn, since, until, settings, plan)]
    order = {rule.__name__: i for i, rule in enumerate(RULES)}
    return sorted(fired, key=lambda f: (f.fired_on, order[f.rule], f.subject_id))
