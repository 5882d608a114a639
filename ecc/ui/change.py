"""A number against the comparison period: how it moved, its arrow and its colour.

One reading for every place a comparison is shown — the KPI cards, the table cells and the
summary tiles: the change as the number is formatted (``+$1.2M``, ``+3.1 pts``); a change
that rounds to nothing as shown is "no change"; the arrow (▲ ▼ ■) says the direction and
the colour whether it is good news, so the state is readable without colour too.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import formatting as fmt


def _days(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f} days"


def _hours(v: float | None) -> str:
    return "—" if v is None else f"{v:,.1f} h"


#: How a value of each unit is written.
FORMATTERS: dict[str, Callable[[Any], str]] = {
    "money": fmt.money,
    "rate": fmt.pct,
    "score": fmt.score,
    "count": fmt.number,
    "days": _days,
    "hours": _hours,
}

#: How a unit's change is written (``formatting.delta`` kinds).
DELTA_KIND = {"rate": "rate", "money": "money", "score": "score", "hours": "score"}


@dataclass(frozen=True)
class Change:
    """A value's change: ``arrow`` ▲ ▼ ■, ``text`` ("+$1.2M" or "no change") and ``tone``
    good / bad / flat (flat: no change, or a metric where neither way is good news)."""

    arrow: str
    text: str
    tone: str


def change(value: Any, before: Any, unit: str, good: str) -> Change | None:
    """``value`` against ``before`` (None when either is unknown); ``good`` is the way of
    change that is good news: "up", "down" or "neutral"."""
    if value is None or before is None:
        return None
    diff = float(value) - float(before)
    text = fmt.delta(value, before, DELTA_KIND.get(unit, "number"))
    if not re.sub(r"[^1-9]", "", text):  # rounds to zero as shown: no change
        diff, text = 0.0, "no change"
    arrow = "▲" if diff > 0 else ("▼" if diff < 0 else "■")
    tone = "flat"
    if diff != 0 and good != "neutral":
        tone = "good" if (diff > 0) == (good == "up") else "bad"
    return Change(arrow, text, tone)


def change_span(key: str, value: Any, before: Any, unit: str, good: str) -> str:
    """A table cell's second line: the change since the comparison period, carrying
    ``data-compare`` (the METRICS.md key path) and ``data-value`` (the comparison value),
    so a page's comparison can be checked against ``ecc metrics --compare`` too."""
    raw = "" if before is None else json.dumps(before)
    moved = change(value, before, unit, good)
    if moved is None:
        shown, tone = ("no value then" if before is None else "—"), "flat"
        words = shown
    else:
        shown, tone = f"{moved.arrow} {moved.text}", moved.tone
        words = f"{moved.text}, was {fmt_unit(before, unit)}"
    return (
        f'<span class="ecc-chg {tone}" data-compare="{_esc(key)}" data-value="{_esc(raw)}" '
        f'title="{_esc(words)}">{_esc(shown)}</span>'
    )


def fmt_unit(value: Any, unit: str) -> str:
    """A value written as its unit is (money, rate, score, count, days, hours)."""
    return FORMATTERS.get(unit, fmt.number)(value)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
