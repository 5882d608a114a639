"""A chart's name for assistive technology: what it shows, and its headline in words
("ARR at risk of the 10 most exposed CSMs; highest: Zoe Lindqvist, $575.8K"). The
numbers themselves are in the table beside each chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def headline(
    what: str,
    items: Sequence[tuple[str, Any]],
    shown: Callable[[Any], str],
    *,
    most: str = "highest",
    compared: bool = False,
) -> str:
    """``what``, then the item with the largest value (``most``: the word for it), and
    whether the comparison period is drawn too."""
    known = [(name, v) for name, v in items if v is not None]
    text = what
    if known:
        name, value = max(known, key=lambda kv: float(kv[1]))
        text += f"; {most}: {name}, {shown(value)}"
    if compared:
        text += "; the comparison period's values are marked"
    return text + "."


def span(what: str, values: Sequence[Any], shown: Callable[[Any], str]) -> str:
    """``what``, from the first known value to the last (a line over time)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return f"{what}."
    return f"{what}: from {shown(known[0])} to {shown(known[-1])}."
