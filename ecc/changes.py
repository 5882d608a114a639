"""What a load changed, so that a refresh recomputes only what it must.

A load replaces every source table. While it streams the files it keeps, per table and
day, the number of rows and a digest of their cells (:class:`Digests`); at the end it
compares them with the previous load's (``source_digests``) and records, for the new
data version, the earliest day of each table whose rows differ (``source_changes``).

A row's day is the date that bounds every read of it (``DAY_KEYS``): a metric for a
period ending on ``e`` reads only ledger rows, scores, activities, tickets, save plays
and opportunities dated on or before ``e``, so a row dated after ``e`` — added, changed
or removed — cannot change it. Customers are compared row by row: a new customer counts
on its signup day and a go-live on its day (``onboarded_on`` is read only by periods
that contain it); any other change to a customer, or one that went away, changes
everything (its owner, segment and signup are read for every period). ``csms``, ``renewals`` and
``targets`` have no such day: any change there changes everything that reads them.

:func:`changes_since` folds the records from one data version to the current one; it
answers None (unknown: treat everything as changed) when a version in between was not
recorded by a load, e.g. rows written by hand followed by ``mark_data_version``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from .clock import utcnow
from .schema import customers, ecc_meta, source_changes, source_digests

#: The day of a table without a day key (its whole content is one digest).
WHOLE_TABLE = date(1, 1, 1)
#: ``changes`` value of a table that changed as a whole.
ALL = "all"

_MASK = (1 << 64) - 1


def _day(column: str) -> Callable[[Mapping[str, Any]], date]:
    def day(values: Mapping[str, Any]) -> date:
        value = values[column]
        return value.date() if isinstance(value, datetime) else value

    return day


#: Per dated source table: the day of a row (its validated values).
DAY_KEYS: dict[str, Callable[[Mapping[str, Any]], date]] = {
    "arr_events": _day("event_date"),
    "health_scores": _day("scored_on"),
    "activities": _day("occurred_on"),
    "support_tickets": _day("opened_at"),
    "save_plays": _day("opened_on"),
    "expansion_opportunities": _day("created_on"),
}

#: Customers' columns compared row by row (every column of DATA.md).
_CUSTOMER_COLUMNS = tuple(c.name for c in customers.columns)
_ONBOARDED = _CUSTOMER_COLUMNS.index("onboarded_on")


@dataclass
class _Tally:
    rows: int = 0
    digest: int = 0

    def add(self, cells: Iterable[str]) -> None:
        h = hashlib.blake2b("\x1f".join(cells).encode(), digest_size=8).digest()
        self.rows += 1
        self.digest = (self.digest + int.from_bytes(h, "big")) & _MASK


@dataclass
class Digests:
    """A load's digests of one table, fed row by row (order does not matter)."""

    table: str
    tallies: dict[date, _Tally] = field(default_factory=dict)

    def add(self, values: Mapping[str, Any], cells: Iterable[str]) -> None:
        key = DAY_KEYS.get(self.table)
        day = key(values) if key is not None else WHOLE_TABLE
        tally = self.tallies.get(day)
        if tally is None:
            tally = self.tallies[day] = _Tally()
        tally.add(cells)

    def rows(self) -> dict[date, tuple[int, str]]:
        return {d: (t.rows, f"{t.digest:016x}") for d, t in self.tallies.items()}


class CustomerDiff:
    """Compares the loaded customers with the ones the database held before the load."""

    def __init__(self, conn: Connection) -> None:
        self.before: dict[str, tuple[Any, ...]] = {
            r[0]: tuple(r) for r in conn.execute(select(*customers.columns))
        }
        self.seen: set[str] = set()
        self.earliest: date | None = None
        self.everything = False

    def add(self, values: Mapping[str, Any]) -> None:
        cid = values["customer_id"]
        self.seen.add(cid)
        row = tuple(values.get(c) for c in _CUSTOMER_COLUMNS)
        old = self.before.get(cid)
        if old is None:  # a new customer: nothing before its first day can read it
            first = min(d for d in (values["signup_date"], values.get("onboarded_on")) if d)
            self.earliest = first if self.earliest is None else min(self.earliest, first)
        elif old != row:
            moved = [i for i, (a, b) in enumerate(zip(old, row, strict=True)) if a != b]
            if moved == [_ONBOARDED]:  # a go-live: read only by periods that contain it
                first = min(d for d in (old[_ONBOARDED], row[_ONBOARDED]) if d)
                self.earliest = first if self.earliest is None else min(self.earliest, first)
            else:  # owner, segment, name, signup: read for every period
                self.everything = True

    def change(self) -> date | str | None:
        if self.everything or not set(self.before) <= self.seen:
            return ALL
        return self.earliest


