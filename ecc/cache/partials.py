"""Intermediate results carried from one refresh to the next (``partial_results``).

Inside a refresh every area is built from shared intermediate results: a date's customer
summaries, a range's retention or activity sums, a segment-grouped query
(:meth:`ecc.cache.plan.RefreshSharing.shared`). Their keys name the dates they read up to, so, like
the areas (:mod:`.carry`), they stay valid while no source row dated on or before the
latest date in their key changed — and, as they are not tied to one area, while no
table without a day key (renewals, CSMs, targets, a customer's attributes) changed at
all. A refresh loads such a result instead of computing it; the idle refresh that
prepares tomorrow computes tomorrow's whole plan on today's data, so that the refresh
after the next day's data finds every intermediate of an earlier date already there.

Values are pickled, and read back by an unpickler that builds only plain data —
containers, numbers, dates, decimals and the record classes of metric modules already
loaded (an explicit check of module and name before anything is looked up; no dotted
names, nothing imported) — and refuses blobs over :data:`MAX_BLOB`, so a row written into
the table by anyone else cannot run code or exhaust memory in a refresh; such a row is
a miss, and the result is computed again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import sys
from collections.abc import Hashable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ..changes import changes_since
from ..clock import utcnow
from ..periods import Period
from ..schema import partial_results
from .carry import CODE, is_area_key


def reads_until(key: Any) -> date | None:
    """The latest date named anywhere in ``key`` (None when it names none)."""
    if isinstance(key, date):
        return key.date() if isinstance(key, datetime) else key
    if isinstance(key, Period):
        return key.end
    if isinstance(key, tuple | list | frozenset):
        dates = [d for d in (reads_until(k) for k in key) if d is not None]
        return max(dates) if dates else None
    return None


#: What a kept intermediate may be made of (module -> names), besides the records of
#: ``ecc.metrics`` (dataclasses and named tuples). No ``bytes``: called with a number it
#: allocates that many bytes (pickle writes bytes values with opcodes, not this name).
_PLAIN: dict[str, frozenset[str]] = {
    "builtins": frozenset(
        {"dict", "list", "tuple", "set", "frozenset", "int", "float", "str", "bool"}
    ),
    "decimal": frozenset({"Decimal"}),
    "datetime": frozenset({"date", "datetime", "timedelta"}),
    "collections": frozenset({"OrderedDict", "defaultdict", "Counter"}),
}
#: A kept intermediate larger than this is not kept, and one read back is a miss.
MAX_BLOB = 256 * 1024 * 1024


def _record_type(module: str, name: str) -> type[Any] | None:
    """A record class of a metric module that is already loaded — a dataclass or a named
    tuple defined there, named directly (no dotted path): nothing is imported here."""
    loaded = sys.modules.get(module) if module.startswith("ecc.metrics.") else None
    if loaded is None or "." in name:
        return None
    found = vars(loaded).get(name)
    if not isinstance(found, type) or found.__module__ != module:
        return None
    if dataclasses.is_dataclass(found) or (issubclass(found, tuple) and hasattr(found, "_fields")):
        return found
    return None


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if name in _PLAIN.get(module, frozenset()):
            return super().find_class(module, name)
        record = _record_type(module, name)
        if record is not None:
            return record
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _loads(blob: bytes) -> Any:
    if len(blob) > MAX_BLOB:
        raise pickle.UnpicklingError(f"a kept result of {len(blob):,} bytes is over the cap")
    return _PlainUnpickler(io.BytesIO(blob)).load()


class Partials:
    """The kept intermediate results usable now, loaded on demand (``reuse.Kept``)."""

    def __init__(self, conn: Connection, version: str, settings: str, *, load: bool) -> None:
        self.conn = conn
        self.version = version
        self.salt = f"{CODE}|{settings}"
        self.loading = load  # False: compute everything (``--full``), keep what is valid
        self.valid: set[str] = set()
        self.used: set[str] = set()
        self._index()

    def digest(self, key: Hashable) -> str | None:
        if is_area_key(key) or reads_until(key) is None:
            return None
        return hashlib.blake2b(f"{self.salt}|{key!r}".encode(), digest_size=16).hexdigest()

    def _index(self) -> None:
        t = partial_results
        folded: dict[str, dict[str, date] | None] = {}
        for result_key, until, version in self.conn.execute(
            select(t.c.result_key, t.c.reads_until, t.c.data_version)
        ):
            if version not in folded:
                folded[version] = changes_since(self.conn, version, self.version)
            changes = folded[version]
            # any table counts: an intermediate may be read by any area
            if changes is not None and all(day > until for day in changes.values()):
                self.valid.add(result_key)

    def has(self, key: Hashable) -> bool:
        d = self.digest(key)
        return self.loading and d is not None and d in self.valid

    def load(self, key: Hashable) -> tuple[bool, Any]:
        d = self.digest(key)
        if not self.loading or d is None or d not in self.valid:
            return False, None
        t = partial_results
        blob = self.conn.execute(select(t.c.value).where(t.c.result_key == d)).scalar()
        if blob is None:
            return False, None
        try:
            value = _loads(blob)
        except Exception:  # not written by a refresh: compute it again
            return False, None
        self.used.add(d)
        return True, value

    def save(
        self, conn: Connection, results: Iterable[tuple[Hashable, Any]], *, prune: bool
    ) -> int:
        """Keep the results this run computed (inside the caller's transaction) and drop
        the kept ones no longer valid; with ``prune``, keep only what this run computed or
        used (the run that computes tomorrow's requests: exactly what tomorrow needs).
        The number written."""
        t = partial_results
        now = utcnow()
        rows: dict[str, dict[str, Any]] = {}
        for key, value in results:
            d = self.digest(key)
            if d is None or d in self.used or d in rows:
                continue
            try:
                blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # not picklable: computed again next time
                continue
            if len(blob) > MAX_BLOB:  # would be refused when read back
                continue
            until = reads_until(key)
            assert until is not None
            rows[d] = {
                "result_key": d,
                "key": repr(key)[:2000],
                "reads_until": until,
                "data_version": self.version,
                "value": blob,
                "computed_at": now,
            }
        existing = {r[0] for r in conn.execute(select(t.c.result_key))}
        stale = existing - self.valid
        drop = existing - self.used if prune else stale | (existing & set(rows))
        for chunk in _chunks(sorted(drop), 500):
            conn.execute(delete(t).where(t.c.result_key.in_(chunk)))
        for chunk in _chunks(list(rows.values()), 100):
            conn.execute(insert(t), chunk)
        return len(rows)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
