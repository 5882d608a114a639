"""Expansion pipeline (US-005): open pipeline value, expansion ARR against the target,
win rate against the pipeline's forecast, the pipeline by type and by stage, and the
ten largest open opportunities.

Open means open on the as-of date (created on or before it, not closed by it); the win
rate counts opportunities closed in the period (METRICS.md).
"""

from __future__ import annotations

from datetime import date

from ... import formatting as f
from ...config import EXPANSION_TYPES, OPPORTUNITY_STAGES
from ...drilldown import customer_refs
from .. import charts
from ..components import columns, esc, grid, link, section, table
from . import Page, PageContext, register
from .common import card, csm_link, metric_span, target_tone, with_note

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


def render(ctx: PageContext) -> str:
    x, v, end = ctx.data["expansion"], ctx.view, ctx.req.period.end
    win_target = x.get("win_rate_target")
    win_note = _rate_gap(
        "forecast", "expansion.forecast_win_rate", x["win_rate"], x["forecast_win_rate"]
    )
    if win_target is not None:
        win_note += "<br>" + _rate_gap(
            "target", "expansion.win_rate_target", x["win_rate"], win_target
        )
    cards = grid(
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
                win_note,
            ),
            card(ctx, "expansion.forecast_win_rate", tone=""),
        ]
    )

    total = x["open_value"]
    by_type = x["by_type"]
    type_rows = [
        [
            esc(TYPE_LABELS.get(t, t)),
            metric_span(
                f"expansion.by_type.{t}.value", by_type[t]["value"], f.money(by_type[t]["value"])
            ),
            metric_span(
                f"expansion.by_type.{t}.count", by_type[t]["count"], f.number(by_type[t]["count"])
            ),
            esc(f.pct(by_type[t]["value"] / total if total else None)),
        ]
        for t in EXPANSION_TYPES
    ]
    type_table = table(
        [("Type", False), ("Open value", True), ("Count", True), ("Share", True)],
        type_rows,
    )
    type_chart = charts.stacked_shares(
        [
            {"bar": bar, "part": TYPE_LABELS.get(t, t), "value": by_type[t][key]}
            for bar, key in (("Open value", "value"), ("Opportunities", "count"))
            for t in EXPANSION_TYPES
        ],
        domain=[TYPE_LABELS.get(t, t) for t in EXPANSION_TYPES],
        colors=TYPE_COLORS,
    )

    by_stage = x["by_stage"]
    stage_rows = [
        [
            esc(STAGE_LABELS.get(s, s)),
            metric_span(
                f"expansion.by_stage.{s}.value", by_stage[s]["value"], f.money(by_stage[s]["value"])
            ),
            metric_span(
                f"expansion.by_stage.{s}.count",
                by_stage[s]["count"],
                f.number(by_stage[s]["count"]),
            ),
            esc(f.pct(by_stage[s]["value"] / total if total else None)),
        ]
        for s in OPPORTUNITY_STAGES
    ]
    stage_table = table(
        [("Stage", False), ("Open value", True), ("Count", True), ("Share", True)],
        stage_rows,
    )
    stage_chart = charts.funnel(
        [
            {
                "step": STAGE_LABELS.get(s, s),
                "value": by_stage[s]["value"],
                "text": f"{f.money(by_stage[s]['value'])} · {by_stage[s]['count']}",
            }
            for s in OPPORTUNITY_STAGES
        ]
    )
    n_open = sum(by_type[t]["count"] for t in EXPANSION_TYPES)
    summary = (
        f"<p>{esc(f.number(n_open))} open opportunities worth {esc(f.money(total))} "
        f"on {esc(f'{end:%b %-d, %Y}')}.</p>"
        if n_open
        else '<p class="ecc-muted">No expansion opportunity is open on the as-of date.</p>'
    )

    top = x["top_opportunities"]
    refs = customer_refs(ctx.conn, [o["customer_id"] for o in top])
    top_rows = []
    for o in top:
        ref = refs.get(o["customer_id"])
        name = o.get("name") or (ref.name if ref else o["customer_id"])
        owner = f'<br><span class="ecc-sub">{csm_link(ctx, ref.csm_id)}</span>' if ref else ""
        top_rows.append(
            [
                link("account", v, name, customer=o["customer_id"]) + owner,
                esc(TYPE_LABELS.get(o["type"], o["type"]))
                + f'<br><span class="ecc-sub">{esc(STAGE_LABELS.get(o["stage"], o["stage"]))}'
                "</span>",
                esc(f.money(o["amount"])),
                _close(o["expected_close_on"], end),
            ]
        )
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
    return (
        cards
        + section("Open pipeline by stage", summary + columns(stage_chart, stage_table))
        + section("Open pipeline by type", columns(type_chart, type_table))
        + section(f"Top {len(top)} open opportunities" if top else "Top opportunities", top_table)
    )


PAGE = register(Page(name="expansion", title="Expansion", areas=("expansion",), render=render))
