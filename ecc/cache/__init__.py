"""Pre-aggregated metrics (FR-2): the ``dashboard_metrics`` cache and its refresh job.

- :mod:`.keys`: the cache key of a request.
- :mod:`.store`: reading and writing cache rows; a read never sees a half-written refresh.
- :mod:`.redis_layer`: an optional Redis read-through layer in front of the table.
- :mod:`.lock`: one refresh at a time per database.
- :mod:`.refresh`: the refresh job (``ecc refresh``).
- :mod:`.service`: what dashboards, reports and ``ecc metrics`` call — the cache, or a
  computation on a miss, with identical results.
"""

from .service import Metrics, metrics_for

__all__ = ["Metrics", "metrics_for"]
