"""HTML building blocks of the dashboards: KPI cards, sections, tables, badges, links.

Everything returns an HTML string. Every KPI card carries
``data-metric="<area>.<key>"`` and ``data-value="<raw number>"`` so that a page can be
checked against ``ecc metrics`` for the same parameters.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from .. import formatting as fmt
from ..glossary import Definition, definition
from ..periods import Period
from . import spoken
from .change import FORMATTERS, change
from .spoken import for_readers
from .view import View


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def href(page: str, view: View, **changes: Any) -> str:
    """A link to another notebook page keeping the view's filters (page keys dropped)."""
    return f"{page}.ipynb{view.filters_only().query(**changes)}"


def link(page: str, view: View, label: str, **changes: Any) -> str:
    return f'<a href="{esc(href(page, view, **changes))}" target="_self">{esc(label)}</a>'


def badge(value: str | None) -> str:
    if value is None:
        return '<span class="ecc-muted">unscored</span>'
    return f'<span class="ecc-badge {esc(value)}">{esc(value.replace("_", " "))}</span>'


def data_value(value: Any) -> str:
    """A value as a ``data-value`` attribute holds it: JSON, a string as it is, empty for None."""
    if value is None:
        return ""
    return json.dumps(value) if not isinstance(value, str) else value


def _tone(value: float | None, good: str, unit: str) -> str:
    """Card colour: green good, yellow warning, red critical, by the metric's thresholds."""
    if value is None:
        return ""
    if unit == "score":
        return "good" if value >= 70 else ("warn" if value >= 40 else "bad")
    return ""


def kpi(
    key: str,
    value: Any,
    period: Period,
    *,
    compare: Any = None,
    compare_label: str | None = None,
    label: str | None = None,
    unit: str | None = None,
    link_to: str | None = None,
    tone: str | None = None,
    good: str | None = None,
) -> str:
    """A KPI card: label, value, change against the comparison with an arrow, definition;
    ``good`` (up, down, neutral) when the key's definition does not say which way is good."""
    d: Definition | None = definition(key)
    unit = unit or (d.unit if d else "count")
    label = label or (d.label if d else key)
    shown = FORMATTERS.get(unit, fmt.number)(value)
    delta_html, said = "", ""
    if compare_label is not None:
        moved = change(value, compare, unit, good or (d.good if d else "neutral"))
        said = spoken.moved(moved, compare_label)
        if moved is None:
            delta_html = f'<div class="delta flat" aria-hidden="true">{esc(compare_label)}</div>'
        else:
            delta_html = (
                f'<div class="delta {moved.tone}" aria-hidden="true">{moved.arrow} '
                f'{esc(moved.text)} <span class="ecc-muted">{esc(compare_label)}</span></div>'
            )
    # announced as one sentence ("ARR, 44.86 million dollars, up 4.57 million dollars vs
    # previous period"); the compact value and the arrow are for the eye
    words = for_readers(spoken.sentence(label, spoken.amount(shown), said))
    if link_to:
        shown_html = (
            f'<a href="{esc(link_to)}" target="_self">'
            f'<span aria-hidden="true">{esc(shown)}</span>{words}</a>'
        )
        words = ""
    else:
        shown_html = esc(shown)
    value_hidden = "" if link_to else ' aria-hidden="true"'
    covers = d.covers(period) if d else ""
    text = d.text if d else ""
    title = f"{label}: {text} ({covers})" if text else label
    tone_cls = tone if tone is not None else _tone(value, d.good if d else "neutral", unit)
    return (
        f'<div class="ecc-card {esc(tone_cls)}" data-metric="{esc(key)}" '
        f'data-value="{esc(data_value(value))}" title="{esc(title)}">'
        f'{words}<div class="label" aria-hidden="true">{esc(label)}</div>'
        f'<div class="value"{value_hidden}>{shown_html}</div>'
        f"{delta_html}"
        f'<details><summary><span class="info">i</span>{esc(covers)}</summary>'
        f"{esc(text)}</details></div>"
    )


def grid(cards: Iterable[str]) -> str:
    return '<div class="ecc-grid">' + "".join(cards) + "</div>"


def section(title: str, body: str, *, extra: str = "") -> str:
    return f'<section class="ecc-section"{extra}><h2>{esc(title)}</h2>{body}</section>'


def columns(*parts: str) -> str:
    return '<div class="ecc-cols">' + "".join(parts) + "</div>"