def previous_digests(conn: Connection) -> dict[str, dict[date, tuple[int, str]]]:
    out: dict[str, dict[date, tuple[int, str]]] = {}
    for r in conn.execute(select(source_digests)):
        out.setdefault(r.table_name, {})[r.day] = (r.rows, r.digest)
    return out


def compare(
    before: Mapping[str, Mapping[date, tuple[int, str]]],
    after: Mapping[str, Mapping[date, tuple[int, str]]],
) -> dict[str, date | str]:
    """Per table whose digests differ: the earliest differing day, or ALL."""
    out: dict[str, date | str] = {}
    for table in set(before) | set(after):
        old, new = before.get(table, {}), after.get(table, {})
        days = [d for d in set(old) | set(new) if old.get(d) != new.get(d)]
        if days:
            first = min(days)
            out[table] = ALL if first == WHOLE_TABLE else first
    return out


#: ecc_meta key: the data version ``source_digests`` describe.
DIGESTS_VERSION = "digests_version"


def record_load(
    conn: Connection,
    *,
    previous_version: str | None,
    version: str,
    digests: Mapping[str, Mapping[date, tuple[int, str]]],
    customer_change: date | str | None,
) -> dict[str, date | str]:
    """Store the load's digests and what it changed (in the load's transaction).

    The comparison is known only when the stored digests describe the data the load
    replaced: rows written by other means since then make this load's changes unknown."""
    described = conn.execute(
        select(ecc_meta.c.value).where(ecc_meta.c.key == DIGESTS_VERSION)
    ).scalar()
    known = previous_version is not None and described == previous_version
    before = previous_digests(conn)
    changes = compare(before, {t: d for t, d in digests.items() if t != "customers"})
    if customer_change is not None:
        changes["customers"] = customer_change
    conn.execute(source_digests.delete())
    rows = [
        {"table_name": t, "day": d, "rows": n, "digest": h}
        for t, by_day in digests.items()
        if t != "customers"
        for d, (n, h) in by_day.items()
    ]
    for i in range(0, len(rows), 5000):
        conn.execute(insert(source_digests), rows[i : i + 5000])
    conn.execute(ecc_meta.delete().where(ecc_meta.c.key == DIGESTS_VERSION))
    conn.execute(ecc_meta.insert().values(key=DIGESTS_VERSION, value=version))
    conn.execute(
        insert(source_changes).values(
            data_version=version,
            previous_version=previous_version if known else None,
            changes=orjson.dumps(
                {t: (v if isinstance(v, str) else v.isoformat()) for t, v in changes.items()}
            ).decode(),
            recorded_at=utcnow(),
        )
    )
    return changes


def changes_since(conn: Connection, since: str, current: str) -> dict[str, date] | None:
    """Per table, the earliest day changed by the loads after data version ``since`` up to
    ``current`` (``WHOLE_TABLE`` for a table changed as a whole); None when unknown."""
    if since == current:
        return {}
    records = {r.data_version: r for r in conn.execute(select(source_changes))}
    out: dict[str, date] = {}
    version: str | None = current
    for _ in range(len(records)):
        record = records.get(version) if version is not None else None
        if record is None or record.previous_version is None:
            return None
        for table, value in orjson.loads(record.changes).items():
            day = WHOLE_TABLE if value == ALL else date.fromisoformat(value)
            out[table] = min(out.get(table, day), day)
        version = record.previous_version
        if version == since:
            return out
    return None
