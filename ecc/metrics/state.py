"""SQL building blocks shared by every metric family.

Each function returns a SQLAlchemy Core selectable or runs one aggregate query;
no metric module writes its own version of "ARR at d" or "health at d".

- ARR_c(d): the running sum of ``arr_events.arr_delta`` with ``event_date <= d``.
- health of c at d: the latest ``score`` with ``scored_on <= d`` (NULL: unscored).
- active at d: ARR_c(d) > 0.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Select,
    String,
    Subquery,
    Table,
    Text,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy import union_all as sql_union_all

from ..config import AT_RISK_MIN, HEALTHY_MIN
from ..schema import (
    activities,
    arr_events,
    customers,
    health_scores,
    kept_state_rows,
    support_tickets,
)
from .reuse import active as reuse_active
from .reuse import expect, expect_by_month, scratch, shared, shared_by_month, shared_each

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Scope:
    """Filters (METRICS.md, Filters): a segment and/or one CSM's current book."""

    segment: str | None = None
    csm_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"segment": self.segment, "csm": self.csm_id}


def scope_clauses(scope: Scope, cust: Any = customers) -> list[ColumnElement[bool]]:
    """WHERE clauses that restrict a query joined to ``customers`` to the scope."""
    clauses: list[ColumnElement[bool]] = []
    if scope.segment is not None:
        clauses.append(cust.c.segment == scope.segment)
    if scope.csm_id is not None:
        clauses.append(cust.c.csm_id == scope.csm_id)
    return clauses


def scoped_customer_ids(scope: Scope) -> Select[Any]:
    """``SELECT customer_id FROM customers WHERE <scope>``, for IN (...) filters."""
    return select(customers.c.customer_id).where(*scope_clauses(scope))