def table(
    headers: Sequence[tuple[str, bool]],
    rows: Iterable[Sequence[str]],
    *,
    empty: str = "Nothing to show for this selection.",
    attrs: str = "",
) -> str:
    """A table; ``headers`` are (label, numeric); cells are HTML already escaped."""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if num else f"<td>{c}</td>"
            for c, (_, num) in zip(row, headers, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    if not body:
        return f'<p class="ecc-muted">{esc(empty)}</p>'
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if n else f"<th>{esc(h)}</th>" for h, n in headers
    )
    return (
        f'{SCROLL}<table class="ecc-table"{attrs}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def show_data(
    headers: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]], *, what: str
) -> str:
    """A chart's numbers as a table behind "Show data" (a button a keyboard and a screen
    reader reach), for a chart with no table of its numbers beside it; ``what``: the data
    ("Average health of each CSM at each month end")."""
    return (
        f'<details class="ecc-data"><summary>Show data<span class="ecc-sr">: {esc(what)}'
        f"</span></summary>{table(headers, rows)}</details>"
    )


def by_date(
    points: Iterable[dict[str, Any]],
    series: Sequence[str],
    shown: Any,
    *,
    date_key: str = "date",
    series_key: str = "series",
    value_key: str = "v",
) -> list[list[str]]:
    """Long rows ({date, series, value}) as a table's rows: one per date (latest first),
    one column per name of ``series``; ``shown`` writes a value."""
    grid_: dict[str, dict[str, Any]] = {}
    for p in points:
        grid_.setdefault(str(p[date_key]), {})[str(p[series_key])] = p[value_key]
    return [
        [esc(fmt.day(day[:10]))] + [esc(shown(grid_[day].get(s))) for s in series]
        for day in sorted(grid_, reverse=True)
    ]


#: Where a wide table scrolls sideways (a phone): reachable by keyboard, to scroll it with
#: the arrow keys.
SCROLL = '<div class="ecc-scroll" tabindex="0">'

#: ``?list=all``: a page shows its long lists whole instead of their first rows.
SHOW_ALL = "all"

T = TypeVar("T")


def shows_all(view: View, value: str = SHOW_ALL) -> bool:
    """Whether the viewer asked for the whole lists (``?list=all``, or ``?list=<value>`` for
    one list of a page with several)."""
    return view.list == value


def first(rows: Sequence[T], cap: int, view: View, value: str = SHOW_ALL) -> list[T]:
    """The rows a list shows, already in order: the first ``cap``, or all with
    ``?list=all`` (``?list=<value>``)."""
    return list(rows) if shows_all(view, value) else list(rows[:cap])


def cap_line(
    page: str,
    view: View,
    *,
    total: int,
    cap: int,
    showing: str,
    noun: str,
    text: str | None = None,
    value: str = SHOW_ALL,
) -> str:
    """Under a list cut to its first ``cap`` rows: ``Showing the 25 busiest of 2,002 active
    CSMs. Show all 2,002 →`` (``showing`` = "the 25 busiest", ``noun`` = "active CSMs", or
    the whole sentence as ``text``), linking to the same page with ``?list=all``; there,
    a link back to the short list (``value``: the ``list`` that shows this one whole).
    Empty when the whole list fits under the cap."""
    if total <= cap:
        return ""
    n = fmt.number(total)
    if shows_all(view, value):
        text = f"Showing all {n} {noun}."
        more = link(page, view, f"Show the first {cap} only")
        shown = total
    else:
        text = text or f"Showing {showing} of {n} {noun}."
        more = link(page, view, f"Show all {n} →", list=value)
        shown = cap
    return f'<p class="ecc-cap" data-shown="{shown}" data-total="{total}">{esc(text)} {more}</p>'


def message(text: str, *, error: bool = False) -> str:
    return f'<div class="{"ecc-error" if error else "ecc-message"}" role="status">{esc(text)}</div>'


def outcome(act: Callable[[], str], failed: str, what: str) -> tuple[bool, str]:
    """Run a viewer's action: (done, the sentence to show as HTML). A refusal
    (``EccError``) shows its own sentence; anything else shows ``failed`` and is logged
    with ``what`` was being done."""
    from ..errors import EccError

    try:
        said = act()
    except EccError as exc:
        return False, f'<p class="ecc-error" role="alert">{esc(exc)}</p>'
    except Exception:  # a viewer sees a sentence; the log has the details
        logging.getLogger("ecc.ui").exception("%s failed", what)
        return False, f'<p class="ecc-error" role="alert">{esc(failed)}</p>'
    return True, f'<p class="ecc-done" role="status">{esc(said)}</p>'
