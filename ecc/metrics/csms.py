"""CSM performance (METRICS.md, CSM performance, US-006) — ``csms``.

One row per CSM that owns a customer active at end (in scope) or has an activity in P;
ownership is the current ``customers.csm_id`` (the CSM's "book").

- ``accounts``, ``arr``, ``avg_health``, ``distribution``: as in the portfolio, over the
  book's active customers at end.
- ``grr``, ``nrr``: retention over P of the book (start cohort: active at d0).
- ``expansion_arr``: sum of the ``expansion`` deltas in P on the book.
- ``health_change``: mean score at end - mean score at d0 over every customer the CSM
  currently owns (active or not) that has a score at d0 and at end; null when none.
- ``response_hours``: median ``response_hours`` of the CSM's emails in P (not null);
  the mean of the two middle values for an even count; null when none.
- ``meetings``, ``emails``, ``calls``, ``tasks_completed``: counts of the CSM's
  activities in P (tasks with completed = true). Activities count whatever the customer.
- ``rank``: rank the CSMs by ``nrr``, by ``expansion_arr`` and by ``health_change``
  (descending, 1 = best, nulls last, ties by csm_id); ``rank`` orders them by the mean
  of the three ranks, ties by csm_id (positions 1..n). Extra keys: ``rank_nrr``,
  ``rank_expansion``, ``rank_health_change``; also ``name``, ``segment``, ``active``.
- ``trend``: ``{date, arr, avg_health}`` of the book at each month end inside P and at
  end; ``arr`` 0 and ``avg_health`` null where the book is empty.
- ``team_average``: the mean over the rows of every numeric key except the ranks, nulls
  skipped, null when all are null; for ``distribution`` the mean of each fraction.

Filters: a segment filter keeps the CSMs with ``csms.segment`` = segment and limits their
books to customers of that segment; a CSM filter keeps that CSM. Rows are sorted by rank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple, TypedDict, TypeVar, cast

from sqlalchemy import Connection, case, func, or_, select

from ..periods import Period, trend_dates
from ..schema import activities
from ..schema import csms as csms_t
from .context import Context, money
from .grouped import GRAIN, adder_over_days, additive_over_days, roll_up
from .plan import Plan
from .scope import Scope
from .state import ZERO, scores_at
from .sums import RetentionSums, Summary, movement_sums, retention_sums, summarize

__all__ = [
    "CsmRow",
    "CsmTrendPoint",
    "CsmsResult",
    "Distribution",
    "Ranks",
    "TeamAverage",
    "csms",
    "leaderboard",
    "team_average",
]


T = TypeVar("T")


class Distribution(TypedDict):
    healthy: float | None
    at_risk: float | None
    critical: float | None


class CsmTrendPoint(TypedDict):
    date: str
    arr: float
    avg_health: float | None


class CsmRow(TypedDict):
    csm_id: str
    name: str
    segment: str
    active: bool
    accounts: int
    arr: float
    avg_health: float | None
    distribution: Distribution
    grr: float | None
    nrr: float | None
    expansion_arr: float
    health_change: float | None
    response_hours: float | None
    meetings: int
    emails: int
    calls: int
    tasks_completed: int
    rank: int
    rank_nrr: int
    rank_expansion: int
    rank_health_change: int
    trend: list[CsmTrendPoint]


class TeamAverage(TypedDict):
    accounts: float | None
    arr: float | None
    avg_health: float | None
    distribution: Distribution
    grr: float | None
    nrr: float | None
    expansion_arr: float | None
    health_change: float | None
    response_hours: float | None
    meetings: float | None
    emails: float | None
    calls: float | None
    tasks_completed: float | None


class CsmsResult(TypedDict):
    rows: list[CsmRow]
    team_average: TeamAverage


#: The numeric keys of a row that ``team_average`` averages (not the ranks).
AVERAGED_KEYS: tuple[str, ...] = (
    "accounts",
    "arr",
    "avg_health",
    "grr",
    "nrr",
    "expansion_arr",
    "health_change",
    "response_hours",
    "meetings",
    "emails",
    "calls",
    "tasks_completed",
)


# ---------------------------------------------------------------- grouped queries


@dataclass(frozen=True)
class ActivityCounts:
    any: int = 0
    meetings: int = 0
    emails: int = 0
    calls: int = 0
    tasks_completed: int = 0


def _csm_clauses(scope: Scope, csm_id_col: Any = csms_t.c.csm_id) -> list[Any]:
    """Clauses on ``csm_id_col`` choosing the CSMs that may be rows (none when unfiltered)."""
    out: list[Any] = []
    if scope.csm_id is not None:
        out.append(csm_id_col == scope.csm_id)
    if scope.segment is not None:
        seg = select(csms_t.c.csm_id).where(csms_t.c.segment == scope.segment)
        out.append(csm_id_col.in_(seg))
    return out


def _scope_csm_ids(conn: Connection, scope: Scope) -> set[str]:
    return set(conn.execute(select(csms_t.c.csm_id).where(*_csm_clauses(scope))).scalars())


def _per_csm(
    plan: Plan,
    conn: Connection,
    name: str,
    period: Period,
    scope: Scope,
    query: Callable[[Connection, Period, Scope], dict[str, T]],
) -> dict[str, T]:
    """A per-CSM query whose filters only choose which CSMs are rows: inside a refresh it
    runs once per period for every CSM and each filter takes its CSMs' rows; one whose
    values add up over days (:func:`additive_over_days`) a month at a time."""
    if not plan.shares:
        return query(conn, period, scope)
    key = ("per-csm", name)
    add = adder_over_days(query)
    if add is not None:
        every = plan.shared_by_month(
            key, period.start, period.end, lambda a, b: query(conn, Period(a, b), Scope()), add
        )
    else:
        every = plan.shared((*key, period.start, period.end), lambda: query(conn, period, Scope()))
    ids = _scope_csm_ids(conn, scope)
    return {k: v for k, v in every.items() if k in ids}


def prefetch(plan: Plan, periods: Iterable[Period], submit: Callable[..., Any]) -> None:
    """Inside a refresh: have ``submit(fn, *args)`` (a worker with a connection of its own,
    which it passes to ``fn``) run the per-CSM activity queries of ``periods`` — they read
    only the source tables — while this connection computes the rest."""
    for period in periods:
        for name, query in (("activities", _activity_counts), ("response", _response_medians)):
            if adder_over_days(query) is not None:
                plan.expect_by_month(
                    ("per-csm", name),
                    period.start,
                    period.end,
                    partial(_submit_range, submit, query),
                )
            else:
                plan.expect(
                    ("per-csm", name, period.start, period.end),
                    partial(submit, query, period, Scope()),
                )


def _submit_range(submit: Callable[..., Any], query: Callable[..., Any], a: date, b: date) -> Any:
    return submit(query, Period(a, b), Scope())


def _add_counts(a: ActivityCounts, b: ActivityCounts) -> ActivityCounts:
    return ActivityCounts(
        a.any + b.any,
        a.meetings + b.meetings,
        a.emails + b.emails,
        a.calls + b.calls,
        a.tasks_completed + b.tasks_completed,
    )


@additive_over_days(_add_counts)
def _activity_counts(conn: Connection, period: Period, scope: Scope) -> dict[str, ActivityCounts]:
    """Per CSM (filtered by the CSM clauses): counts of its activities in P by kind."""
    a = activities.c

    def n(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    q = (
        select(
            a.csm_id,
            func.count().label("any"),
            n(a.kind == "meeting").label("meetings"),
            n(a.kind == "email").label("emails"),
            n(a.kind == "call").label("calls"),
            n((a.kind == "task") & a.completed.is_(True)).label("tasks_completed"),
        )
        .where(
            a.occurred_on >= period.start,
            a.occurred_on <= period.end,
            *_csm_clauses(scope, a.csm_id),
        )
        .group_by(a.csm_id)
    )
    return {
        row.csm_id: ActivityCounts(
            int(row.any),
            int(row.meetings or 0),
            int(row.emails or 0),
            int(row.calls or 0),
            int(row.tasks_completed or 0),
        )
        for row in conn.execute(q)
    }


def _response_medians(conn: Connection, period: Period, scope: Scope) -> dict[str, float]:
    """Per CSM: the median response_hours of its emails in P (only the middle values fetched).

    Numbered per CSM with row_number() and count() over (partition by csm_id); the middle
    positions are (n + 1) // 2 and (n + 2) // 2 (the same one when n is odd). PostgreSQL
    takes the two middle values with percentile_disc instead.
    """
    a = activities.c
    emails = (
        a.kind == "email",
        a.response_hours.is_not(None),
        a.occurred_on >= period.start,
        a.occurred_on <= period.end,
        *_csm_clauses(scope, a.csm_id),
    )
    if conn.dialect.name == "postgresql":
        # the ordered-set aggregates sort each CSM's values without numbering every row
        # (twice as fast here): the lower middle, and the upper one as the lower of -hours
        lower = func.percentile_disc(0.5).within_group(a.response_hours)
        upper = func.percentile_disc(0.5).within_group(-a.response_hours)
        q = select(a.csm_id, lower.label("lo"), upper.label("neg_hi")).where(*emails)
        return {
            row.csm_id: (float(row.lo) + float(-row.neg_hi)) / 2
            for row in conn.execute(q.group_by(a.csm_id))
        }
    pos = func.row_number().over(partition_by=a.csm_id, order_by=(a.response_hours, a.activity_id))
    cnt = func.count().over(partition_by=a.csm_id)
    numbered = (
        select(a.csm_id, a.response_hours.label("h"), pos.label("pos"), cnt.label("cnt"))
        .where(*emails)
        .subquery("numbered")
    )
    middle = or_(
        numbered.c.pos == (numbered.c.cnt + 1) // 2, numbered.c.pos == (numbered.c.cnt + 2) // 2
    )
    values: dict[str, list[float]] = {}
    for row in conn.execute(select(numbered.c.csm_id, numbered.c.h).where(middle)):
        values.setdefault(row.csm_id, []).append(float(row.h))
    return {k: sum(v) / len(v) for k, v in values.items()}


def _health_changes(plan: Plan, conn: Connection, period: Period, scope: Scope) -> dict[str, float]:
    """Per CSM: mean score at end - mean score at d0 over its customers scored at both.

    Every customer the CSM owns now counts, active or not (METRICS.md, Readings); the two
    means run over the same customers, so the difference is sum(s_end - s_d0) / n.
    """
    if plan.shares:  # a refresh: once per pair of dates at the finest grain
        grain = plan.shared(
            ("health-change", period.d0, period.end),
            lambda: _score_sums(plan, conn, period, Scope(), GRAIN),
        )
        sums = roll_up(plan, grain, scope, "csm_id", _add_sums)
    else:
        by_csm = _score_sums(plan, conn, period, scope, ("csm_id",))
        sums = {k[0]: v for k, v in by_csm.items()}
    return {csm_id: float((s1 - s0) / Decimal(n)) for csm_id, (n, s0, s1) in sums.items() if n}


ScoreSums = tuple[int, Decimal, Decimal]


def _add_sums(a: ScoreSums, b: ScoreSums) -> ScoreSums:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _score_sums(
    plan: Plan, conn: Connection, period: Period, scope: Scope, keys: tuple[str, ...]
) -> dict[tuple[str, ...], ScoreSums]:
    """(keys) -> (customers scored at both d0 and end, sum of scores at d0, at end)."""
    before = scores_at(plan, period.d0, scope, "hc0")
    after = scores_at(plan, period.end, scope, "hc1")
    group = [before.c[k] for k in keys]
    q = (
        select(
            *group,
            func.count().label("n"),
            func.sum(before.c.score).label("s0"),
            func.sum(after.c.score).label("s1"),
        )
        .select_from(before.join(after, after.c.customer_id == before.c.customer_id))
        .group_by(*group)
    )
    return {tuple(row[: len(keys)]): (int(row.n), row.s0, row.s1) for row in conn.execute(q)}


# ---------------------------------------------------------------- ranks and averages


def _rank_by(ids: list[str], value: Callable[[str], float | None]) -> dict[str, int]:
    """Positions 1..n: larger values first, nulls last, ties by csm_id."""
    present = sorted((i for i in ids if value(i) is not None), key=lambda i: (-(value(i) or 0), i))
    absent = sorted(i for i in ids if value(i) is None)
    return {csm_id: pos for pos, csm_id in enumerate([*present, *absent], start=1)}


class Ranks(NamedTuple):
    """A CSM's leaderboard position and its three component ranks (1 = best)."""

    rank: int
    nrr: int
    expansion: int
    health_change: int