def in_scope(customer_id_col: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """Clauses restricting a table with a customer_id column to the scope (none when unscoped)."""
    if scope.segment is None and scope.csm_id is None:
        return []
    return [customer_id_col.in_(scoped_customer_ids(scope))]


#: Queries over a date range whose values, per group, add up over disjoint ranges
#: (counts of rows dated in the range), with how to add two values.
_ADD_OVER_DAYS: dict[Callable[..., Any], Callable[[Any, Any], Any]] = {}

Q = TypeVar("Q", bound=Callable[..., Any])


def additive_over_days(add: Callable[[Any, Any], Any]) -> Callable[[Q], Q]:
    """Mark a query whose values add up over disjoint date ranges, by ``add``: inside a
    refresh it runs a month at a time (:func:`ecc.metrics.reuse.shared_by_month`), so a
    closed month is read once and kept, and a new day re-reads only its month."""

    def mark(query: Q) -> Q:
        _ADD_OVER_DAYS[query] = add
        return query

    return mark


def adder_over_days(query: Callable[..., Any]) -> Callable[[Any, Any], Any] | None:
    """How ``query``'s values add up over days, if they do (:func:`additive_over_days`)."""
    return _ADD_OVER_DAYS.get(query)


def by_segment(
    query: Callable[..., dict[str, V]], conn: Any, *args: Any, scope: Scope
) -> dict[str, V]:
    """``query(conn, *args, scope)``, a query keyed by customer segment, for a filter.

    Inside a refresh it runs once per ``args`` for every segment and each segment filter
    takes its group; outside a refresh, or under a CSM filter, it runs for the filter.
    """
    if not reuse_active() or scope.csm_id is not None:
        return query(conn, *args, scope)
    key = (query.__module__, query.__qualname__)
    add = adder_over_days(query)
    if add is not None:
        start, end = args
        every: dict[str, V] = shared_by_month(
            key, start, end, lambda a, b: query(conn, a, b, Scope()), add
        )
    else:
        every = shared((*key, *args), lambda: query(conn, *args, Scope()))
    return {k: v for k, v in every.items() if scope.segment in (None, k)}


def expect_by_segment(
    query: Callable[..., dict[str, Any]], *args: Any, submit: Callable[..., Any]
) -> None:
    """Inside a refresh: have ``submit`` (a worker with its own connection) run the
    segment-grouped ``query(conn, *args, Scope())`` that :func:`by_segment` will ask for."""
    if not reuse_active():
        return
    key = (query.__module__, query.__qualname__)
    if adder_over_days(query) is not None:
        start, end = args
        expect_by_month(key, start, end, lambda a, b: submit(query, a, b, Scope()))
    else:
        expect((*key, *args), lambda: submit(query, *args, Scope()))


#: The finest grain of the additive sums a refresh shares: every filter (a segment, one
#: CSM's current book) and every grouping (by segment, by CSM) is a roll-up of it.
GRAIN = ("segment", "csm_id")

V = TypeVar("V")


def roll_up(
    grain: dict[tuple[str, ...], V],
    scope: Scope,
    by: str | None,
    add: Callable[[V, V], V],
) -> dict[str, V]:
    """Sums at the (segment, csm_id, ...) grain rolled up to a scope, overall or ``by``.

    Inside a refresh each roll-up of a grain is made once (several areas ask for the
    same one); the memo holds the grain itself, so its id cannot be reused meanwhile."""
    memo = scratch()
    if memo is not None:
        key = ("roll-up", id(grain), scope, by, add)
        hit = memo.get(key)
        if hit is None or hit[0] is not grain:
            hit = memo[key] = (grain, _roll_up(grain, scope, by, add))
        return dict(hit[1])
    return _roll_up(grain, scope, by, add)


def _roll_up(
    grain: dict[tuple[str, ...], V],
    scope: Scope,
    by: str | None,
    add: Callable[[V, V], V],
) -> dict[str, V]:
    out: dict[str, V] = {}
    for (segment, csm_id, *_rest), value in grain.items():
        if scope.segment is not None and segment != scope.segment:
            continue
        if scope.csm_id is not None and csm_id != scope.csm_id:
            continue
        key = "" if by is None else (segment if by == "segment" else csm_id)
        out[key] = add(out[key], value) if key in out else value
    return out


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


def _state_select(d: date, scope: Scope, *, active_only: bool, name: str) -> Select[Any]:
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
    d: date, scope: Scope, *, active_only: bool = True, name: str = "st"
) -> Subquery:
    """Per customer in scope at d: customer_id, name, segment, csm_id, arr, score.

    ``active_only`` keeps customers with ARR_c(d) > 0 (the portfolio at d). Inside
    :func:`state_memo` the state of each date is computed once and read back from a
    temporary table by every family that asks for it.
    """
    if active_only and d in _SNAPSHOTS.get():
        return _snapshot_state(d, scope, name)
    memo = _MEMO.get()
    if memo is not None and memo.usable:
        t = memo.table_for(d, scope)
        q = select(t.c.customer_id, t.c.name, t.c.segment, t.c.csm_id, t.c.arr, t.c.score).where(
            *scope_clauses(scope, t)
        )
        if active_only:
            q = q.where(t.c.arr > 0)
        return q.subquery(name)
    # OFFSET 0 is an optimization fence: without it both databases fold this subquery into
    # the outer query and run the correlated score lookup once per use of ``score``.
    return _state_select(d, scope, active_only=active_only, name=name).offset(0).subquery(name)


def _snapshot_state(d: date, scope: Scope, name: str) -> Subquery:
    """Customer state at a snapshotted month end: ARR and health from the snapshot,
    name, segment and owner from ``customers`` (the metrics use current ownership)."""
    from ..schema import month_end_snapshots as snap

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


def arr_state(d: date, scope: Scope, name: str = "as") -> Subquery:
    """Per active customer in scope at d: customer_id, segment, csm_id, arr — like
    :func:`customer_state` but without the health lookup when neither a snapshot nor
    this computation's memo holds d (ARR alone is one pass over the small ledger)."""
    memo = _MEMO.get()
    if d in _SNAPSHOTS.get() or (memo is not None and memo.usable):
        st = customer_state(d, scope, name=f"{name}_st")
        return select(st.c.customer_id, st.c.segment, st.c.csm_id, st.c.arr).subquery(name)
    a = arr_at(d, f"{name}_arr")
    return (
        select(customers.c.customer_id, customers.c.segment, customers.c.csm_id, a.c.arr)
        .select_from(a.join(customers, customers.c.customer_id == a.c.customer_id))
        .where(a.c.arr > 0, *scope_clauses(scope))
        .subquery(name)
    )


