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
from ...drilldown import CustomerRef, customer_refs
from ...periods import quarter_end, quarter_start
from .. import charts
from ..chart_text import headline
from ..components import badge, cap_line, columns, esc, first, grid, href, link, section, table
from ..view import View
from . import Page, PageContext, register
from .common import (
    card,
    comparing,
    csm_link,
    metric_span,
    share_bars,
    target_tone,
    vs,
    with_note,
)

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


def _quarter_label(end: date) -> str:
    """The name and dates of the calendar quarter that contains the as-of date."""
    q0, q1 = quarter_start(end), quarter_end(end)
    return f"Q{(q0.month - 1) // 3 + 1} {q0.year} ({q0:%b %-d} – {q1:%b %-d})"


def _totals(st: dict[str, Any]) -> tuple[int, float]:
    """How many renewals fall due in the quarter, and their ARR (all stages)."""
    return sum(st[s]["count"] for s in STAGES), sum(st[s]["arr"] for s in STAGES)


def _rate_cards(ctx: PageContext) -> str:
    """The top cards: renewal and forecast rates against the target, the target, late ARR."""
    d = ctx.data["renewals"]
    target = d["target"]
    late = d["late"]
    return grid(
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
                card(
                    ctx,
                    "renewals.late.arr",
                    tone="bad" if late["count"] else "good",
                    link_to=href("renewal_list", ctx.view, list="late"),
                ),
                metric_span(
                    "renewals.late.count",
                    late["count"],
                    f"{f.number(late['count'])} renewal{'' if late['count'] == 1 else 's'} overdue",
                ),
            ),
        ]
    )


def _upcoming_section(ctx: PageContext) -> str:
    """Coming up: the open renewals due in the next 30, 60 and 90 days."""
    d = ctx.data["renewals"]
    upcoming_cards = []
    for key in ("d30", "d60", "d90"):
        u = d["upcoming"][key]
        upcoming_cards.append(
            with_note(
                card(
                    ctx,
                    f"renewals.upcoming.{key}.arr",
                    tone="",
                    link_to=href("renewal_list", ctx.view, list=key),
                ),
                metric_span(
                    f"renewals.upcoming.{key}.count",
                    u["count"],
                    f"{f.number(u['count'])} renewal{'' if u['count'] == 1 else 's'}",
                ),
            )
        )
    return section(
        "Coming up (open renewals by due date)",
        grid(upcoming_cards),
    )


#: Which way of change is good news for each stage's count and ARR.
STAGE_GOOD = {"renewed": "up", "on_track": "up", "at_risk": "down", "churned": "down"}


def _stage_table(ctx: PageContext, st: dict[str, Any]) -> str:
    """The quarter's renewals by stage: count, ARR and share of ARR, with a total row;
    with a comparison, each number's change since the comparison period's quarter."""
    total_n, total_arr = _totals(st)
    stage_rows = []
    for s in STAGES:
        count_key, arr_key = f"renewals.stages.{s}.count", f"renewals.stages.{s}.arr"
        n, arr = st[s]["count"], st[s]["arr"]
        stage_rows.append(
            [
                badge(s),
                vs(
                    ctx,
                    metric_span(count_key, n, f.number(n)),
                    count_key,
                    n,
                    "count",
                    STAGE_GOOD[s],
                ),
                vs(
                    ctx,
                    metric_span(arr_key, arr, f.money(arr)),
                    arr_key,
                    arr,
                    "money",
                    STAGE_GOOD[s],
                ),
                esc(f.pct(arr / total_arr if total_arr else None)),
            ]
        )
    stage_rows.append(
        [
            "<strong>All due in the quarter</strong>",
            f"<strong>{esc(f.number(total_n))}</strong>",
            f"<strong>{esc(f.money(total_arr))}</strong>",
            esc("100.0%" if total_arr else "—"),
        ]
    )
    return table(
        [("Stage", False), ("Renewals", True), ("ARR", True), ("Share of ARR", True)],
        stage_rows,
    )


def _stage_chart(ctx: PageContext) -> str:
    """The quarter's ARR and renewals as bars split by stage (with a comparison, each
    followed by the comparison period's quarter)."""
    st = ctx.data["renewals"]["stages"]
    return charts.stacked_shares(
        share_bars(
            ctx,
            (("ARR", "arr"), ("Renewals", "count")),
            STAGES,
            STAGE_LABELS,
            "renewals",
            "stages",
        ),
        label=headline(
            "The quarter's renewal ARR and count by stage",
            [(STAGE_LABELS[s], st[s]["arr"]) for s in STAGES],
            f.money,
            most="most ARR",
            compared=comparing(ctx),
        ),
        domain=[STAGE_LABELS[s] for s in STAGES],
        colors=STAGE_COLORS,
    )


