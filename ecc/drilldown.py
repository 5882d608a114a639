"""Account-level drill-down: filtered account lists and one account's full picture.

The numbers use the same definitions as the dashboards (``ecc.metrics.state``): ARR at
the as-of date, latest health score on or before it, category by the 40/70 thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, desc, func, select

from .errors import ConfigError
from .metrics.context import money
from .metrics.plan import Plan
from .metrics.renewals import bucket_clauses
from .metrics.scope import Scope, scope_clauses
from .metrics.state import arr_at, category, category_of, customer_state, open_at
from .schema import (
    activities,
    arr_events,
    csms,
    customers,
    expansion_opportunities,
    health_scores,
    renewals,
    save_plays,
    support_tickets,
)

ListKind = Literal["all", "at_risk", "critical", "healthy"]
LIST_KINDS: dict[str, str] = {
    "all": "All active accounts",
    "at_risk": "Accounts at risk (health below 70)",
    "critical": "Critical accounts (health below 40)",
    "healthy": "Healthy accounts (health 70 or more)",
}
LIST_LIMIT = 500


def _account_query(plan: Plan, d: date, scope: Scope, kind: str) -> tuple[Any, Any]:
    """(the query of the accounts of list ``kind`` at d in scope, the customer state)."""
    if kind not in LIST_KINDS:
        raise ConfigError(f"unknown list {kind!r}; choose one of: {', '.join(LIST_KINDS)}")
    st = customer_state(plan, d, scope, name="acct")
    cat = category_of(st.c.score)
    q = select(st, cat.label("category"), csms.c.name.label("csm_name")).select_from(
        st.join(csms, csms.c.csm_id == st.c.csm_id)
    )
    if kind == "at_risk":
        q = q.where(cat.in_(["at_risk", "critical"]))
    elif kind in ("critical", "healthy"):
        q = q.where(cat == kind)
    return q, st


def account_totals(
    plan: Plan, conn: Connection, d: date, scope: Scope, kind: str = "all"
) -> dict[str, Any]:
    """How many accounts list ``kind`` holds at d in scope, and their ARR:
    ``{total, total_arr}`` (e.g. the list at the comparison period's end)."""
    q, _ = _account_query(plan, d, scope, kind)
    total = conn.execute(select(func.count(), func.sum(q.subquery().c.arr))).one()
    return {"total": int(total[0]), "total_arr": money(total[1])}


def account_list(
    plan: Plan,
    conn: Connection,
    d: date,
    scope: Scope,
    kind: str = "all",
    limit: int | None = LIST_LIMIT,
) -> dict[str, Any]:
    """Active accounts at d in scope, largest ARR first: ``{rows, total, total_arr, shown}``
    — the first ``limit`` rows (all of them with None: an export).

    Each row also says what a VP allocating saves needs: the account's next open renewal
    at d (the earliest due, late ones included), whether a save play is open at d, and
    the last activity logged for it on or before d."""
    q, st = _account_query(plan, d, scope, kind)
    totals = account_totals(plan, conn, d, scope, kind)
    top = q.order_by(desc(st.c.arr), st.c.score, st.c.customer_id).limit(limit)
    rows = conn.execute(_worklist(top.subquery("top"), d)).all()
    return {
        "title": LIST_KINDS[kind],
        **totals,
        "shown": len(rows),
        "rows": [
            {
                "customer_id": r.customer_id,
                "name": r.name,
                "segment": r.segment,
                "csm_id": r.csm_id,
                "csm_name": r.csm_name,
                "arr": money(r.arr),
                "score": None if r.score is None else float(r.score),
                "category": r.category,
                "renewal_due": _iso(r.renewal_due),
                "save_play": bool(r.save_play),
                "last_touch": _iso(r.last_touch),
            }
            for r in rows
        ],
    }


def _worklist(top: Any, d: date) -> Any:
    """``top``'s rows, in their order, with the next open renewal's due date, whether a
    save play is open and the last activity, each at d (evaluated for these rows only)."""
    r, sp, a = renewals.c, save_plays.c, activities.c
    next_due = (
        select(func.min(r.due_on))
        .where(r.customer_id == top.c.customer_id, open_at(r.closed_on, d))
        .scalar_subquery()
    )
    play = (
        select(func.count())
        .where(sp.customer_id == top.c.customer_id, open_at(sp.closed_on, d, sp.opened_on))
        .scalar_subquery()
    )
    touch = (
        select(func.max(a.occurred_on))
        .where(a.customer_id == top.c.customer_id, a.occurred_on <= d)
        .scalar_subquery()
    )
    return select(
        top,
        next_due.label("renewal_due"),
        play.label("save_play"),
        touch.label("last_touch"),
    ).order_by(desc(top.c.arr), top.c.score, top.c.customer_id)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def account_at(conn: Connection, customer_id: str, d: date) -> dict[str, Any]:
    """One account's ARR and health score at d (``{arr, score}``; score None: unscored),
    e.g. at the comparison period's end."""
    arr = conn.execute(
        select(func.sum(arr_events.c.arr_delta)).where(
            arr_events.c.customer_id == customer_id, arr_events.c.event_date <= d
        )
    ).scalar()
    score = conn.execute(
        select(health_scores.c.score)
        .where(health_scores.c.customer_id == customer_id, health_scores.c.scored_on <= d)
        .order_by(desc(health_scores.c.scored_on))
        .limit(1)
    ).scalar()
    return {"arr": money(arr), "score": None if score is None else float(score)}


def account_detail(
    conn: Connection, customer_id: str, end: date, recent: int | None = 20
) -> dict[str, Any]:
    """Everything about one account as of ``end``: profile, ARR and health history,
    renewals, opportunities, save plays, and the ``recent`` latest activities and tickets
    (all of them with None: an export)."""
    c = conn.execute(
        select(customers, csms.c.name.label("csm_name"))
        .select_from(customers.join(csms, csms.c.csm_id == customers.c.csm_id))
        .where(customers.c.customer_id == customer_id)
    ).first()
    if c is None:
        raise ConfigError(f"customer {customer_id!r} does not exist")
    ledger = conn.execute(
        select(arr_events)
        .where(arr_events.c.customer_id == customer_id, arr_events.c.event_date <= end)
        .order_by(arr_events.c.event_date, arr_events.c.event_id)
    ).all()
    running = []
    balance = 0.0
    for e in ledger:
        balance = round(balance + float(e.arr_delta), 2)
        running.append(
            {
                "date": e.event_date.isoformat(),
                "kind": e.kind,
                "delta": money(e.arr_delta),
                "arr": balance,
                "expansion_type": e.expansion_type,
            }
        )
    scores = conn.execute(
        select(health_scores.c.scored_on, health_scores.c.score)
        .where(
            health_scores.c.customer_id == customer_id,
            health_scores.c.scored_on <= end,
            health_scores.c.scored_on > end - timedelta(days=366),
        )
        .order_by(health_scores.c.scored_on)
    ).all()
    latest = conn.execute(
        select(health_scores.c.score, health_scores.c.scored_on)
        .where(health_scores.c.customer_id == customer_id, health_scores.c.scored_on <= end)
        .order_by(desc(health_scores.c.scored_on))
        .limit(1)
    ).first()
    score = None if latest is None else float(latest.score)
    rn = conn.execute(
        select(renewals)
        .where(renewals.c.customer_id == customer_id)
        .order_by(desc(renewals.c.due_on))
    ).all()
    opps = conn.execute(
        select(expansion_opportunities)
        .where(
            expansion_opportunities.c.customer_id == customer_id,
            expansion_opportunities.c.created_on <= end,
        )
        .order_by(desc(expansion_opportunities.c.created_on))
    ).all()
    plays = conn.execute(
        select(save_plays)
        .where(save_plays.c.customer_id == customer_id, save_plays.c.opened_on <= end)
        .order_by(desc(save_plays.c.opened_on))
    ).all()
    acts = conn.execute(
        select(activities)
        .where(activities.c.customer_id == customer_id, activities.c.occurred_on <= end)
        .order_by(desc(activities.c.occurred_on), activities.c.activity_id)
        .limit(recent)
    ).all()
    tickets = conn.execute(
        select(support_tickets)
        .where(
            support_tickets.c.customer_id == customer_id,
            # opened on or before ``end``: before the next midnight (a timestamp compared
            # with a timestamp, on both databases)
            support_tickets.c.opened_at < datetime.combine(end + timedelta(days=1), time.min),
        )
        .order_by(desc(support_tickets.c.opened_at))
        .limit(recent)
    ).all()
    return {
        "customer_id": c.customer_id,
        "name": c.name,
        "segment": c.segment,
        "csm_id": c.csm_id,
        "csm_name": c.csm_name,
        "signup_date": _iso(c.signup_date),
        "onboarded_on": _iso(c.onboarded_on),
        "industry": c.industry,
        "region": c.region,
        "arr": balance,
        "score": score,
        "category": category(score),
        "ledger": running,
        "health": [{"date": s.scored_on.isoformat(), "score": float(s.score)} for s in scores],
        "renewals": [
            {
                "renewal_id": r.renewal_id,
                "due_on": _iso(r.due_on),
                "arr": money(r.arr),
                "forecast_status": r.forecast_status,
                "outcome": r.outcome if r.closed_on is not None and r.closed_on <= end else None,
                "closed_on": _iso(r.closed_on) if r.closed_on and r.closed_on <= end else None,
                "renewed_arr": None if r.renewed_arr is None else money(r.renewed_arr),
            }
            for r in rn
        ],
        "opportunities": [
            {
                "opportunity_id": o.opportunity_id,
                "type": o.type,
                "stage": o.stage,
                "amount": money(o.amount),
                "expected_close_on": _iso(o.expected_close_on),
                "outcome": o.outcome if o.closed_on is not None and o.closed_on <= end else None,
            }
            for o in opps
        ],
        "save_plays": [
            {
                "play_id": p.play_id,
                "opened_on": _iso(p.opened_on),
                "csm_id": p.csm_id,
                "outcome": p.outcome if p.closed_on is not None and p.closed_on <= end else None,
                "closed_on": _iso(p.closed_on) if p.closed_on and p.closed_on <= end else None,
            }
            for p in plays
        ],
        "activities": [
            {
                "date": _iso(a.occurred_on),
                "kind": a.kind,
                "csm_id": a.csm_id,
                "completed": a.completed,
                "response_hours": a.response_hours,
            }
            for a in acts
        ],
        "tickets": [
            {
                "ticket_id": t.ticket_id,
                "opened_at": t.opened_at.isoformat(sep=" ", timespec="minutes"),
                "priority": t.priority,
                "resolved_at": None
                if t.resolved_at is None
                else t.resolved_at.isoformat(sep=" ", timespec="minutes"),
            }
            for t in tickets
        ],
    }


class CustomerRef(NamedTuple):
    """What a page shows for a customer it only knows by id."""

    name: str
    segment: str
    csm_id: str


#: ids per query (well under the bind-parameter limits of SQLite and PostgreSQL)
_REF_CHUNK = 500


def customer_refs(conn: Connection, ids: Iterable[str]) -> dict[str, CustomerRef]:
    """customer_id -> (name, segment, current csm_id) for the given ids, one row per id.

    Unknown ids are absent. Cost grows with the number of ids asked for (primary-key
    lookups, ``_REF_CHUNK`` ids per query).
    """
    wanted = sorted(set(ids))
    out: dict[str, CustomerRef] = {}
    for i in range(0, len(wanted), _REF_CHUNK):
        chunk = wanted[i : i + _REF_CHUNK]
        q = select(
            customers.c.customer_id, customers.c.name, customers.c.segment, customers.c.csm_id
        ).where(customers.c.customer_id.in_(chunk))
        for r in conn.execute(q):
            out[r.customer_id] = CustomerRef(r.name, r.segment, r.csm_id)
    return out


#: The renewal lists behind the renewal counts (the buckets of ``renewals``, and all
#: open renewals due within 90 days: a CSM's "Renewals 90d" on the workload page).
RENEWAL_LISTS: dict[str, str] = {
    "late": "Late renewals (open, due before the as-of date)",
    "d30": "Renewals due in the next 30 days",
    "d60": "Renewals due in 31 to 60 days",
    "d90": "Renewals due in 61 to 90 days",
    "due90": "Renewals due in the next 90 days",
}


def renewal_list(conn: Connection, end: date, scope: Scope, kind: str) -> dict[str, Any]:
    """The open renewals of a list at ``end`` in scope, soonest due first (the latest
    first for late ones): customer, CSM, due date, ARR, forecast status, and days left
    (negative: days late). All of them: ``{title, rows, total, total_arr}``."""
    if kind not in RENEWAL_LISTS:
        raise ConfigError(
            f"unknown renewal list {kind!r}; choose one of: {', '.join(RENEWAL_LISTS)}"
        )
    buckets = bucket_clauses(end)
    r = renewals.c
    due = (
        buckets[kind]
        if kind != "due90"
        else (r.due_on > end) & (r.due_on <= end + timedelta(days=90))
    )
    q = (
        select(
            r.renewal_id,
            r.customer_id,
            r.due_on,
            r.arr,
            r.forecast_status,
            customers.c.name,
            customers.c.segment,
            customers.c.csm_id,
            csms.c.name.label("csm_name"),
        )
        .select_from(
            renewals.join(customers, customers.c.customer_id == r.customer_id).join(
                csms, csms.c.csm_id == customers.c.csm_id
            )
        )
        .where(open_at(r.closed_on, end), due, *scope_clauses(scope))
        .order_by(desc(r.due_on) if kind == "late" else r.due_on, r.renewal_id)
    )
    found = conn.execute(q).all()
    rows = [
        {
            "renewal_id": row.renewal_id,
            "customer_id": row.customer_id,
            "name": row.name,
            "segment": row.segment,
            "csm_id": row.csm_id,
            "csm_name": row.csm_name,
            "due_on": row.due_on.isoformat(),
            "days_left": (row.due_on - end).days,
            "arr": money(row.arr),
            "forecast_status": row.forecast_status,
        }
        for row in found
    ]
    return {
        "title": RENEWAL_LISTS[kind],
        "total": len(rows),
        "total_arr": money(sum((row.arr for row in found), Decimal(0))),
        "rows": rows,
    }


#: The save-play lists behind the risk page's counts.
SAVE_PLAY_LISTS: dict[str, str] = {
    "active": "Save plays open at the as-of date",
    "saved": "Save plays closed as saved in the period",
    "lost": "Save plays closed as lost in the period",
}


def save_play_list(
    conn: Connection, start: date, end: date, scope: Scope, kind: str
) -> dict[str, Any]:
    """The save plays of a list (``active``: open at end; ``saved``/``lost``: closed so
    in [start, end]) of customers in scope, the largest ARR at stake first: customer,
    the customer's ARR at end, opened and closed dates, status and owner (the play's
    CSM). All of them: ``{title, rows, total, total_arr}``."""
    if kind not in SAVE_PLAY_LISTS:
        raise ConfigError(
            f"unknown save-play list {kind!r}; choose one of: {', '.join(SAVE_PLAY_LISTS)}"
        )
    sp = save_plays.c
    which = (
        open_at(sp.closed_on, end, sp.opened_on)
        if kind == "active"
        else (sp.outcome == kind) & sp.closed_on.between(start, end)
    )
    at_stake = arr_at(end, "stake")
    owner = csms.alias("owner")
    q = (
        select(
            sp.play_id,
            sp.customer_id,
            sp.opened_on,
            sp.closed_on,
            sp.outcome,
            customers.c.name,
            customers.c.segment,
            sp.csm_id,
            owner.c.name.label("owner_name"),
            func.coalesce(at_stake.c.arr, 0).label("arr"),
        )
        .select_from(
            save_plays.join(customers, customers.c.customer_id == sp.customer_id)
            .join(owner, owner.c.csm_id == sp.csm_id)
            .outerjoin(at_stake, at_stake.c.customer_id == sp.customer_id)
        )
        .where(which, *scope_clauses(scope))
        .order_by(desc("arr"), sp.play_id)
    )
    found = conn.execute(q).all()
    return {
        "title": SAVE_PLAY_LISTS[kind],
        "total": len(found),
        "total_arr": money(sum((Decimal(row.arr) for row in found), Decimal(0))),
        "rows": [
            {
                "play_id": row.play_id,
                "customer_id": row.customer_id,
                "name": row.name,
                "segment": row.segment,
                "csm_id": row.csm_id,
                "owner_name": row.owner_name,
                "arr": money(row.arr),
                "opened_on": row.opened_on.isoformat(),
                "closed_on": _iso(row.closed_on),
                "status": "active" if kind == "active" else kind,
            }
            for row in found
        ],
    }