def scores_at(d: date, scope: Scope, name: str = "sc") -> Subquery:
    """Per customer in scope with a health score at d (active or not): customer_id,
    segment, csm_id, score — from the month-end snapshot, this computation's memo, or the source."""
    if d in _SNAPSHOTS.get():
        from ..schema import month_end_snapshots as snap

        return (
            select(customers.c.customer_id, customers.c.segment, customers.c.csm_id, snap.c.score)
            .select_from(snap.join(customers, customers.c.customer_id == snap.c.customer_id))
            .where(snap.c.month_end == d, snap.c.score.is_not(None), *scope_clauses(scope))
            .subquery(name)
        )
    memo = _MEMO.get()
    if memo is not None and memo.usable:
        t = memo.table_for(d, scope)
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


#: Month ends whose snapshot may be read by the computation in progress.
_SNAPSHOTS: ContextVar[frozenset[date]] = ContextVar("ecc_snapshots", default=frozenset())


@contextmanager
def use_snapshots(conn: Connection, *, enabled: bool = True) -> Iterator[None]:
    """Within this block, read ARR and health at snapshotted month ends from the snapshots
    — only when they were verified against the data version now in the database.
    ``enabled=False`` reads the source tables for every date."""
    from ..snapshots import usable_snapshot_dates

    if enabled and _SNAPSHOTS.get():
        yield
        return
    token = _SNAPSHOTS.set(usable_snapshot_dates(conn) if enabled else frozenset())
    try:
        yield
    finally:
        _SNAPSHOTS.reset(token)


