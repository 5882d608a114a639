"""Each date's customer state computed once per computation, in temporary tables.

Every family of one computation asks for the state at the same few dates (the end, the
comparison end, a month and a quarter back); a :class:`StateMemo` on the plan
(:attr:`ecc.metrics.plan.Plan.states`) turns about twenty state computations into
about seven. A refresh shares one memo across all its filters, and may build a state
from one kept by an earlier refresh (:class:`KeptStates`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Column, Connection, MetaData, Select, String, Table, Text, text

from ..schema import arr_events, health_scores
from .scope import Scope
from .state import state_select


class KeptStates(Protocol):
    """Customer states kept by earlier refreshes (:class:`ecc.cache.states.States`)."""

    def source(self, d: date) -> tuple[Select[Any], date] | None:
        """A query for the state at d (every customer, the columns of
        :func:`~ecc.metrics.state.state_select`) made from the kept state at the
        returned date, when one is close enough."""

    def built(self, d: date, table: Table, base: date | None) -> None:
        """The state at d is in ``table`` (of the memo's connection), made from the kept
        state at ``base`` (None: from the source tables)."""


class StateMemo:
    """Customer state per date for one computation, in temporary tables of ``conn``.

    ``everyone``: each table holds every customer, whatever the filter that asked (a
    refresh computes every filter from the same states). ``kept``: states of earlier
    refreshes to build from, told about every state built (for everyone only)."""

    def __init__(
        self, conn: Connection, *, everyone: bool = False, kept: KeptStates | None = None
    ) -> None:
        self.conn = conn
        self.everyone = everyone
        self.kept = kept
        self.metadata = MetaData()
        self.tables: dict[tuple[date, Scope], Table] = {}
        self.tag = uuid.uuid4().hex[:8]

    def table_for(self, d: date, scope: Scope) -> Table:
        """The state at d of the customers in ``scope`` (or of everyone, when that table
        exists already or the memo is for everyone)."""
        all_of_them = Scope()
        if self.everyone:
            scope = all_of_them
        for key in ((d, all_of_them), (d, scope)):
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
        kept = self.kept if scope == all_of_them else None
        found = kept.source(d) if kept is not None else None
        if found is None:
            source, base = state_select(d, scope, active_only=False, name="memo"), None
        else:
            source, base = found
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
        """Drop the temporary tables."""
        for t in self.tables.values():
            t.drop(self.conn, checkfirst=True)
        self.tables.clear()


@contextmanager
def state_memo(
    conn: Connection, *, everyone: bool = False, kept: KeptStates | None = None
) -> Iterator[StateMemo]:
    """A :class:`StateMemo` for the block; its temporary tables are dropped on exit."""
    memo = StateMemo(conn, everyone=everyone, kept=kept)
    try:
        yield memo
    finally:
        memo.close()
