"""Expansion pipeline (US-005): open pipeline value, expansion ARR against the target,
win rate against the pipeline's forecast, the pipeline by type and by stage, and the
ten largest open opportunities.

Open means open on the as-of date (created on or before it, not closed by it); the win
rate counts opportunities closed in the period (METRICS.md).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ... import formatting as f
from ...config import EXPANSION_TYPES, OPPORTUNITY_STAGES
from ...drilldown import CustomerRef, customer_refs
from .. import charts
from ..chart_text import headline
from ..components import columns, esc, grid, link, section, table
from . import Page, PageContext, register
from .common import (
    card,
    comparing,
    csm_link,
    metric_span,
    share_bars,
    target_tone,
    then,
    then_note,
    vs,
    with_note,
)

TYPE_LABELS = {"upsell": "Upsell", "cross_sell": "Cross-sell", "upgrade": "Upgrade"}
STAGE_LABELS = {
    "identified": "Identified",
    "qualified": "Qualified",
    "proposal": "Proposal",
    "negotiation": "Negotiation",
}
#: expansion ARR under 90% of its target is red, under the target yellow
ARR_WARN_SHARE = 0.10
TYPE_COLORS = ["#1f4e8c", "#4a90c2", "#9cc3e4"]
#: a win rate this far under its target is yellow, further is red
RATE_WARN_BAND = 0.05


def _money_gap(value: float | None, target: float | None) -> str:
    """``target $963.7K · $69.8K above`` (HTML), or why there is no gap."""
    if target is None:
        return '<span class="ecc-muted">no target set for the period</span>'
    if value is None:
        return f"target {esc(f.money(target))}"
    gap = value - target
    cls = target_tone(value, target, abs(target) * ARR_WARN_SHARE)
    text = (
        "on target"
        if gap == 0
        else f"{f.money(abs(gap))} {'above' if gap > 0 else 'below'}"
        + (f" ({f.pct(value / target, 0)})" if target > 0 else "")
    )
    return f'target {esc(f.money(target))} · <span class="ecc-target-gap {cls}">{esc(text)}</span>'


def _rate_gap(label: str, key: str, value: float | None, other: float | None) -> str:
    """``forecast 41.6% · 7.5 pts above`` (HTML) with ``other`` tagged as ``key``."""
    shown = metric_span(key, other, f.pct(other))
    if other is None or value is None:
        return f"{esc(label)} {shown}"
    gap = value - other
    cls = target_tone(value, other, RATE_WARN_BAND)
    text = "level" if gap == 0 else f"{abs(gap) * 100:.1f} pts {'above' if gap > 0 else 'below'}"
    return f'{esc(label)} {shown} · <span class="ecc-target-gap {cls}">{esc(text)}</span>'


def _close(day: str | None, end: date) -> str:
    """Expected close date; a date already past is flagged."""
    if day is None:
        return '<span class="ecc-muted">—</span>'
    d = date.fromisoformat(day)
    text = f'<span class="ecc-nowrap">{esc(f"{d:%b %-d}")}</span>'
    if d.year != end.year:
        text += f" {d.year}"
    if d < end:
        return f'{text}<br><span class="ecc-late">{(end - d).days} d late</span>'
    return text


def _win_note(x: dict[str, Any]) -> str:
    """The win rate card's note: its gap to the forecast, and to the target when set."""
    win_target = x.get("win_rate_target")
    win_note = _rate_gap(
        "forecast", "expansion.forecast_win_rate", x["win_rate"], x["forecast_win_rate"]
    )
    if win_target is not None:
        win_note += "<br>" + _rate_gap(
            "target", "expansion.win_rate_target", x["win_rate"], win_target
        )
    return win_note


def _kpis(ctx: PageContext) -> str:
    """The cards: open pipeline, expansion ARR against its target, win rate, forecast."""
    x = ctx.data["expansion"]
    win_target = x.get("win_rate_target")
    return grid(
        [
            card(ctx, "expansion.open_value", tone=""),
            with_note(
                card(
                    ctx,
                    "expansion.expansion_arr",
                    tone=target_tone(
                        x["expansion_arr"],
                        x["target"],
                        abs(x["target"] or 0) * ARR_WARN_SHARE,
                    ),
                ),
                _money_gap(x["expansion_arr"], x["target"]),
            ),
            card(ctx, "expansion.target", tone=""),
            with_note(
                card(
                    ctx,
                    "expansion.win_rate",
                    tone=target_tone(
                        x["win_rate"],
                        win_target if win_target is not None else x["forecast_win_rate"],
                        RATE_WARN_BAND,
                    ),
                ),
                _win_note(x),
            ),
            card(ctx, "expansion.forecast_win_rate", tone=""),
        ]
    )


def _pipeline_table(
    ctx: PageContext, group: str, names: tuple[str, ...], labels: dict[str, str], head: str
) -> str:
    """The open pipeline by stage or type (``group``: ``by_stage`` or ``by_type``): value,
    count and share of the open value; with a comparison, the changes since its end."""
    x = ctx.data["expansion"]
    total, parts = x["open_value"], x[group]
    rows = []
    for n in names:
        value, count = parts[n]["value"], parts[n]["count"]
        vkey, ckey = f"expansion.{group}.{n}.value", f"expansion.{group}.{n}.count"
        rows.append(
            [
                esc(labels.get(n, n)),
                vs(ctx, metric_span(vkey, value, f.money(value)), vkey, value, "money", "up"),
                vs(ctx, metric_span(ckey, count, f.number(count)), ckey, count, "count", "up"),
                esc(f.pct(value / total if total else None)),
            ]
        )
    return table([(head, False), ("Open value", True), ("Count", True), ("Share", True)], rows)