class _StateMemo:
    """Customer state per date for one computation, in temporary tables of this connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.usable = True
        self.metadata = MetaData()
        self.tables: dict[tuple[date, Scope], Table] = {}
        self.tag = uuid.uuid4().hex[:8]

    def table_for(self, d: date, scope: Scope) -> Table:
        """The state at d of the customers in ``scope`` (or of everyone, when that table
        exists already or a refresh shares the memo across filters)."""
        everyone = Scope()
        if reuse_active():
            scope = everyone
        for key in ((d, everyone), (d, scope)):
            if key in self.tables:
                return self.tables[key]
        t = Table(
            f"ecc_state_{self.tag}_{len(self.tables)}",
            self.metadata,
            Column("customer_id", String(64), primary_key=True),
            Column("name", Text),
            Column("segment", String(16)),
            Column("csm_id", String(64)),
            Column("arr", arr_events.c.arr_delta.type),
            Column("score", health_scores.c.score.type),
            prefixes=["TEMPORARY"],
        )
        t.create(self.conn)
        kept = _KEPT.get() if scope == everyone else None
        base = _nearest_base(d, kept)
        if base is None:
            source = _state_select(d, scope, active_only=False, name="memo")
        else:
            source = _patched_select(d, base)
        self.conn.execute(t.insert().from_select([c.name for c in t.columns], source))
        if self.conn.dialect.name == "postgresql":
            # temporary tables are never analysed by autovacuum: without statistics the
            # joins on them are planned for a handful of rows
            self.conn.execute(text(f"ANALYZE {t.name}"))
        self.tables[(d, scope)] = t
        if kept is not None:
            kept.built(d, t, base)
        return t

    def close(self) -> None:
        for t in self.tables.values():
            t.drop(self.conn, checkfirst=True)
        self.tables.clear()


_MEMO: ContextVar[_StateMemo | None] = ContextVar("ecc_state_memo", default=None)


class KeptStates(Protocol):
    """Customer states kept by earlier refreshes (:mod:`ecc.cache.states`)."""

    def base(self, d: date) -> date | None:
        """The latest kept date on or before d whose state is still valid, if any."""

    def built(self, d: date, table: Table, base: date | None) -> None:
        """The state at d is in ``table`` (of the memo's connection), made from the kept
        state at ``base`` (None: from the source tables)."""


_KEPT: ContextVar[KeptStates | None] = ContextVar("ecc_kept_states", default=None)

#: The most days of ledger and score rows a state is brought forward over from a kept
#: state. Measured at 100,000 customers on PostgreSQL: one day takes 0.3-0.5 s against
#: 0.9 s from the source tables; from three days on, the joins cost more than that.
MAX_PATCH_DAYS = 1


@contextmanager
def kept_states(kept: KeptStates | None) -> Iterator[None]:
    """Within this block (a refresh), build each date's state from a kept state of the
    same day or the day before (brought forward over that day's rows) when there is one;
    and tell ``kept`` about every state built."""
    token = _KEPT.set(kept)
    try:
        yield
    finally:
        _KEPT.reset(token)


def _nearest_base(d: date, kept: KeptStates | None) -> date | None:
    """The kept state to build the state at d from, if there is one close enough."""
    base = kept.base(d) if kept is not None else None
    return base if base is not None and (d - base).days <= MAX_PATCH_DAYS else None


def _patched_select(d: date, base: date) -> Select[Any]:
    """The state at d (every customer, as :func:`_state_select` with ``active_only``
    False) from the kept state at ``base`` <= d: ARR plus the ledger's deltas in
    (base, d], and the latest score in (base, d] or else the kept score."""
    kept = kept_state_rows
    bs = (
        select(kept.c.customer_id, kept.c.arr, kept.c.score)
        .where(kept.c.as_of == base)
        .subquery("base")
    )
    money_type = arr_events.c.arr_delta.type
    zero = literal(ZERO, type_=money_type)
    arr: Any = func.coalesce(bs.c.arr, zero)
    score: Any = bs.c.score
    frm: Any = customers.outerjoin(bs, bs.c.customer_id == customers.c.customer_id)
    if d > base:
        ev = (
            select(arr_events.c.customer_id, func.sum(arr_events.c.arr_delta).label("delta"))
            .where(arr_events.c.event_date > base, arr_events.c.event_date <= d)
            .group_by(arr_events.c.customer_id)
            .subquery("delta")
        )
        last = (
            select(
                health_scores.c.customer_id, func.max(health_scores.c.scored_on).label("last_on")
            )
            .where(health_scores.c.scored_on > base, health_scores.c.scored_on <= d)
            .group_by(health_scores.c.customer_id)
            .subquery("last")
        )
        ns = (
            select(health_scores.c.customer_id, health_scores.c.score)
            .select_from(
                health_scores.join(
                    last,
                    and_(
                        last.c.customer_id == health_scores.c.customer_id,
                        last.c.last_on == health_scores.c.scored_on,
                    ),
                )
            )
            .subquery("newest")
        )
        frm = frm.outerjoin(ev, ev.c.customer_id == customers.c.customer_id).outerjoin(
            ns, ns.c.customer_id == customers.c.customer_id
        )
        arr = arr + func.coalesce(ev.c.delta, zero)
        score = func.coalesce(ns.c.score, bs.c.score)
    return select(
        customers.c.customer_id,
        customers.c.name,
        customers.c.segment,
        customers.c.csm_id,
        type_coerce(arr, money_type).label("arr"),
        type_coerce(score, health_scores.c.score.type).label("score"),
    ).select_from(frm)


@contextmanager
def state_memo(conn: Connection) -> Iterator[None]:
    """Within this block, compute each date's customer state once on ``conn``.

    Every family of one ``compute_all`` asks for the state at the same few dates (end,
    the comparison end, a month and a quarter back); this turns about twenty state
    computations into about seven. The temporary tables are dropped on exit.
    """
    outer = _MEMO.get()
    if outer is not None and outer.conn is conn:
        yield  # already inside a memo of this connection (a refresh shares one)
        return
    memo = _StateMemo(conn)
    token = _MEMO.set(memo)
    try:
        yield
    finally:
        _MEMO.reset(token)
        memo.close()


# ---------------------------------------------------------------- book summaries


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


def summarize(conn: Connection, d: date, scope: Scope, by: str | None = None) -> dict[str, Summary]:
    """Active customers at d in scope, summed overall (key ``""``) or by ``segment``/``csm_id``."""
    if reuse_active():  # a refresh: one query per date at the finest grain, rolled up
        grain = shared(("summaries", d), lambda: _summaries(conn, d, Scope(), GRAIN))
        return roll_up(grain, scope, by, add_summaries)
    found = _summaries(conn, d, scope, (by,) if by else ())
    return {(k[0] if by else ""): v for k, v in found.items()}


def _summaries(
    conn: Connection, d: date, scope: Scope, keys: tuple[str, ...]
) -> dict[tuple[str, ...], Summary]:
    st = customer_state(d, scope)
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
    conn: Connection, pairs: Sequence[tuple[date, date]], scope: Scope
) -> list[RetentionSums]:
    """Retention sums for each (d0, end) pair, in order. Pairs whose two dates both have a
    month-end snapshot are answered together by one query over the snapshots (a TTM
    trend asks for a dozen); the others one by one."""
    snaps = _SNAPSHOTS.get()
    done: dict[tuple[date, date], RetentionSums] = {}
    batch = [p for p in dict.fromkeys(pairs) if p[0] in snaps and p[1] in snaps]
    if len(batch) > 1 and reuse_active():
        # a refresh: each pair once for every filter and every series it is part of (the
        # trends of overlapping periods share most of their month ends); the pairs not
        # computed yet in one query
        grains = shared_each(
            [("retention-pair", *p) for p in batch],
            lambda keys: _pair_grains(conn, [(k[1], k[2]) for k in keys]),  # type: ignore[index]
        )
        for key, part in grains.items():
            p = (key[1], key[2])  # type: ignore[index]
            done[p] = roll_up(part, scope, None, add_retention).get("", RetentionSums())
    elif len(batch) > 1:
        done.update(_series(conn, batch, scope, ()))
    out: list[RetentionSums] = []
    for p in pairs:
        if p not in done:
            done[p] = retention_sums(conn, p[0], p[1], scope).get("", RetentionSums())
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
    from ..schema import month_end_snapshots as snap

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
    conn: Connection, d0: date, end: date, scope: Scope, by: str | None = None
) -> dict[str, RetentionSums]:
    """GRR/NRR sums for the cohort active at d0, overall (key ``""``) or by a customers column.

    Reads the customer state at d0 and at end (snapshots or this computation's memo): a
    customer of the cohort that is not active at end has ARR 0 there.
    """
    if reuse_active():  # a refresh: one query per pair of dates at the finest grain
        grain = shared(
            ("retention", d0, end), lambda: _retention_sums(conn, d0, end, Scope(), GRAIN)
        )
        return roll_up(grain, scope, by, add_retention)
    found = _retention_sums(conn, d0, end, scope, (by,) if by else ())
    return {(k[0] if by else ""): v for k, v in found.items()}


def _retention_sums(
    conn: Connection, d0: date, end: date, scope: Scope, keys: tuple[str, ...]
) -> dict[tuple[str, ...], RetentionSums]:
    snaps = _SNAPSHOTS.get()
    if d0 in snaps and end in snaps:
        # both month ends: one join of the snapshot table with itself (SQLite cannot
        # flatten the two joined subqueries below and would compare every pair of rows)
        found = _series(conn, [(d0, end)], scope, keys, keyed=True)
        return {k[2:]: v for k, v in found.items()}
    s0 = arr_state(d0, scope, name="ret_s0")
    s1 = arr_state(end, scope, name="ret_s1")
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
    conn: Connection, start: date, end: date, scope: Scope, by: str | None = None
) -> dict[tuple[str, str], Decimal]:
    """Sum of arr_delta by (group key, kind) for events in [start, end]."""
    if reuse_active():  # a refresh: one query per period at the finest grain
        grain = shared(
            ("movement", start, end), lambda: _movement_sums(conn, start, end, Scope(), GRAIN)
        )
        out: dict[tuple[str, str], Decimal] = {}
        for kind in {k[2] for k in grain}:
            part = {k: v for k, v in grain.items() if k[2] == kind}
            for key, total in roll_up(part, scope, by, _add_decimal).items():
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
