"""Cache rows: one per (request, area), plus a ``_meta`` row per request.

A row holds the area's values and, when the request has a computable comparison, the
same area over the comparison period, as JSON. A row is valid only while its
``data_version`` equals the database's (``ecc_meta``): a load makes every row miss
until the next refresh, so the cache never serves numbers of replaced data. The check
and the read are one statement, and a refresh replaces all rows in one transaction,
so a reader sees the previous refresh or the new one, never a mix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from ..metrics.compute import EXTRA_AREAS
from ..metrics.scope import Scope
from ..periods import Comparison, Period
from ..schema import area_results, dashboard_metrics, ecc_meta

META = "_meta"


@dataclass(frozen=True)
class CacheRow:
    """A ``_meta`` row carries its JSON; an area row the keys of its two results."""

    cache_key: str
    area: str
    payload: str | None = None
    value_ref: str | None = None
    comparison_ref: str | None = None


@dataclass(frozen=True)
class Cached:
    """A request's metrics read from the cache and when the refresh computed them."""

    data: dict[str, Any]
    computed_at: datetime


def meta_row(
    key: str,
    period: Period,
    comparison: Comparison | None,
    scope: Scope,
    computable: bool,
) -> CacheRow:
    """The ``_meta`` row of a request: what ``compute_all`` puts around the areas."""
    meta = {
        "period": period.as_dict(),
        "comparison": comparison.as_dict() if comparison is not None else None,
        "filters": scope.as_dict(),
        "computable": computable,
    }
    return CacheRow(key, META, payload=_dumps(meta))


def body(value: str | bytes, comparison: str | bytes | None) -> str:
    """An area row's JSON, ``{"value": ..., "comparison": ...}``, from its results' JSON."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(comparison, bytes):
        comparison = comparison.decode()
    return f'{{"value":{value},"comparison":{"null" if comparison is None else comparison}}}'


def assemble(payloads: dict[str, str], areas: Sequence[str]) -> dict[str, Any] | None:
    """The ``compute_all`` object for ``areas`` from cache rows; None when one is missing."""
    if META not in payloads or any(a not in payloads for a in areas):
        return None
    meta = orjson.loads(payloads[META])
    out: dict[str, Any] = {
        "period": meta["period"],
        "comparison": meta["comparison"],
        "filters": meta["filters"],
    }
    bodies = {a: orjson.loads(payloads[a]) for a in areas}
    for area in areas:
        out[area] = bodies[area]["value"]
    if meta["comparison"] is not None:
        out["comparison_values"] = (
            {a: bodies[a]["comparison"] for a in areas if a not in EXTRA_AREAS}
            if meta["computable"]
            else None
        )
    return out


def payloads(
    conn: Connection,
    key: str | None = None,
    areas: Sequence[str] | None = None,
    *,
    stale: bool = False,
) -> dict[tuple[str, str], tuple[str, datetime]]:
    """(cache key, area) -> (the row's JSON, computed_at) of one request (``key``,
    ``areas``) or of every row; of the current data version only unless ``stale``."""
    current = select(ecc_meta.c.value).where(ecc_meta.c.key == "data_version").scalar_subquery()
    t = dashboard_metrics
    v = area_results.alias("v")
    c = area_results.alias("c")
    q = select(
        t.c.cache_key, t.c.area, t.c.payload, v.c.payload, c.c.payload, t.c.computed_at
    ).select_from(
        t.outerjoin(v, v.c.result_key == t.c.value_ref).outerjoin(
            c, c.c.result_key == t.c.comparison_ref
        )
    )
    if not stale:
        q = q.where(t.c.data_version == current)
    if key is not None:
        q = q.where(t.c.cache_key == key)
    if areas is not None:
        q = q.where(t.c.area.in_([META, *areas]))
    out: dict[tuple[str, str], tuple[str, datetime]] = {}
    for cache_key, area, own, value, comparison, computed_at in conn.execute(q):
        if own is not None:
            out[(cache_key, area)] = (own, computed_at)
        elif value is not None:
            out[(cache_key, area)] = (body(value, comparison), computed_at)
        # a row whose result is missing is a miss (it cannot be, see the module doc)
    return out


def read(conn: Connection, key: str, areas: Sequence[str]) -> Cached | None:
    """The cached metrics of ``key`` for ``areas``, or None (a miss or stale rows)."""
    rows = payloads(conn, key, areas)
    data = assemble({area: p for (_, area), (p, _) in rows.items()}, areas)
    if data is None:
        return None
    return Cached(data=data, computed_at=min(at for _, at in rows.values()))


def replace_all(
    conn: Connection,
    rows: Iterable[CacheRow],
    *,
    data_version: str,
    data_as_of: date,
    computed_at: datetime,
    batch: int = 2000,
) -> int:
    """Replace every cache row with ``rows`` inside the caller's transaction; rows written."""
    conn.execute(dashboard_metrics.delete())
    n = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(
            {
                "cache_key": row.cache_key,
                "area": row.area,
                "payload": row.payload,
                "value_ref": row.value_ref,
                "comparison_ref": row.comparison_ref,
                "data_version": data_version,
                "data_as_of": data_as_of,
                "computed_at": computed_at,
            }
        )
        if len(chunk) >= batch:
            conn.execute(insert(dashboard_metrics), chunk)
            n += len(chunk)
            chunk = []
    if chunk:
        conn.execute(insert(dashboard_metrics), chunk)
        n += len(chunk)
    return n


def _dumps(value: Any) -> str:
    # orjson writes floats in their shortest round-trip form and parses them back to the
    # same value, so a cached value equals the computed one (and reads are fast: a large
    # area such as every renewal due this quarter at 100k customers is megabytes)
    return orjson.dumps(value).decode()