def _stage_chart(ctx: PageContext) -> str:
    """The open pipeline as a funnel of its stages; with a comparison, the comparison
    end's pipeline outlined over it."""
    by_stage = ctx.data["expansion"]["by_stage"]
    chart = charts.funnel(
        [
            {
                "step": STAGE_LABELS.get(s, s),
                "value": by_stage[s]["value"],
                "then": then(ctx, "expansion", "by_stage", s, "value") if comparing(ctx) else None,
                "text": f"{f.money(by_stage[s]['value'])} · {by_stage[s]['count']}",
            }
            for s in OPPORTUNITY_STAGES
        ],
        label=headline(
            "The open pipeline's value at each stage, from identified to negotiation",
            [(STAGE_LABELS.get(s, s), by_stage[s]["value"]) for s in OPPORTUNITY_STAGES],
            f.money,
            most="largest",
            compared=comparing(ctx),
        ),
    )
    return chart and f"<div>{chart}{then_note(ctx, 'outline')}</div>"


def _pipeline_summary(x: dict[str, Any], end: date) -> str:
    """The sentence over the stages: how many opportunities are open, worth how much."""
    total = x["open_value"]
    by_type = x["by_type"]
    n_open = sum(by_type[t]["count"] for t in EXPANSION_TYPES)
    return (
        f"<p>{esc(f.number(n_open))} open opportunities worth {esc(f.money(total))} "
        f"on {esc(f'{end:%b %-d, %Y}')}.</p>"
        if n_open
        else '<p class="ecc-muted">No expansion opportunity is open on the as-of date.</p>'
    )


def _stage_section(ctx: PageContext) -> str:
    """Open pipeline by stage: the summary, the funnel and the table."""
    x, end = ctx.data["expansion"], ctx.req.period.end
    stage_table = _pipeline_table(ctx, "by_stage", OPPORTUNITY_STAGES, STAGE_LABELS, "Stage")
    stage_chart = _stage_chart(ctx)
    return section(
        "Open pipeline by stage",
        _pipeline_summary(x, end) + columns(stage_chart, stage_table),
    )


def _type_section(ctx: PageContext) -> str:
    """Open pipeline by type: value and count as bars split by type, and the table."""
    type_table = _pipeline_table(ctx, "by_type", EXPANSION_TYPES, TYPE_LABELS, "Type")
    type_chart = charts.stacked_shares(
        share_bars(
            ctx,
            (("Open value", "value"), ("Opportunities", "count")),
            EXPANSION_TYPES,
            TYPE_LABELS,
            "expansion",
            "by_type",
        ),
        label=headline(
            "The open pipeline's value and count by expansion type",
            [
                (TYPE_LABELS.get(t, t), ctx.data["expansion"]["by_type"][t]["value"])
                for t in EXPANSION_TYPES
            ],
            f.money,
            most="largest",
            compared=comparing(ctx),
        ),
        domain=[TYPE_LABELS.get(t, t) for t in EXPANSION_TYPES],
        colors=TYPE_COLORS,
    )
    return section("Open pipeline by type", columns(type_chart, type_table))


def _top_row(ctx: PageContext, refs: dict[str, CustomerRef], o: dict[str, Any]) -> list[str]:
    """One open opportunity: customer and CSM, type and stage, amount, expected close."""
    ref = refs.get(o["customer_id"])
    name = o.get("name") or (ref.name if ref else o["customer_id"])
    owner = f'<br><span class="ecc-sub">{csm_link(ctx, ref.csm_id)}</span>' if ref else ""
    return [
        link("account", ctx.view, name, customer=o["customer_id"], came="expansion") + owner,
        esc(TYPE_LABELS.get(o["type"], o["type"]))
        + f'<br><span class="ecc-sub">{esc(STAGE_LABELS.get(o["stage"], o["stage"]))}'
        "</span>",
        esc(f.money(o["amount"])),
        _close(o["expected_close_on"], ctx.req.period.end),
    ]


def _top_section(ctx: PageContext) -> str:
    """The largest open opportunities."""
    top = ctx.data["expansion"]["top_opportunities"]
    refs = customer_refs(ctx.conn, [o["customer_id"] for o in top])
    top_rows = [_top_row(ctx, refs, o) for o in top]
    top_table = table(
        [
            ("Customer · CSM", False),
            ("Type · stage", False),
            ("Amount", True),
            ("Close", False),
        ],
        top_rows,
        empty="No open opportunity.",
        attrs=" data-compact",
    )
    return section(f"Top {len(top)} open opportunities" if top else "Top opportunities", top_table)


def render(ctx: PageContext) -> str:
    """The expansion page, section by section."""
    return "".join(
        [
            _kpis(ctx),
            _stage_section(ctx),
            _type_section(ctx),
            _top_section(ctx),
        ]
    )


PAGE = register(Page(name="expansion", title="Expansion", areas=("expansion",), render=render))
