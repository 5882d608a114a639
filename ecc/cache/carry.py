"""Area results carried from one refresh to the next (``area_results``).

Every area a refresh computes — one metric family for one period, scope, comparison and
settings — is kept with the data version it was computed from and the latest day it can
read (the period's end). A later refresh hands it out again instead of recomputing it
while nothing it reads has changed: :func:`ecc.changes.changes_since` tells, per source
table, the earliest day the loads since then changed, and an area is reused only when
every table it reads (``READS``) is unchanged or changed only after the area's last day.
A new day of data therefore recomputes the periods that contain it and reuses the
closed ones: last month, last quarter and every comparison period.

Results of other metric code are never reused (``CODE``), nor after rows were written
by anything but a load (the change is then unknown).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select

from ..changes import changes_since
from ..clock import utcnow
from ..metrics.scope import Scope
from ..periods import Period
from ..schema import area_results, dashboard_metrics

#: Source tables each area reads (directly, through shared helpers or month-end
#: snapshots, which are built from ``arr_events`` and ``health_scores``).
#: ``tests/test_carry.py`` records the tables each area's statements name and checks
#: they are listed here.
READS: dict[str, frozenset[str]] = {
    area: frozenset(tables)
    for area, tables in {
        "portfolio": ("customers", "arr_events", "health_scores"),
        "retention": (
            "customers",
            "arr_events",
            "health_scores",
            "renewals",
            "expansion_opportunities",
            "targets",
        ),
        "retention_history": ("customers", "arr_events", "health_scores"),
        "summary_trend": (
            "customers",
            "arr_events",
            "health_scores",
            "renewals",
            "expansion_opportunities",
            "csms",
        ),
        "risk": ("customers", "arr_events", "health_scores", "save_plays"),
        "renewals": ("customers", "renewals", "targets"),
        "expansion": ("customers", "expansion_opportunities", "arr_events", "targets"),
        "csms": ("customers", "arr_events", "health_scores", "activities", "csms"),
        "workload": (
            "customers",
            "arr_events",
            "health_scores",
            "renewals",
            "save_plays",
            "csms",
        ),
        "segments": ("customers", "arr_events", "health_scores", "support_tickets"),
    }.items()
}


def _code_digest() -> str:
    """A digest of the code that defines the numbers: a result computed by other code is
    not reused."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(
        [*root.joinpath("metrics").glob("*.py"), root / "config.py", root / "periods.py"]
    ):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


CODE = _code_digest()

AreaKey = tuple[Any, ...]  # ("area", name, start, end, scope, comparison, settings repr)


def _encode(key: AreaKey) -> str:
    _, name, start, end, scope, comparison, settings = key
    return orjson.dumps(
        [
            name,
            start.isoformat(),
            end.isoformat(),
            scope.segment,
            scope.csm_id,
            None
            if comparison is None
            else [comparison.start.isoformat(), comparison.end.isoformat()],
            settings,
        ]
    ).decode()


def _decode(text: str) -> AreaKey:
    name, start, end, segment, csm, comparison, settings = orjson.loads(text)
    return (
        "area",
        name,
        date.fromisoformat(start),
        date.fromisoformat(end),
        Scope(segment=segment, csm_id=csm),
        None
        if comparison is None
        else Period(date.fromisoformat(comparison[0]), date.fromisoformat(comparison[1])),
        settings,
    )


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def is_area_key(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 7 and key[0] == "area"


def _still_valid(area: str, reads_until: date, changes: Mapping[str, date] | None) -> bool:
    if changes is None or area not in READS:
        return False
    return all(changes.get(t, date.max) > reads_until for t in READS[area])


def result_key(key: AreaKey) -> str:
    """The ``area_results`` row of an area key (what cache rows name)."""
    return _digest(_encode(key))


def usable(conn: Connection, version: str, keys: Iterable[AreaKey]) -> set[AreaKey]:
    """Those of ``keys`` kept by an earlier refresh that nothing changed since (the data is
    now at ``version``): their rows can be named by the new cache as they are."""
    t = area_results
    wanted = {result_key(k): k for k in keys}
    folded: dict[str, Mapping[str, date] | None] = {}
    out: set[AreaKey] = set()
    for row in conn.execute(
        select(t.c.result_key, t.c.area, t.c.reads_until, t.c.data_version).where(t.c.code == CODE)
    ):
        if row.result_key not in wanted:
            continue
        if row.data_version not in folded:
            folded[row.data_version] = changes_since(conn, row.data_version, version)
        if _still_valid(row.area, row.reads_until, folded[row.data_version]):
            out.add(wanted[row.result_key])
    return out


def keep(
    conn: Connection,
    results: Iterable[tuple[AreaKey, Any]],
    *,
    carried: set[AreaKey],
    version: str,
    wanted: Iterable[AreaKey] | None = None,
    protect_cache: bool = False,
) -> int:
    """Store the newly computed ``results`` (inside the caller's transaction) and drop
    kept results that are neither still valid (``carried``) nor new. With ``wanted``,
    only those keys are kept, and with ``protect_cache`` also every result the cache names
    (outside a refresh's swap, which replaces the cache in the same transaction). The
    number of new rows."""
    t = area_results
    now = utcnow()
    keys = set(carried)
    rows: list[dict[str, Any]] = []
    for key, value in results:
        if key in carried or key in keys:
            continue
        keys.add(key)
        encoded = _encode(key)
        rows.append(
            {
                "result_key": _digest(encoded),  # = result_key(key)
                "key": encoded,
                "area": key[1],
                "reads_until": key[3],
                "data_version": version,
                "code": CODE,
                "payload": orjson.dumps(value).decode(),
                "computed_at": now,
            }
        )
    if wanted is not None:
        keys &= set(wanted)
        rows = [r for r in rows if _decode(r["key"]) in keys]
    keep_digests = {result_key(k) for k in keys}
    if protect_cache:  # whatever the cache now names stays, whoever computed it
        for refs in conn.execute(
            select(dashboard_metrics.c.value_ref, dashboard_metrics.c.comparison_ref)
        ):
            keep_digests.update(r for r in refs if r is not None)
    new = {r["result_key"] for r in rows}
    existing = {r[0] for r in conn.execute(select(t.c.result_key))}
    drop = sorted((existing - keep_digests) | (existing & new))
    for chunk in _chunks(drop, 500):
        conn.execute(delete(t).where(t.c.result_key.in_(chunk)))
    for chunk in _chunks(rows, 200):
        conn.execute(insert(t), chunk)
    return len(rows)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
