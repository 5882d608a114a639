"""An optional Redis read-through layer (``ECC_REDIS_URL``) in front of the cache table.

Keys carry the database's identity, its data version and the cache generation (bumped
by every refresh), so a value can never outlive the data or the refresh it came from;
a refresh also deletes the database's keys. Redis being down never fails a page: the
layer logs once and steps aside until it answers again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, cast

import orjson

from .. import variables
from ..config import redact_url

log = logging.getLogger("ecc.cache")

#: Seconds a value lives in Redis (a refresh invalidates earlier).
TTL = 3600
#: After a failure, Redis is not asked again for this long (seconds).
RETRY_AFTER = 30.0


class RedisLayer:
    def __init__(self, url: str, database_url: str) -> None:
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = "ecc:" + hashlib.sha256(database_url.encode()).hexdigest()[:12] + ":"
        self._down_until = 0.0

    def _key(self, generation: str, key: str, areas: tuple[str, ...]) -> str:
        return f"{self.prefix}{generation}:{key}:{','.join(areas)}"

    def get(self, generation: str, key: str, areas: tuple[str, ...]) -> dict[str, Any] | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            raw = self.client.get(self._key(generation, key, areas))
        except Exception as exc:  # any Redis failure: step aside
            self._failed(exc)
            return None
        if raw is None:
            return None
        value: dict[str, Any] = orjson.loads(cast(bytes, raw))
        return value

    def put(self, generation: str, key: str, areas: tuple[str, ...], value: dict[str, Any]) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            self.client.set(
                self._key(generation, key, areas),
                orjson.dumps(value),
                ex=TTL,
            )
        except Exception as exc:
            self._failed(exc)

    def invalidate(self) -> int:
        """Delete every key of this database; the number deleted (0 when Redis is down)."""
        try:
            n = 0
            batch: list[Any] = []
            for k in self.client.scan_iter(match=self.prefix + "*", count=1000):
                batch.append(k)
                if len(batch) >= 1000:
                    n += cast(int, self.client.delete(*batch))
                    batch = []
            if batch:
                n += cast(int, self.client.delete(*batch))
            return n
        except Exception as exc:
            self._failed(exc)
            return 0

    def _failed(self, exc: Exception) -> None:
        if self._down_until == 0.0 or time.monotonic() >= self._down_until:
            log.warning(
                "Redis at %s is not answering (%s); reading without it", redact_url(self.url), exc
            )
        self._down_until = time.monotonic() + RETRY_AFTER


_LAYERS: dict[tuple[str, str], RedisLayer] = {}


def layer_for(database_url: str) -> RedisLayer | None:
    """The Redis layer for a database when ``ECC_REDIS_URL`` is set, else None."""
    url = variables.value("ECC_REDIS_URL")
    if not url:
        return None
    key = (url, database_url)
    if key not in _LAYERS:
        _LAYERS[key] = RedisLayer(url, database_url)
    return _LAYERS[key]
