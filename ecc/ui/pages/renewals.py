"""Renewal pipeline (US-004): renewal rate and forecast against the target, late and
upcoming renewals, this quarter's renewals by stage, and the list of them.

Q is the calendar quarter that contains the as-of date (METRICS.md); the stages of a
renewal due in Q are ``on_track`` / ``at_risk`` while open at the as-of date (its
forecast status) and ``renewed`` / ``churned`` once closed (its outcome).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ... import formatting as f
from ...drilldown import customer_refs
from ...periods import quarter_end, quarter_start
from .. import charts
from ..components import badge, cap_line, columns, esc, first, grid, link, section, table
from . import Page, PageContext, register
from .common import card, csm_link, metric_span, target_tone, with_note

#: stages from settled-good to settled-bad (table rows and chart pieces)
STAGES: tuple[str, ...] = ("renewed", "on_track", "at_risk", "churned")
STAGE_LABELS = {
    "renewed": "Renewed",
    "on_track": "On track",
    "at_risk": "At risk",
    "churned": "Churned",
}
STAGE_COLORS = ["#1b7f3b", "#5aa872", "#d69e2e", "#c0392b"]
OPEN = ("on_track", "at_risk")
#: a rate this far under its target is yellow, further is red
WARN_BAND = 0.05
#: How many renewals the open list and the closed list each show (``?list=open`` and
#: ``?list=closed``: all of that list).
LIST_TOP = 25


def gap_note(value: float | None, target: float | None) -> str:
    """``target 90.0% · 2.8 pts above`` (HTML), or why there is no gap."""
    if target is None:
        return '<span class="ecc-muted">no target set for the quarter</span>'
    if value is None:
        return f"target {esc(f.pct(target))}"
    gap = value - target
    cls = target_tone(value, target, WARN_BAND)
    where = "above" if gap > 0 else ("below" if gap < 0 else "on")
    pts = f"{abs(gap) * 100:.1f} pts {where}" if gap else "on target"
    return f'target {esc(f.pct(target))} · <span class="ecc-target-gap {cls}">{esc(pts)}</span>'


def sort_key(row: dict[str, Any]) -> tuple[int, str, str]:
    """At-risk open renewals first, then the other open ones, then the closed ones; each
    group by due date (then renewal id)."""
    group = 0 if row["stage"] == "at_risk" else (1 if row["stage"] in OPEN else 2)
    return (group, row["due_on"], row["renewal_id"])


def _due(row: dict[str, Any], end: date) -> str:
    """The due date; for an open renewal, how many days until it is due or how late it is."""
    due = date.fromisoformat(row["due_on"])
    text = f'<span class="ecc-nowrap">{esc(f"{due:%b %-d}")}</span>'
    if row["stage"] not in OPEN:
        return text
    days = (due - end).days
    if days < 0:
        return f'{text}<br><span class="ecc-late">{-days} d late</span>'
    return f'{text}<br><span class="ecc-muted">{"today" if days == 0 else f"in {days} d"}</span>'


def render(ctx: PageContext) -> str:
    d, v, end = ctx.data["renewals"], ctx.view, ctx.req.period.end
    q0, q1 = quarter_start(end), quarter_end(end)
    quarter = f"Q{(q0.month - 1) // 3 + 1} {q0.year} ({q0:%b %-d} – {q1:%b %-d})"
    target = d["target"]
    late = d["late"]

    rate_cards = grid(
        [
            with_note(
                card(
                    ctx,
                    "renewals.renewal_rate",
                    tone=target_tone(d["renewal_rate"], target, WARN_BAND),
                ),
                gap_note(d["renewal_rate"], target),
            ),
            with_note(
                card(
                    ctx,
                    "renewals.forecast_rate",
                    tone=target_tone(d["forecast_rate"], target, WARN_BAND),
                ),
                gap_note(d["forecast_rate"], target),
            ),
            card(ctx, "renewals.target", tone=""),
            with_note(
                card(ctx, "renewals.late.arr", tone="bad" if late["count"] else "good"),
                metric_span(
                    "renewals.late.count",
                    late["count"],
                    f"{f.number(late['count'])} renewal{'' if late['count'] == 1 else 's'} overdue",
                ),
            ),
        ]
    )
    upcoming_cards = []
    for key in ("d30", "d60", "d90"):
        u = d["upcoming"][key]
        upcoming_cards.append(
            with_note(
                card(ctx, f"renewals.upcoming.{key}.arr", tone=""),
                metric_span(
                    f"renewals.upcoming.{key}.count",
                    u["count"],
                    f"{f.number(u['count'])} renewal{'' if u['count'] == 1 else 's'}",
                ),
            )
        )

    st = d["stages"]
    total_n = sum(st[s]["count"] for s in STAGES)
    total_arr = sum(st[s]["arr"] for s in STAGES)
    stage_rows = [
        [
            badge(s),
            metric_span(f"renewals.stages.{s}.count", st[s]["count"], f.number(st[s]["count"])),
            metric_span(f"renewals.stages.{s}.arr", st[s]["arr"], f.money(st[s]["arr"])),
            esc(f.pct(st[s]["arr"] / total_arr if total_arr else None)),
        ]
        for s in STAGES
    ]
    stage_rows.append(
        [
            "<strong>All due in the quarter</strong>",
            f"<strong>{esc(f.number(total_n))}</strong>",
            f"<strong>{esc(f.money(total_arr))}</strong>",
            esc("100.0%" if total_arr else "—"),
        ]
    )
    stage_table = table(
        [("Stage", False), ("Renewals", True), ("ARR", True), ("Share of ARR", True)],
        stage_rows,
    )
    chart = charts.stacked_shares(
        [
            {"bar": bar, "part": STAGE_LABELS[s], "value": st[s][key]}
            for bar, key in (("ARR", "arr"), ("Renewals", "count"))
            for s in STAGES
        ],
        domain=[STAGE_LABELS[s] for s in STAGES],
        colors=STAGE_COLORS,
    )
    open_arr = st["on_track"]["arr"] + st["at_risk"]["arr"]
    summary = (
        f"<p>{esc(f.number(total_n))} renewals worth {esc(f.money(total_arr))} fall due in "
        f"{esc(quarter)}: {esc(f.money(st['renewed']['arr']))} renewed and "
        f"{esc(f.money(st['churned']['arr']))} churned so far; "
        f"{esc(f.money(open_arr))} still open, {esc(f.money(st['at_risk']['arr']))} of it "
        "at risk.</p>"
        if total_n
        else f'<p class="ecc-muted">No renewal falls due in {esc(quarter)}.</p>'
    )

    rows = sorted(d["due_this_quarter"], key=sort_key)
    open_all = [r for r in rows if r["stage"] in OPEN]
    closed_all = [r for r in rows if r["stage"] not in OPEN]
    open_shown = first(open_all, LIST_TOP, v, "open")
    closed_shown = first(closed_all, LIST_TOP, v, "closed")
    refs = customer_refs(ctx.conn, [r["customer_id"] for r in open_shown + closed_shown])

    def line(r: dict[str, Any]) -> list[str]:
        ref = refs.get(r["customer_id"])
        owner = f'<br><span class="ecc-sub">{csm_link(ctx, ref.csm_id)}</span>' if ref else ""
        return [
            link("account", v, ref.name if ref else r["customer_id"], customer=r["customer_id"])
            + owner,
            _due(r, end),
            esc(f.money(r["arr"])),
            f'<span class="ecc-nowrap">{badge(r["stage"])}</span>',
        ]

    headers = [("Customer · CSM", False), ("Due", False), ("ARR", True), ("Stage", False)]

    def more(total: int, which: str) -> str:
        return cap_line(
            "renewals",
            v,
            total=total,
            cap=LIST_TOP,
            showing=f"the first {LIST_TOP}",
            noun=f"{which} renewals",
            value=which,
        )

    open_table = table(
        headers,
        [line(r) for r in open_shown],
        empty="No open renewal is due this quarter.",
        attrs=" data-compact",
    ) + more(len(open_all), "open")
    closed_part = (
        f"<details class='ecc-more'{' open' if v.list == 'closed' else ''}><summary>"
        f"Closed this quarter: {len(closed_all):,} "
        f"({esc(f.money(st['renewed']['arr'] + st['churned']['arr']))})</summary>"
        f"{table(headers, [line(r) for r in closed_shown], attrs=' data-compact')}"
        f"{more(len(closed_all), 'closed')}</details>"
        if closed_all
        else ""
    )
    return (
        rate_cards
        + section(
            "Coming up (open renewals by due date)",
            grid(upcoming_cards),
        )
        + section(
            f"Renewals due in {quarter} by stage",
            summary + (columns(chart, stage_table) if total_n else ""),
        )
        + section(
            f"Renewals due in {quarter}",
            (
                f'<p class="ecc-muted">{len(open_all):,} open (at risk first, then by due date)'
                f"{', then the closed ones' if closed_all else ''}.</p>" + open_table + closed_part
            )
            if rows
            else f'<p class="ecc-muted">No renewal falls due in {esc(quarter)}.</p>',
            extra=' id="due"',
        )
    )


PAGE = register(Page(name="renewals", title="Renewals", areas=("renewals",), render=render))