def leaderboard(
    ids: Iterable[str],
    nrr: Mapping[str, float | None],
    expansion: Mapping[str, float | None],
    health_change: Mapping[str, float | None],
) -> dict[str, Ranks]:
    """The leaderboard: rank by nrr, expansion_arr and health_change (descending, nulls
    last, ties by csm_id), then order by the mean of the three ranks, ties by csm_id.

    Every rank is a position 1..n (no shared places).
    """
    members = sorted(ids)
    r_nrr = _rank_by(members, nrr.get)
    r_exp = _rank_by(members, expansion.get)
    r_hc = _rank_by(members, health_change.get)
    # the sum of the three ranks orders exactly as their mean (and stays an integer)
    order = sorted(members, key=lambda i: (r_nrr[i] + r_exp[i] + r_hc[i], i))
    return {i: Ranks(pos, r_nrr[i], r_exp[i], r_hc[i]) for pos, i in enumerate(order, start=1)}


def _mean(values: Iterable[float | int | None]) -> float | None:
    """The mean of the non-null values (exact decimal sum), None when there are none."""
    present = [Decimal(str(v)) for v in values if v is not None]
    if not present:
        return None
    return float(sum(present, Decimal(0)) / len(present))


def team_average(rows: list[CsmRow]) -> TeamAverage:
    """The mean over ``rows`` of every numeric key except the ranks; nulls skipped."""

    def avg(key: str) -> float | None:
        return _mean(cast(Mapping[str, Any], row)[key] for row in rows)

    def avg_fraction(key: str) -> float | None:
        return _mean(cast(Mapping[str, Any], row["distribution"])[key] for row in rows)

    return {
        "accounts": avg("accounts"),
        "arr": avg("arr"),
        "avg_health": avg("avg_health"),
        "distribution": {
            "healthy": avg_fraction("healthy"),
            "at_risk": avg_fraction("at_risk"),
            "critical": avg_fraction("critical"),
        },
        "grr": avg("grr"),
        "nrr": avg("nrr"),
        "expansion_arr": avg("expansion_arr"),
        "health_change": avg("health_change"),
        "response_hours": avg("response_hours"),
        "meetings": avg("meetings"),
        "emails": avg("emails"),
        "calls": avg("calls"),
        "tasks_completed": avg("tasks_completed"),
    }


