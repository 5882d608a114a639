"""Segment comparison (US-009): Enterprise, Mid-market and SMB side by side.

Every number is ``segments.<Segment>.<key>`` of METRICS.md, plus the health distribution
from ``portfolio.by_segment``. Under a segment filter the other segments are outside the
filter (the JSON gives them 0 and null): the page says so instead of showing zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import formatting as f
from ...config import SEGMENTS
from .. import charts
from ..chart_text import headline
from ..components import SCROLL, esc, href, link, section
from . import Page, PageContext, register
from .common import card, comparing, csm_names, then, then_note, vs


def _days(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f} days"


def _two(v: float | None) -> str:
    return f.number(v, 2)


#: (row label, where the value is, formatter, which way is better: up, down or "" = no
#: ranking). "segments" rows read segments.<S>.<key>; "dist" rows portfolio.by_segment.
ROWS: tuple[tuple[str, tuple[str, ...], Callable[[Any], str], str], ...] = (
    ("Customers", ("segments", "customers"), f.number, ""),
    ("ARR", ("segments", "arr"), f.money, ""),
    ("Average health", ("segments", "avg_health"), f.score, "up"),
    ("Healthy share", ("dist", "healthy"), f.pct, "up"),
    ("Critical share", ("dist", "critical"), f.pct, "down"),
    ("Gross revenue retention", ("segments", "grr"), f.pct, "up"),
    ("Net revenue retention", ("segments", "nrr"), f.pct, "up"),
    ("Expansion rate", ("segments", "expansion_rate"), f.pct, "up"),
    ("Time to value", ("segments", "time_to_value_days"), _days, "down"),
    ("Support tickets", ("segments", "tickets"), f.number, ""),
    ("Tickets per account", ("segments", "tickets_per_account"), _two, "down"),
)

#: KPI cards per segment: (key, card options).
CARD_KEYS: tuple[str, ...] = (
    "customers",
    "arr",
    "avg_health",
    "grr",
    "nrr",
    "expansion_rate",
    "time_to_value_days",
    "tickets_per_account",
)

#: The small multiples: (key, title, axis format, label format, page a bar opens).
CHARTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("avg_health", "Average health", ".0f", ".1f", "portfolio"),
    ("grr", "Gross revenue retention", ".0%", ".1%", "retention"),
    ("nrr", "Net revenue retention", ".0%", ".1%", "retention"),
    ("expansion_rate", "Expansion rate", ".1%", ".1%", "expansion"),
    ("time_to_value_days", "Time to value (days)", ".0f", ".0f", "portfolio"),
    ("tickets_per_account", "Tickets per account", ".1f", ".2f", "portfolio"),
)


def in_filter(ctx: PageContext) -> list[str]:
    """The segments inside the segment filter (all three without one)."""
    chosen = ctx.req.scope.segment
    return [s for s in SEGMENTS if chosen is None or s == chosen]


def has_data(ctx: PageContext, seg: str) -> bool:
    """False when every number of the segment is 0 or null (e.g. a CSM with no customer
    there, or a segment outside the filter)."""
    row = f.get(ctx.data, "segments", seg) or {}
    return any(v not in (None, 0) for v in row.values())


def shown_segments(ctx: PageContext) -> list[str]:
    """The segments inside the filter that have something to show."""
    return [s for s in in_filter(ctx) if has_data(ctx, s)]


def _value(ctx: PageContext, seg: str, where: tuple[str, ...]) -> Any:
    if where[0] == "dist":
        return f.get(ctx.data, "portfolio", "by_segment", seg, "distribution", where[1])
    return f.get(ctx.data, "segments", seg, where[1])


def rank(values: dict[str, float | None], better: str) -> tuple[str | None, str | None]:
    """(best, worst) segment of a row; None when fewer than two values or all equal."""
    known = {s: v for s, v in values.items() if v is not None}
    if not better or len(known) < 2 or len(set(known.values())) == 1:
        return None, None
    order = sorted(known, key=lambda s: known[s], reverse=better == "up")
    return order[0], order[-1]


def seg_href(ctx: PageContext, seg: str, page: str = "portfolio") -> str:
    """``page`` filtered to ``seg``, keeping the period, comparison and CSM filter."""
    return href(page, ctx.view, segment=seg)


#: The unit each row's change is written in (by its formatter).
_UNITS: dict[Callable[[Any], str], str] = {
    f.money: "money",
    f.pct: "rate",
    f.score: "score",
    _two: "score",
    _days: "count",
}


def _with_change(
    ctx: PageContext, text: str, seg: str, where: tuple[str, ...], value: Any, fmt: Any, better: str
) -> str:
    """A cell's value and, when comparing, its change since the comparison period."""
    if where[0] == "dist":
        key = f"portfolio.by_segment.{seg}.distribution.{where[1]}"
    else:
        key = f"segments.{seg}.{where[1]}"
    return vs(ctx, text, key, value, _UNITS.get(fmt, "count"), better or "neutral")


