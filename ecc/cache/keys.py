"""The cache key of a metrics request: what the numbers depend on, and nothing else."""

from __future__ import annotations

from ..metrics.scope import Scope
from ..periods import Period

#: Bump when the payload layout changes; old rows then simply miss.
LAYOUT = "1"


def cache_key(period: Period, compare: str | None, scope: Scope) -> str:
    """``1|this_quarter|2026-10-01|2026-11-24|previous|Enterprise|csm-7``.

    The preset is part of the key because a preset and an equal custom range have
    different previous periods (METRICS.md, Readings).
    """
    return "|".join(
        (
            LAYOUT,
            period.preset,
            period.start.isoformat(),
            period.end.isoformat(),
            compare or "none",
            scope.segment or "",
            scope.csm_id or "",
        )
    )
