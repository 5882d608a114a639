"""The small random draws of the demo: Poisson counts, weighted picks and rounding.

Every random choice of the simulation goes through the one seeded
``random.Random`` that :func:`~ecc.demo.build.generate` creates; these helpers only
shape its draws. ARR amounts are rounded to a unit that depends on the segment.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

from .params import INITIAL_ARR


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's product method; normal approximation above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def pick(rng: random.Random, weighted: Iterable[tuple[str, float]]) -> str:
    items = list(weighted)
    u = rng.random() * sum(w for _, w in items)
    for value, w in items:
        u -= w
        if u < 0:
            return value
    return items[-1][0]


def round_to(x: float, unit: int) -> int:
    return max(unit, round(x / unit) * unit)


def unit_for(segment: str) -> int:
    return INITIAL_ARR[segment][4]
