"""Queries shared across filters inside a refresh: by segment, at the finest grain.

A refresh computes every filter (each segment, all of them) of every preset. Queries
keyed by segment run once for every segment and each filter takes its groups
(:func:`by_segment`); additive sums run once at the (segment, CSM) grain and are rolled
up to each filter and grouping (:func:`roll_up`). Outside a refresh each runs for its
filter alone. Which applies is the :class:`~ecc.metrics.plan.Plan`'s to say.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from .plan import Plan
from .scope import Scope

V = TypeVar("V")

#: Queries over a date range whose values, per group, add up over disjoint ranges
#: (counts of rows dated in the range), with how to add two values.
_ADD_OVER_DAYS: dict[Callable[..., Any], Callable[[Any, Any], Any]] = {}

Q = TypeVar("Q", bound=Callable[..., Any])


def additive_over_days(add: Callable[[Any, Any], Any]) -> Callable[[Q], Q]:
    """Mark a query whose values add up over disjoint date ranges, by ``add``: inside a
    refresh it runs a month at a time (:meth:`ecc.metrics.plan.Plan.shared_by_month`), so a
    closed month is read once and kept, and a new day re-reads only its month."""

    def mark(query: Q) -> Q:
        _ADD_OVER_DAYS[query] = add
        return query

    return mark


def adder_over_days(query: Callable[..., Any]) -> Callable[[Any, Any], Any] | None:
    """How ``query``'s values add up over days, if they do (:func:`additive_over_days`)."""
    return _ADD_OVER_DAYS.get(query)


def _name(query: Callable[..., Any]) -> tuple[str, str]:
    """What a query is known by in shared results (a partial by the function it binds)."""
    fn = query.func if isinstance(query, partial) else query
    return (fn.__module__, fn.__qualname__)


def by_segment(
    plan: Plan, query: Callable[..., dict[str, V]], conn: Any, *args: Any, scope: Scope
) -> dict[str, V]:
    """``query(conn, *args, scope)``, a query keyed by customer segment, for a filter.

    Inside a refresh it runs once per ``args`` for every segment and each segment filter
    takes its group; outside a refresh, or under a CSM filter, it runs for the filter.
    A query that needs the plan itself is given as ``partial(query, plan)``.
    """
    if not plan.shares or scope.csm_id is not None:
        return query(conn, *args, scope)
    key = _name(query)
    add = adder_over_days(query.func if isinstance(query, partial) else query)
    if add is not None:
        start, end = args
        every: dict[str, V] = plan.shared_by_month(
            key, start, end, lambda a, b: query(conn, a, b, Scope()), add
        )
    else:
        every = plan.shared((*key, *args), lambda: query(conn, *args, Scope()))
    return {k: v for k, v in every.items() if scope.segment in (None, k)}


def expect_by_segment(
    plan: Plan, query: Callable[..., dict[str, Any]], *args: Any, submit: Callable[..., Any]
) -> None:
    """Inside a refresh: have ``submit`` (a worker with its own connection) run the
    segment-grouped ``query(conn, *args, Scope())`` that :func:`by_segment` will ask for."""
    if not plan.shares:
        return
    key = _name(query)
    if adder_over_days(query) is not None:
        start, end = args
        plan.expect_by_month(key, start, end, lambda a, b: submit(query, a, b, Scope()))
    else:
        plan.expect((*key, *args), lambda: submit(query, *args, Scope()))


#: The finest grain of the additive sums a refresh shares: every filter (a segment, one
#: CSM's current book) and every grouping (by segment, by CSM) is a roll-up of it.
GRAIN = ("segment", "csm_id")


def roll_up(
    plan: Plan,
    grain: dict[tuple[str, ...], V],
    scope: Scope,
    by: str | None,
    add: Callable[[V, V], V],
) -> dict[str, V]:
    """Sums at the (segment, csm_id, ...) grain rolled up to a scope, overall or ``by``.

    Inside a refresh each roll-up of a grain is made once (several areas ask for the
    same one); the memo holds the grain itself, so its id cannot be reused meanwhile."""
    if plan.sharing is None:
        return _roll_up(grain, scope, by, add)
    memo = plan.sharing.scratch()
    key = ("roll-up", id(grain), scope, by, add)
    hit = memo.get(key)
    if hit is None or hit[0] is not grain:
        hit = memo[key] = (grain, _roll_up(grain, scope, by, add))
    return dict(hit[1])


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
