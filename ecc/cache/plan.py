"""The plan of a refresh: every request's metrics from one set of shared results.

A refresh asks for the same area, or the same grouped query, many times: ``none``,
``previous`` and ``yoy`` share the period's values, and a segment's numbers are one
group of a query grouped by segment. :class:`RefreshSharing` keeps each result by what it
depends on and hands it out again, loads results kept by earlier refreshes
(:class:`~ecc.cache.partials.Partials`), and waits for results a second connection
computes ahead (:meth:`RefreshSharing.expect`). :func:`refresh_plan` gives the
:class:`~ecc.metrics.plan.Plan` a refresh carries on every metrics ``Context``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from ..metrics.memo import KeptStates, state_memo
from ..metrics.plan import Plan
from ..snapshot_dates import usable_snapshot_dates

T = TypeVar("T")


class Kept(Protocol):
    """Results kept from earlier runs (:class:`ecc.cache.partials.Partials`)."""

    def has(self, key: Hashable) -> bool: ...

    def load(self, key: Hashable) -> tuple[bool, Any]: ...


class RefreshSharing:
    """Results of one refresh by key (``ecc.metrics.plan.Sharing``); ``kept`` hands out
    results of earlier runs."""

    def __init__(self, kept: Kept | None = None) -> None:
        self.kept = kept
        self.results: dict[Hashable, Any] = {}
        self._scratch: dict[Hashable, Any] = {}

    def _load(self, key: Hashable) -> tuple[bool, Any]:
        return self.kept.load(key) if self.kept is not None else (False, None)

    def shared(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key``. A result being computed elsewhere
        (:meth:`expect`) is waited for; one only queued there is computed here instead,
        so neither connection idles while the other works."""
        results = self.results
        if key not in results:
            found, value = self._load(key)
            results[key] = value if found else compute()
        value = results[key]
        if isinstance(value, Future):
            # one the other connection has not started yet is computed here, not waited for
            value = results[key] = compute() if value.cancel() else value.result()
        out: T = value
        return out

    def shared_each(
        self, keys: Sequence[Hashable], compute: Callable[[list[Hashable]], dict[Hashable, T]]
    ) -> dict[Hashable, T]:
        """Like :meth:`shared` for several results that one query computes together:
        ``compute(missing)`` is called once for the keys neither computed nor kept yet
        (and must return a result for each)."""
        results = self.results
        missing: list[Hashable] = []
        for key in dict.fromkeys(keys):
            if key in results:
                continue
            found, value = self._load(key)
            if found:
                results[key] = value
            else:
                missing.append(key)
        if missing:
            results.update(compute(missing))
        out: dict[Hashable, T] = {}
        for key in keys:
            value = results[key]
            if isinstance(value, Future):
                value = results[key] = value.result()
            out[key] = value
        return out

    def expect(self, key: Hashable, start: Callable[[], Future[Any]]) -> None:
        """``key``'s result will be computed by the future that ``start()`` returns (on
        another connection, in another thread); :meth:`shared` waits for it. Nothing is
        started for a result already there or kept from an earlier run."""
        if key in self.results or (self.kept is not None and self.kept.has(key)):
            return
        self.results[key] = start()

    def scratch(self) -> dict[Hashable, Any]:
        return self._scratch

    def computed(self) -> list[tuple[Any, Any]]:
        """Every finished result, by key."""
        return [(k, v) for k, v in self.results.items() if not isinstance(v, Future)]


@contextmanager
def refresh_plan(
    conn: Connection, *, kept: Kept | None = None, states: KeptStates | None = None
) -> Iterator[tuple[Plan, RefreshSharing]]:
    """The plan of a refresh on ``conn``: verified month-end snapshots, one state table
    per date for every filter (built from ``states`` where they hold a close one), and
    results shared across requests (loaded from ``kept`` where valid). The temporary
    tables are dropped on exit."""
    sharing = RefreshSharing(kept)
    with state_memo(conn, everyone=True, kept=states) as memo:
        yield Plan(snapshots=usable_snapshot_dates(conn), states=memo, sharing=sharing), sharing