def _stage_summary(st: dict[str, Any], quarter: str) -> str:
    """The sentence over the stages: renewed, churned and still open (at risk) ARR."""
    total_n, total_arr = _totals(st)
    open_arr = st["on_track"]["arr"] + st["at_risk"]["arr"]
    return (
        f"<p>{esc(f.number(total_n))} renewals worth {esc(f.money(total_arr))} fall due in "
        f"{esc(quarter)}: {esc(f.money(st['renewed']['arr']))} renewed and "
        f"{esc(f.money(st['churned']['arr']))} churned so far; "
        f"{esc(f.money(open_arr))} still open, {esc(f.money(st['at_risk']['arr']))} of it "
        "at risk.</p>"
        if total_n
        else f'<p class="ecc-muted">No renewal falls due in {esc(quarter)}.</p>'
    )


def _stages_section(ctx: PageContext) -> str:
    """Renewals due in the quarter by stage: the summary, the chart and the table."""
    st = ctx.data["renewals"]["stages"]
    quarter = _quarter_label(ctx.req.period.end)
    total_n, _ = _totals(st)
    stage_table = _stage_table(ctx, st)
    chart = _stage_chart(ctx)
    return section(
        f"Renewals due in {quarter} by stage",
        _stage_summary(st, quarter) + (columns(chart, stage_table) if total_n else ""),
    )


#: the columns of the lists of renewals due in the quarter
DUE_HEADERS = (("Customer · CSM", False), ("Due", False), ("ARR", True), ("Stage", False))


def _due_line(ctx: PageContext, refs: dict[str, CustomerRef], r: dict[str, Any]) -> list[str]:
    """One renewal of the list: customer and CSM, due date, ARR, stage."""
    ref = refs.get(r["customer_id"])
    owner = f'<br><span class="ecc-sub">{csm_link(ctx, ref.csm_id)}</span>' if ref else ""
    return [
        link(
            "account",
            ctx.view,
            ref.name if ref else r["customer_id"],
            customer=r["customer_id"],
            came="renewals",
        )
        + owner,
        _due(r, ctx.req.period.end),
        esc(f.money(r["arr"])),
        f'<span class="ecc-nowrap">{badge(r["stage"])}</span>',
    ]


def _more(v: View, total: int, which: str) -> str:
    """The line under the open or the closed list when it is cut to its first rows."""
    return cap_line(
        "renewals",
        v,
        total=total,
        cap=LIST_TOP,
        showing=f"the first {LIST_TOP}",
        noun=f"{which} renewals",
        value=which,
    )


def _closed_part(
    ctx: PageContext,
    closed_all: list[dict[str, Any]],
    closed_shown: list[dict[str, Any]],
    refs: dict[str, CustomerRef],
) -> str:
    """The closed renewals of the quarter, folded under their count and ARR."""
    v, st = ctx.view, ctx.data["renewals"]["stages"]
    if not closed_all:
        return ""
    lines = [_due_line(ctx, refs, r) for r in closed_shown]
    return (
        f"<details class='ecc-more'{' open' if v.list == 'closed' else ''}><summary>"
        f"Closed this quarter: {len(closed_all):,} "
        f"({esc(f.money(st['renewed']['arr'] + st['churned']['arr']))})</summary>"
        f"{table(DUE_HEADERS, lines, attrs=' data-compact')}"
        f"{_more(v, len(closed_all), 'closed')}</details>"
    )


def _due_section(ctx: PageContext) -> str:
    """The list of renewals due in the quarter: the open ones first, then the closed ones."""
    d, v = ctx.data["renewals"], ctx.view
    quarter = _quarter_label(ctx.req.period.end)
    rows = sorted(d["due_this_quarter"], key=sort_key)
    open_all = [r for r in rows if r["stage"] in OPEN]
    closed_all = [r for r in rows if r["stage"] not in OPEN]
    open_shown = first(open_all, LIST_TOP, v, "open")
    closed_shown = first(closed_all, LIST_TOP, v, "closed")
    refs = customer_refs(ctx.conn, [r["customer_id"] for r in open_shown + closed_shown])
    open_table = table(
        DUE_HEADERS,
        [_due_line(ctx, refs, r) for r in open_shown],
        empty="No open renewal is due this quarter.",
        attrs=" data-compact",
    ) + _more(v, len(open_all), "open")
    closed_part = _closed_part(ctx, closed_all, closed_shown, refs)
    return section(
        f"Renewals due in {quarter}",
        (
            f'<p class="ecc-muted">{len(open_all):,} open (at risk first, then by due date)'
            f"{', then the closed ones' if closed_all else ''}.</p>" + open_table + closed_part
        )
        if rows
        else f'<p class="ecc-muted">No renewal falls due in {esc(quarter)}.</p>',
        extra=' id="due"',
    )


def render(ctx: PageContext) -> str:
    """The renewals page, section by section."""
    return "".join(
        [
            _rate_cards(ctx),
            _upcoming_section(ctx),
            _stages_section(ctx),
            _due_section(ctx),
        ]
    )


PAGE = register(Page(name="renewals", title="Renewals", areas=("renewals",), render=render))