# ---------------------------------------------------------------- the family


def _trend(
    plan: Plan, conn: Connection, period: Period, scope: Scope, at_end: dict[str, Summary]
) -> list[tuple[date, dict[str, Summary]]]:
    """The book summaries by CSM at each trend date (one grouped query per date)."""
    out: list[tuple[date, dict[str, Summary]]] = []
    for d in trend_dates(period):
        out.append((d, at_end if d == period.end else summarize(plan, conn, d, scope, by="csm_id")))
    return out


def csms(ctx: Context) -> CsmsResult:
    """The CSM leaderboard over P: one row per CSM (grain), sorted by rank, and the team mean.

    Every per-CSM number comes from a query grouped by csm_id: the book at end, the
    retention sums, the ledger movements, the health change, the activity counts, the
    email medians, and one book summary per trend date.
    """
    conn, period, scope = ctx.conn, ctx.period, ctx.scope
    plan = ctx.plan
    book = summarize(plan, conn, period.end, scope, by="csm_id")
    acts = _per_csm(plan, conn, "activities", period, scope, _activity_counts)

    candidates = set(book) | {k for k, v in acts.items() if v.any > 0}
    info = {
        row.csm_id: row
        for row in conn.execute(
            select(csms_t.c.csm_id, csms_t.c.name, csms_t.c.segment, csms_t.c.active).where(
                *_csm_clauses(scope)
            )
        )
        if row.csm_id in candidates
    }
    ids = sorted(info)
    if not ids:
        return {"rows": [], "team_average": team_average([])}

    retention = retention_sums(plan, conn, period.d0, period.end, scope, by="csm_id")
    moves = movement_sums(plan, conn, period.start, period.end, scope, by="csm_id")
    changes = _health_changes(plan, conn, period, scope)
    medians = _per_csm(plan, conn, "response", period, scope, _response_medians)
    trend = _trend(plan, conn, period, scope, book)

    nrr = {i: retention.get(i, RetentionSums()).nrr for i in ids}
    expansion = {i: moves.get((i, "expansion"), ZERO) for i in ids}
    ranks = leaderboard(ids, nrr, {i: float(v) for i, v in expansion.items()}, changes)
    order = sorted(ids, key=lambda i: ranks[i].rank)

    rows: list[CsmRow] = []
    for i in order:
        s = book.get(i, Summary())
        a = acts.get(i, ActivityCounts())
        dist = s.distribution
        rows.append(
            {
                "csm_id": i,
                "name": info[i].name,
                "segment": info[i].segment,
                "active": bool(info[i].active),
                "accounts": s.customers,
                "arr": money(s.arr),
                "avg_health": s.avg_health,
                "distribution": {
                    "healthy": dist["healthy"],
                    "at_risk": dist["at_risk"],
                    "critical": dist["critical"],
                },
                "grr": retention.get(i, RetentionSums()).grr,
                "nrr": nrr[i],
                "expansion_arr": money(expansion[i]),
                "health_change": changes.get(i),
                "response_hours": medians.get(i),
                "meetings": a.meetings,
                "emails": a.emails,
                "calls": a.calls,
                "tasks_completed": a.tasks_completed,
                "rank": ranks[i].rank,
                "rank_nrr": ranks[i].nrr,
                "rank_expansion": ranks[i].expansion,
                "rank_health_change": ranks[i].health_change,
                "trend": [
                    {
                        "date": d.isoformat(),
                        "arr": money(by_csm[i].arr) if i in by_csm else 0.0,
                        "avg_health": by_csm[i].avg_health if i in by_csm else None,
                    }
                    for d, by_csm in trend
                ],
            }
        )
    return {"rows": rows, "team_average": team_average(rows)}
