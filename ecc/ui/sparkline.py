"""A tile's trend line: a small inline SVG drawn on the server, with a text alternative.

Twelve points need no chart library: a polyline scaled to the points' own range, the
last point marked, and gaps where a value is missing. The SVG's ``aria-label`` and
``<title>`` say what it shows and where it started and ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .. import formatting as f
from .change import FORMATTERS
from .spoken import amount

WIDTH, HEIGHT, PAD = 120, 28, 3


def _y(value: float, low: float, high: float) -> float:
    if high == low:
        return HEIGHT / 2
    return PAD + (HEIGHT - 2 * PAD) * (high - value) / (high - low)


def sparkline(values: Sequence[float | None], *, unit: str, label: str) -> str:
    """An SVG line of ``values`` (oldest first); empty when fewer than two are known."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)
    runs: list[list[str]] = [[]]
    last = (0.0, 0.0)
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
            continue
        last = (PAD + i * step, _y(v, low, high))
        runs[-1].append(f"{last[0]:.1f},{last[1]:.1f}")
    written = FORMATTERS.get(unit, f.number)

    def shown(v: float) -> str:  # as a screen reader says it: 2.39 million dollars
        return amount(written(v))

    first_known, last_known = known[0], known[-1]
    text = (
        f"{label}: from {shown(first_known)} to {shown(last_known)} "
        f"(low {shown(low)}, high {shown(high)})"
    )
    lines = "".join(
        f'<polyline points="{" ".join(r)}" fill="none" stroke="currentColor" '
        'stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round"/>'
        for r in runs
        if len(r) > 1
    )
    return (
        f'<svg class="ecc-spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(text)}">'
        f"<title>{escape(text)}</title>{lines}"
        f'<circle cx="{last[0]:.1f}" cy="{last[1]:.1f}" r="2.4" fill="currentColor"/></svg>'
    )
