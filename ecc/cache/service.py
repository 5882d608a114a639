"""Metrics for a request: from Redis, the cache table, or computed — the same numbers.

Dashboards, reports and ``ecc metrics`` call :func:`metrics_for`. A request the last
refresh pre-aggregated is one indexed read; anything else (a custom range, a CSM's
filter with a preset the refresh did not cover, data loaded since the refresh) is
computed from the source tables, and with Redis configured kept there for the next
viewer until the next refresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from ..clock import utcnow
from ..metrics.compute import AREAS, compute_all
from ..metrics.scope import Scope
from ..periods import Period
from ..schema import ecc_meta
from . import store
from .keys import cache_key
from .redis_layer import layer_for


@dataclass(frozen=True)
class Metrics:
    """A request's metrics and where they came from.

    ``computed_at`` is when the numbers were computed (the refresh time for cached ones,
    now for live ones); ``source`` is ``cache``, ``redis`` or ``computed``.
    """

    data: dict[str, Any]
    computed_at: datetime
    source: str


def generation(conn: Connection) -> tuple[str | None, str | None]:
    """(data_version, cache_generation) from ecc_meta, in one statement."""
    rows = dict(
        conn.execute(
            select(ecc_meta.c.key, ecc_meta.c.value).where(
                ecc_meta.c.key.in_(("data_version", "cache_generation"))
            )
        ).all()
    )
    return rows.get("data_version"), rows.get("cache_generation")


def metrics_for(
    source: Engine | Connection,
    period: Period,
    *,
    compare: str | None = None,
    scope: Scope | None = None,
    areas: Iterable[str] | None = None,
    use_cache: bool = True,
) -> Metrics:
    """The metrics of METRICS.md for the request, read through the caches when possible."""
    if isinstance(source, Engine):
        with source.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            return metrics_for(
                conn, period, compare=compare, scope=scope, areas=areas, use_cache=use_cache
            )
    conn = source
    scope = scope or Scope()
    names = tuple(AREAS) if areas is None else tuple(areas)
    if not use_cache:
        data = compute_all(conn, period, compare=compare, scope=scope, areas=names)
        return Metrics(data, utcnow(), "computed")
    key = cache_key(period, compare, scope)
    version, gen = generation(conn)
    redis = layer_for(conn.engine.url.render_as_string(hide_password=True))
    redis_gen = f"{version}:{gen}"
    if redis is not None and version is not None:
        hit = redis.get(redis_gen, key, names)
        if hit is not None:
            return Metrics(hit["data"], datetime.fromisoformat(hit["computed_at"]), "redis")
    cached = store.read(conn, key, names)
    if cached is not None:
        result = Metrics(cached.data, cached.computed_at, "cache")
    else:
        data = compute_all(conn, period, compare=compare, scope=scope, areas=names)
        result = Metrics(data, utcnow(), "computed")
    if redis is not None and version is not None:
        redis.put(
            redis_gen,
            key,
            names,
            {"data": result.data, "computed_at": result.computed_at.isoformat()},
        )
    return result
