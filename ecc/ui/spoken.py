"""Numbers as a screen reader should say them: "$44.86M" is "44.86 million dollars",
"92.3%" is "92.3 percent", "+3.1 pts" is "up 3.1 points".

A KPI card or summary tile is announced as one sentence — "ARR, 44.86 million dollars,
up 4.57 million dollars vs previous period" — while its visible parts (the compact value,
the arrow, the signed change) are hidden from assistive technology.
"""

from __future__ import annotations

import html
import re

from .change import Change

_MONEY = re.compile(r"^([-\u2212+]?)\$([\d,.]+)([MK]?)$")
_SCALE = {"M": " million", "K": " thousand", "": ""}
_UNITS = (
    (re.compile(r"%$"), " percent"),
    (re.compile(r" pts$"), " points"),
    (re.compile(r" h$"), " hours"),
)
_DIRECTION = {"▲": "up", "▼": "down"}


def amount(shown: str) -> str:
    """A value as written on the page, in words a screen reader says well."""
    text = shown.strip()
    if text in ("", "—", "–"):
        return "no value"
    money = _MONEY.match(text)
    if money:
        sign, digits, scale = money.groups()
        minus = "minus " if sign in ("-", "\u2212") else ""
        unit = "dollar" if digits == "1" and not scale else "dollars"
        return f"{minus}{digits}{_SCALE[scale]} {unit}"
    for pattern, words in _UNITS:
        text = pattern.sub(words, text)
    return text.replace("\u2212", "minus ")


def moved(change: Change | None, label: str) -> str:
    """A change as words: "up 4.57 million dollars vs previous period"; ``label`` alone when
    there is no change to tell (no comparison value)."""
    if change is None:
        return label
    if change.arrow not in _DIRECTION:
        return f"no change {label}".strip()
    size = amount(change.text.lstrip("+-\u2212±"))
    return f"{_DIRECTION[change.arrow]} {size} {label}".strip()


def sentence(*parts: str) -> str:
    """Parts joined as one announcement, empty parts left out."""
    return ", ".join(p for p in parts if p)


def for_readers(text: str) -> str:
    """Text only assistive technology reads (class ``ecc-sr``: visually hidden)."""
    return f'<span class="ecc-sr">{html.escape(text)}</span>'
