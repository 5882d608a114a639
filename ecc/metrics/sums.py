"""Sums over the customer state that several families share: book summaries,
retention sums over a cohort, and ledger movements.

Each runs one grouped query for its filter; inside a refresh (``plan.shares``) one
query per date at the (segment, CSM) grain serves every filter and grouping.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select
from sqlalchemy import union_all as sql_union_all

from ..schema import arr_events, customers
from ..schema import month_end_snapshots as snap
from .grouped import GRAIN, roll_up
from .plan import Plan
from .scope import Scope, scope_clauses
from .state import ZERO, arr_state, category_of, customer_state


@dataclass(frozen=True)
class Summary:
    """Counts and sums over a set of active customers at one date."""

    customers: int = 0
    arr: Decimal = ZERO
    score_sum: Decimal = ZERO
    scored: int = 0
    healthy: int = 0
    at_risk: int = 0
    critical: int = 0

    @property
    def avg_health(self) -> float | None:
        return None if self.scored == 0 else float(self.score_sum / self.scored)

    @property
    def distribution(self) -> dict[str, float | None]:
        if self.scored == 0:
            return {"healthy": None, "at_risk": None, "critical": None}
        return {
            "healthy": self.healthy / self.scored,
            "at_risk": self.at_risk / self.scored,
            "critical": self.critical / self.scored,
        }


def summarize(
    plan: Plan, conn: Connection, d: date, scope: Scope, by: str | None = None
) -> dict[str, Summary]:
    """Active customers at d in scope, summed overall (key ``""``) or by ``segment``/``csm_id``."""
    if plan.shares:  # a refresh: one query per date at the finest grain, rolled up
        grain = plan.shared(("summaries", d), lambda: _summaries(plan, conn, d, Scope(), GRAIN))
        return roll_up(plan, grain, scope, by, add_summaries)
    found = _summaries(plan, conn, d, scope, (by,) if by else ())
    return {(k[0] if by else ""): v for k, v in found.items()}


def _summaries(
    plan: Plan, conn: Connection, d: date, scope: Scope, keys: tuple[str, ...]
) -> dict[tuple[str, ...], Summary]:
    st = customer_state(plan, d, scope)
    cat = category_of(st.c.score)
    cols: list[Any] = [
        func.count().label("customers"),
        func.sum(st.c.arr).label("arr"),
        func.sum(st.c.score).label("score_sum"),
        func.count(st.c.score).label("scored"),
        func.sum(case((cat == "healthy", 1), else_=0)).label("healthy"),
        func.sum(case((cat == "at_risk", 1), else_=0)).label("at_risk"),
        func.sum(case((cat == "critical", 1), else_=0)).label("critical"),
    ]
    group = [st.c[k] for k in keys]
    q = select(*group, *cols).select_from(st)
    if group:
        q = q.group_by(*group)
    out: dict[tuple[str, ...], Summary] = {}
    for row in conn.execute(q):
        if row.customers == 0:
            continue
        out[tuple(row[: len(keys)])] = Summary(
            customers=int(row.customers),
            arr=row.arr if row.arr is not None else ZERO,
            score_sum=row.score_sum if row.score_sum is not None else ZERO,
            scored=int(row.scored),
            healthy=int(row.healthy or 0),
            at_risk=int(row.at_risk or 0),
            critical=int(row.critical or 0),
        )
    return out


def add_summaries(a: Summary, b: Summary) -> Summary:
    return Summary(
        customers=a.customers + b.customers,
        arr=a.arr + b.arr,
        score_sum=a.score_sum + b.score_sum,
        scored=a.scored + b.scored,
        healthy=a.healthy + b.healthy,
        at_risk=a.at_risk + b.at_risk,
        critical=a.critical + b.critical,
    )


# ---------------------------------------------------------------- retention sums


@dataclass(frozen=True)
class RetentionSums:
    """Over the start cohort C (active at d0): B, sum of min(ARR(end), ARR(d0)), sum of ARR(end)."""

    base: Decimal = ZERO
    kept: Decimal = ZERO
    ending: Decimal = ZERO

    @property
    def grr(self) -> float | None:
        return None if self.base == 0 else float(self.kept / self.base)

    @property
    def nrr(self) -> float | None:
        return None if self.base == 0 else float(self.ending / self.base)


def _retention_columns(start_arr: Any, end_arr_or_null: Any) -> list[Any]:
    """base, kept and ending sums over a cohort row set (end ARR NULL: not active at end)."""
    zero = literal(ZERO, type_=arr_events.c.arr_delta.type)
    end_arr = func.coalesce(end_arr_or_null, zero)
    kept = case((end_arr < start_arr, end_arr), else_=start_arr)
    return [
        func.sum(start_arr).label("base"),
        func.sum(kept).label("kept"),
        func.sum(end_arr).label("ending"),
    ]


def retention_series(
    plan: Plan, conn: Connection, pairs: Sequence[tuple[date, date]], scope: Scope
) -> list[RetentionSums]:
    """Retention sums for each (d0, end) pair, in order. Pairs whose two dates both have a
    month-end snapshot are answered together by one query over the snapshots (a TTM
    trend asks for a dozen); the others one by one."""
    snaps = plan.snapshots
    done: dict[tuple[date, date], RetentionSums] = {}
    batch = [p for p in dict.fromkeys(pairs) if p[0] in snaps and p[1] in snaps]
    if len(batch) > 1 and plan.sharing is not None:
        # a refresh: each pair once for every filter and every series it is part of (the
        # trends of overlapping periods share most of their month ends); the pairs not
        # computed yet in one query
        grains = plan.sharing.shared_each(
            [("retention-pair", *p) for p in batch],
            lambda keys: _pair_grains(conn, [(k[1], k[2]) for k in keys]),  # type: ignore[index]
        )
        for key, part in grains.items():
            p = (key[1], key[2])  # type: ignore[index]
            done[p] = roll_up(plan, part, scope, None, add_retention).get("", RetentionSums())
    elif len(batch) > 1:
        done.update(_series(conn, batch, scope, ()))
    out: list[RetentionSums] = []
    for p in pairs:
        if p not in done:
            done[p] = retention_sums(plan, conn, p[0], p[1], scope).get("", RetentionSums())
        out.append(done[p])
    return out


def _pair_grains(
    conn: Connection, batch: list[tuple[date, date]]
) -> dict[Hashable, dict[tuple[Any, ...], RetentionSums]]:
    """Per pair ("retention-pair", d0, end): (segment, csm_id) -> retention sums, for
    every filter to roll up."""
    out: dict[Hashable, dict[tuple[Any, ...], RetentionSums]] = {
        ("retention-pair", *p): {} for p in batch
    }
    for k, v in _series(conn, batch, Scope(), GRAIN, keyed=True).items():
        out[("retention-pair", k[0], k[1])][k[2:]] = v
    return out


def _series(
    conn: Connection,
    batch: list[tuple[date, date]],
    scope: Scope,
    keys: tuple[str, ...],
    *,
    keyed: bool = False,
) -> dict[Any, RetentionSums]:
    """One query over the snapshots: retention sums per (d0, end) pair [and ``keys``]."""
    pair = sql_union_all(
        *[select(literal(a).label("d0"), literal(b).label("d1")) for a, b in batch]
    ).subquery("pairs")
    s0, s1 = snap.alias("ret_p0"), snap.alias("ret_p1")
    group = [customers.c[k] for k in keys]
    q = (
        select(pair.c.d0, pair.c.d1, *group, *_retention_columns(s0.c.arr, s1.c.arr))
        .select_from(
            pair.join(s0, s0.c.month_end == pair.c.d0)
            .join(customers, customers.c.customer_id == s0.c.customer_id)
            .outerjoin(
                s1,
                and_(
                    s1.c.customer_id == s0.c.customer_id,
                    s1.c.month_end == pair.c.d1,
                    s1.c.arr > 0,
                ),
            )
        )
        .where(s0.c.arr > 0, *scope_clauses(scope))
        .group_by(pair.c.d0, pair.c.d1, *group)
    )
    out: dict[Any, RetentionSums] = {}
    for row in conn.execute(q):
        pair_key = (_as_date(row.d0), _as_date(row.d1))
        key = (*pair_key, *row[2 : 2 + len(keys)]) if keyed else pair_key
        out[key] = RetentionSums(row.base, row.kept, row.ending)
    if not keyed:
        for p in batch:
            out.setdefault(p, RetentionSums())
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def retention_sums(
    plan: Plan, conn: Connection, d0: date, end: date, scope: Scope, by: str | None = None
) -> dict[str, RetentionSums]:
    """GRR/NRR sums for the cohort active at d0, overall (key ``""``) or by a customers column.

    Reads the customer state at d0 and at end (snapshots or the plan's state tables): a
    customer of the cohort that is not active at end has ARR 0 there.
    """
    if plan.shares:  # a refresh: one query per pair of dates at the finest grain
        grain = plan.shared(
            ("retention", d0, end), lambda: _retention_sums(plan, conn, d0, end, Scope(), GRAIN)
        )
        return roll_up(plan, grain, scope, by, add_retention)
    found = _retention_sums(plan, conn, d0, end, scope, (by,) if by else ())
    return {(k[0] if by else ""): v for k, v in found.items()}


def _retention_sums(
    plan: Plan, conn: Connection, d0: date, end: date, scope: Scope, keys: tuple[str, ...]
) -> dict[tuple[str, ...], RetentionSums]:
    snaps = plan.snapshots
    if d0 in snaps and end in snaps:
        # both month ends: one join of the snapshot table with itself (SQLite cannot
        # flatten the two joined subqueries below and would compare every pair of rows)
        found = _series(conn, [(d0, end)], scope, keys, keyed=True)
        return {k[2:]: v for k, v in found.items()}
    s0 = arr_state(plan, d0, scope, name="ret_s0")
    s1 = arr_state(plan, end, scope, name="ret_s1")
    group = [s0.c[k] for k in keys]
    q = select(*group, *_retention_columns(s0.c.arr, s1.c.arr)).select_from(
        s0.outerjoin(s1, s1.c.customer_id == s0.c.customer_id)
    )
    if group:
        q = q.group_by(*group)
    out: dict[tuple[str, ...], RetentionSums] = {}
    for row in conn.execute(q):
        if row.base is None:
            continue
        out[tuple(row[: len(keys)])] = RetentionSums(row.base, row.kept, row.ending)
    return out


def add_retention(a: RetentionSums, b: RetentionSums) -> RetentionSums:
    return RetentionSums(a.base + b.base, a.kept + b.kept, a.ending + b.ending)


def movement_sums(
    plan: Plan, conn: Connection, start: date, end: date, scope: Scope, by: str | None = None
) -> dict[tuple[str, str], Decimal]:
    """Sum of arr_delta by (group key, kind) for events in [start, end]."""
    if plan.shares:  # a refresh: one query per period at the finest grain
        grain = plan.shared(
            ("movement", start, end), lambda: _movement_sums(conn, start, end, Scope(), GRAIN)
        )
        out: dict[tuple[str, str], Decimal] = {}
        for kind in {k[2] for k in grain}:
            part = {k: v for k, v in grain.items() if k[2] == kind}
            for key, total in roll_up(plan, part, scope, by, _add_decimal).items():
                out[(key, kind)] = total
        return out
    found = _movement_sums(conn, start, end, scope, (by,) if by else ())
    return {((k[0] if by else ""), k[-1]): v for k, v in found.items()}


def _add_decimal(a: Decimal, b: Decimal) -> Decimal:
    return a + b


def _movement_sums(
    conn: Connection, start: date, end: date, scope: Scope, keys: tuple[str, ...]
) -> dict[tuple[str, ...], Decimal]:
    group = [customers.c[k] for k in keys]
    q = (
        select(*group, arr_events.c.kind, func.sum(arr_events.c.arr_delta).label("s"))
        .select_from(
            arr_events.join(customers, customers.c.customer_id == arr_events.c.customer_id)
        )
        .where(
            arr_events.c.event_date >= start, arr_events.c.event_date <= end, *scope_clauses(scope)
        )
        .group_by(*group, arr_events.c.kind)
    )
    return {tuple(row[: len(keys) + 1]): row.s for row in conn.execute(q)}