def comparison_table(ctx: PageContext) -> str:
    """Metrics down, segments across; the best and worst of each ranked row coloured."""
    inside = shown_segments(ctx)
    filtered = in_filter(ctx)

    def why(s: str) -> str:
        if s in inside:
            return ""
        text = "not in the filter" if s not in filtered else "no customers"
        return f'<br><span class="ecc-muted">{text}</span>'

    head = "<th>Metric</th>" + "".join(
        f'<th class="num">{link("portfolio", ctx.view, s, segment=s)}{why(s)}</th>'
        for s in SEGMENTS
    )
    body = []
    for label, where, fmt, better in ROWS:
        values = {s: _value(ctx, s, where) for s in inside}
        best, worst = rank(values, better)
        cells = []
        for s in SEGMENTS:
            if s not in inside:
                cells.append('<td class="num ecc-muted">·</td>')
                continue
            text = esc(fmt(values[s]))
            cls, mark = "num", ""
            if s == best:
                cls, mark = 'num ecc-best" title="best', " ▲"
            elif s == worst:
                cls, mark = 'num ecc-worst" title="worst', " ▼"
            shown = _with_change(ctx, text + mark, s, where, values[s], fmt, better)
            cells.append(f'<td class="{cls}">{shown}</td>')
        key = ".".join(where) if where[0] == "segments" else f"distribution.{where[1]}"
        body.append(f'<tr data-row="{esc(key)}"><th>{esc(label)}</th>{"".join(cells)}</tr>')
    legend = (
        '<p class="ecc-muted ecc-legend"><span class="ecc-swatch ecc-best">▲ best</span> '
        '<span class="ecc-swatch ecc-worst">▼ worst</span> of the segments on each row '
        "where higher or lower is clearly better; customers, ARR and ticket counts follow "
        "segment size and are not ranked.</p>"
    )
    return (
        SCROLL + '<table class="ecc-table ecc-segtable">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        + (legend if len(inside) > 1 else "")
    )


def segment_cards(ctx: PageContext, seg: str) -> str:
    cards = []
    for key in CARD_KEYS:
        path = f"segments.{seg}.{key}"
        if key == "tickets_per_account":  # two decimals: shown like a score, never coloured
            cards.append(card(ctx, path, unit="score", tone=""))
        elif key == "arr":
            cards.append(card(ctx, path, link_to=seg_href(ctx, seg)))
        elif key == "customers":
            cards.append(
                card(ctx, path, link_to=href("accounts", ctx.view, segment=seg, list="all"))
            )
        else:
            cards.append(card(ctx, path))
    return (
        f'<div class="ecc-segblock"><h2>{link("portfolio", ctx.view, seg, segment=seg)}</h2>'
        f'<div class="ecc-grid">{"".join(cards)}</div></div>'
    )


#: How a small multiple's values are written in its text alternative.
_UNIT_FORMATS: dict[str, Callable[[Any], str]] = {
    "avg_health": f.score,
    "grr": f.pct,
    "nrr": f.pct,
    "expansion_rate": f.pct,
    "time_to_value_days": _days,
    "tickets_per_account": _two,
}


def small_multiples(ctx: PageContext) -> str:
    inside = shown_segments(ctx)
    if len(inside) < 2:
        return ""
    parts = []
    for key, title, axis_fmt, label_fmt, page in CHARTS:
        rows = [
            {
                "segment": s,
                "value": f.get(ctx.data, "segments", s, key),
                "then": then(ctx, "segments", s, key) if comparing(ctx) else None,
                "url": charts.link_value(seg_href(ctx, s, page)),
            }
            for s in inside
        ]
        svg = charts.segment_bars(
            rows,
            label=headline(
                f"{title} by segment",
                [(r["segment"], r["value"]) for r in rows],
                _UNIT_FORMATS.get(key, f.number),
                compared=comparing(ctx),
            ),
            title=title,
            fmt=axis_fmt,
            label_fmt=label_fmt,
            segments=tuple(inside),
        )
        # the bars' links, named, for the keyboard and screen readers
        links = " · ".join(
            f'<a href="{esc(seg_href(ctx, s, page))}" target="_self">{esc(s)}</a>' for s in inside
        )
        parts.append(
            f'<div class="ecc-multiple">{svg or f"<h3>{esc(title)}</h3><p>no data</p>"}'
            f'<p class="ecc-muted ecc-chart-links">{esc(title)}: {links}</p></div>'
        )
    return (
        '<div class="ecc-multiples">'
        + "".join(parts)
        + "</div>"
        + then_note(ctx)
        + '<p class="ecc-muted">Click a bar or a segment\'s name under a chart to open that '
        "segment's dashboard for the metric (health, retention or expansion) with the same "
        "period and comparison.</p>"
    )


def filter_note(ctx: PageContext) -> str:
    chosen = ctx.req.scope.segment
    if chosen is None:
        return ""
    others = " and ".join(s for s in SEGMENTS if s != chosen)
    return (
        '<div class="ecc-message" role="status">Filtered to <strong>'
        f"{esc(chosen)}</strong>: {esc(others)} are outside the filter, so their columns are "
        "left blank (they would read 0 and no rates). "
        f'<a href="{esc(href("segments", ctx.view, segment=None))}" target="_self">'
        "Compare all three segments →</a></div>"
    )


def render(ctx: PageContext) -> str:
    inside = shown_segments(ctx)
    csm_note = ""
    csm = ctx.req.scope.csm_id
    if csm is not None:
        empty = [s for s in in_filter(ctx) if s not in inside]
        name = csm_names(ctx).get(csm, csm)
        csm_note = (
            f'<p class="ecc-muted">Only {esc(name)}\'s customers are counted.'
            + (
                f" {esc(name)} has no {esc(' or '.join(empty))} customer in this period."
                if empty
                else ""
            )
            + "</p>"
        )
    if not inside:
        csm_note += '<p class="ecc-muted">No customer in this selection.</p>'
    blocks = '<div class="ecc-segcols">' + "".join(segment_cards(ctx, s) for s in inside)
    blocks += "</div>"
    multiples = small_multiples(ctx)
    return (
        filter_note(ctx)
        + csm_note
        + blocks
        + section("Side by side", comparison_table(ctx))
        + (section("How the segments compare", multiples) if multiples else "")
    )


PAGE = register(
    Page(name="segments", title="Segments", areas=("segments", "portfolio"), render=render)
)
