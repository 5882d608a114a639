"""The weekly health scores of a demo customer and what they say about renewals.

A mean-reverting random walk towards the customer's level of the contract year,
lower while onboarding and during the dips the simulation marked; one integer score
a week over each active interval. The latest score before a day sets the chance
that a renewal's forecast is at risk.
"""

from __future__ import annotations

import bisect
import random

from .portfolio import Customer


def _target(c: Customer, t: int, level: float) -> float:
    x = level
    since = t - c.signup
    if since < 90:
        x -= (90 - since) / 90 * 12.0
    for a, peak, b, drop in c.marks:
        if a <= t < b:
            if t < peak:
                x -= drop * (t - a) / (peak - a)
            else:
                x -= drop * (b - t) / (b - peak)
    return x


def weekly_scores(rng: random.Random, c: Customer, today: int) -> list[tuple[int, int]]:
    """Weekly integer scores over the active intervals (a mean-reverting walk)."""
    out: list[tuple[int, int]] = []
    phase = rng.randrange(7)
    levels = c.levels
    li = 0
    gauss = rng.gauss
    for n, (a, b) in enumerate(c.intervals):
        first = a + 14 + phase if n == 0 else a + 7
        last = min(b - 1, today)
        if first > last:
            continue
        while li + 1 < len(levels) and levels[li + 1][0] <= first:
            li += 1
        x = _target(c, first, levels[li][1]) - 5.0 + gauss(0.0, 5.0)
        for t in range(first, last + 1, 7):
            while li + 1 < len(levels) and levels[li + 1][0] <= t:
                li += 1
            x += 0.3 * (_target(c, t, levels[li][1]) - x) + gauss(0.0, 3.5)
            s = int(x + 0.5)
            out.append((t, 0 if s < 0 else 100 if s > 100 else s))
    return out


def score_at(days: list[int], scores: list[tuple[int, int]], d: int) -> int | None:
    i = bisect.bisect_right(days, d)
    return scores[i - 1][1] if i else None


def p_at_risk(score: int | None) -> float:
    if score is None:
        return 0.15
    if score < 40:
        return 0.85
    if score < 55:
        return 0.55
    if score < 70:
        return 0.22
    return 0.06
