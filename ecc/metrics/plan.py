"""How one metric computation reads: the :class:`Plan` carried on its ``Context``.

A metric is a function of (connection, period, filters, settings). How it gets there
may differ without changing a number or a query's meaning:

- ``snapshots``: month ends whose verified snapshot may stand in for the ledger replay
  (:mod:`ecc.snapshots`);
- ``states``: temporary tables holding each date's customer state, built once per
  computation (:class:`ecc.metrics.memo.StateMemo`);
- ``sharing``: inside a refresh, intermediate results shared between every request and
  carried from one refresh to the next (:class:`ecc.cache.plan.RefreshSharing`).

The plan is an explicit argument: nothing a metric reads comes from the surroundings.
``Plan()`` reads the source tables for every date and shares nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table

from ..periods import month_pieces
from .scope import Scope

T = TypeVar("T")
K = TypeVar("K")


class StateTables(Protocol):
    """Customer states of one computation, one temporary table per date."""

    def table_for(self, d: date, scope: Scope) -> Table:
        """A table of (customer_id, name, segment, csm_id, arr, score) holding at least
        every customer of ``scope`` at d (active or not)."""


class Sharing(Protocol):
    """Results shared between the computations of one refresh, by what they depend on."""

    def shared(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key (or a kept or expected result)."""

    def shared_each(
        self, keys: Sequence[Hashable], compute: Callable[[list[Hashable]], dict[Hashable, T]]
    ) -> dict[Hashable, T]:
        """Several results one query computes together: ``compute(missing)`` once."""

    def expect(self, key: Hashable, start: Callable[[], Future[Any]]) -> None:
        """``key``'s result will come from the future ``start()`` returns."""

    def scratch(self) -> dict[Hashable, Any]:
        """A dictionary for derived values of the refresh (never kept)."""


@dataclass(frozen=True)
class Plan:
    """How a computation reads (see the module's description); ``Plan()``: directly."""

    snapshots: frozenset[date] = frozenset()
    states: StateTables | None = field(default=None, compare=False)
    sharing: Sharing | None = field(default=None, compare=False)

    @property
    def shares(self) -> bool:
        """True inside a refresh: results are shared across requests and filters."""
        return self.sharing is not None

    def shared(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per ``key`` inside a refresh."""
        return compute() if self.sharing is None else self.sharing.shared(key, compute)

    def shared_by_month(
        self,
        key: tuple[Hashable, ...],
        start: date,
        end: date,
        compute: Callable[[date, date], dict[K, T]],
        add: Callable[[T, T], T],
    ) -> dict[K, T]:
        """A result that adds up over disjoint date ranges (counts of rows dated in
        [start, end], by some group), as the sum of its pieces within one month each,
        each shared by ``(*key, piece start, piece end)``. A closed month is then read
        once and kept from one refresh to the next; a new day re-reads only its month."""
        out: dict[K, T] = {}
        for a, b in month_pieces(start, end):
            for k, v in self.shared((*key, a, b), partial(compute, a, b)).items():
                out[k] = add(out[k], v) if k in out else v
        return out

    def expect(self, key: Hashable, start: Callable[[], Future[Any]]) -> None:
        """Inside a refresh: ``key``'s result will be computed by ``start()``'s future."""
        if self.sharing is not None:
            self.sharing.expect(key, start)

    def expect_by_month(
        self,
        key: tuple[Hashable, ...],
        start: date,
        end: date,
        begin: Callable[[date, date], Future[Any]],
    ) -> None:
        """:meth:`expect` for each piece :meth:`shared_by_month` will ask for."""
        for a, b in month_pieces(start, end):
            self.expect((*key, a, b), partial(begin, a, b))


#: The plan that reads the source tables for every date and shares nothing.
DIRECT = Plan()
