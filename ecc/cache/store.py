"""Cache rows: one per (request, area), plus a ``_meta`` row per request.

A row holds the area's values and, when the request has a computable comparison, the
same area over the comparison period, as JSON. A row is valid only while its
``data_version`` equals the database's (``ecc_meta``): a load makes every row miss
until the next refresh, so the cache never serves numbers of replaced data. The check
and the read are one statement, and a refresh replaces all rows in one transaction,
so a reader sees the previous refresh or the new one, never a mix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from ..metrics.compute import EXTRA_AREAS
from ..schema import dashboard_metrics, ecc_meta

META = "_meta"


@dataclass(frozen=True)
class CacheRow:
    cache_key: str
    area: str
    payload: str


@dataclass(frozen=True)
class Cached:
    """A request's metrics read from the cache and when the refresh computed them."""

    data: dict[str, Any]
    computed_at: datetime


def split(key: str, result: dict[str, Any], areas: Sequence[str]) -> Iterator[CacheRow]:
    """The cache rows of one ``compute_all`` result (its areas and comparison values)."""
    cvalues = result.get("comparison_values")
    meta = {
        "period": result["period"],
        "comparison": result["comparison"],
        "filters": result["filters"],
        "computable": cvalues is not None,
    }
    yield CacheRow(key, META, _dumps(meta))
    for area in areas:
        body = {"value": result[area], "comparison": cvalues.get(area) if cvalues else None}
        yield CacheRow(key, area, _dumps(body))


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


def read(conn: Connection, key: str, areas: Sequence[str]) -> Cached | None:
    """The cached metrics of ``key`` for ``areas``, or None (a miss or stale rows)."""
    current = select(ecc_meta.c.value).where(ecc_meta.c.key == "data_version").scalar_subquery()
    t = dashboard_metrics
    rows = conn.execute(
        select(t.c.area, t.c.payload, t.c.computed_at).where(
            t.c.cache_key == key,
            t.c.area.in_([META, *areas]),
            t.c.data_version == current,
        )
    ).all()
    data = assemble({r.area: r.payload for r in rows}, areas)
    if data is None:
        return None
    return Cached(data=data, computed_at=min(r.computed_at for r in rows))


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
