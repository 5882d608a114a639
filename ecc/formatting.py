"""How numbers read for people: money, rates, scores and changes (terminal, pages, reports)."""

from __future__ import annotations

from datetime import date
from typing import Any


def money(value: float | None, *, compact: bool = True) -> str:
    """$1.25M, $48.2K, $950 — or the full amount with ``compact=False``."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if not compact:
        return f"{sign}${v:,.0f}"
    if v >= 1_000_000:
        return f"{sign}${v / 1_000_000:.2f}M"
    if v >= 10_000:
        return f"{sign}${v / 1_000:.1f}K"
    return f"{sign}${v:,.0f}"


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.9234 -> 92.3%."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def delta(now: float | None, then: float | None, kind: str = "number") -> str:
    """The change from ``then`` to ``now``: +1.2 pts, +3.4%, +$12.0K; ``—`` when unknown."""
    if now is None or then is None:
        return "—"
    d = now - then
    sign = "+" if d > 0 else ("\u2212" if d < 0 else "±")  # a true minus sign
    if kind == "money":
        return f"{sign}{money(abs(d))}"
    if kind == "rate":
        return f"{sign}{abs(d) * 100:.1f} pts"
    if kind == "score":
        return f"{sign}{abs(d):.1f}"
    return f"{sign}{abs(d):,.0f}"


def get(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., None when any step is missing or null."""
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def day(iso: str) -> str:
    """An ISO date for people: ``Nov 24, 2026``."""
    return f"{date.fromisoformat(iso):%b %-d, %Y}"
