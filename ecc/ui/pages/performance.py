"""CSM performance (US-006): the leaderboard against the team average, trends, book health.

Numbers come from ``compute_all``'s ``csms`` area: one row per CSM (retention, expansion,
health change, response time, activity, the book's health), ``rank`` = the order of the
mean of the ranks by NRR, expansion ARR and health change, and ``team_average`` = the
mean of each number over the rows. Each leaderboard cell is coloured against the team
average in the direction that is good news for that metric (higher NRR, lower response
time); book size (accounts, ARR) is not judged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...config import CATEGORIES
from ...leaderboard import PRESET, rank_moves
from ...metrics.plan import Plan
from ...periods import preset_period
from ...request import Request
from .. import charts
from ..chart_text import headline
from ..components import (
    SCROLL,
    by_date,
    cap_line,
    esc,
    first,
    grid,
    href,
    link,
    section,
    show_data,
)
from ..view import View
from . import Page, PageContext, register
from .common import card, compare_label, comparing, then, then_row, vs


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The leaderboard's moves since about a week before, when the view is the nightly
    leaderboard's own (this quarter, no filter): other views rank differently."""
    own = req.period == preset_period(PRESET, req.today) and req.scope.segment is None
    since, moves = rank_moves(conn, req.today) if own and req.scope.csm_id is None else (None, {})
    return {"rank_moves": {"since": since.isoformat() if since else None, "moves": moves}}


def _move(ctx: PageContext, csm_id: str) -> str:
    """▲3 / ▼2 / = beside a rank: places moved since the earlier recorded day."""
    info = ctx.data.get("rank_moves") or {}
    moved = (info.get("moves") or {}).get(csm_id)
    if moved is None or info.get("since") is None:
        return ""
    since = f.day(info["since"])
    if moved == 0:
        return f' <span class="ecc-move" title="same place as on {since}">=</span>'
    up = moved > 0
    words = (
        f"{'up' if up else 'down'} {abs(moved)} place{'' if abs(moved) == 1 else 's'} since {since}"
    )
    return (
        f' <span class="ecc-move {"up" if up else "down"}" title="{esc(words)}" '
        f'aria-label="{esc(words)}">{"▲" if up else "▼"}{abs(moved)}</span>'
    )


#: How many CSMs the trend charts follow (the leaderboard's top; the filtered CSM alone).
TREND_TOP = 5
#: How many ranks the leaderboard shows (all of them with ``?list=all``).
LEADERBOARD_TOP = 25
#: How many CSMs' books the health chart shows: the largest by ARR.
HEALTH_TOP = 25


def _hours(v: float | None) -> str:
    return "—" if v is None else f"{v:,.1f} h"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _count(v: float | None) -> str:
    """A count; a team average keeps one decimal."""
    return f.number(v, 0 if v is None or float(v).is_integer() else 1)


def _signed(v: float | None) -> str:
    """A change with its sign; one that rounds to zero reads ±0.0."""
    if v is None:
        return "—"
    return "±0.0" if round(v, 1) == 0 else f"{v:+.1f}"


#: Leaderboard columns after rank and name: (key, header, format, good direction).
#: The leaderboard's own criteria first (NRR, expansion, health change), so that a
#: phone shows them without scrolling.
COLUMNS: tuple[tuple[str, str, Callable[[Any], str], str], ...] = (
    ("nrr", "NRR", f.pct, "up"),
    ("expansion_arr", "Expansion ARR", f.money, "up"),
    ("health_change", "Health change", _signed, "up"),
    ("avg_health", "Avg health", f.score, "up"),
    ("accounts", "Accounts", _count, "neutral"),
    ("arr", "ARR", f.money, "neutral"),
    ("grr", "GRR", f.pct, "up"),
    ("response_hours", "Response", _hours, "down"),
    ("meetings", "Meetings", _count, "up"),
    ("emails", "Emails", _count, "up"),
    ("tasks_completed", "Tasks done", _count, "up"),
)

CARD_KEYS: tuple[str, ...] = (
    "nrr",
    "expansion_arr",
    "health_change",
    "avg_health",
    "response_hours",
    "grr",
    "accounts",
    "arr",
)


def versus(value: Any, average: Any, good: str) -> str:
    """``better`` / ``worse`` than the team average in the metric's good direction, or ``""``
    (equal, unknown, or a number that is neither good nor bad)."""
    if value is None or average is None or good == "neutral":
        return ""
    diff = float(value) - float(average)
    if abs(diff) <= 1e-9 * max(1.0, abs(float(average))):
        return ""
    return "better" if (diff > 0) == (good == "up") else "worse"


def dist_bar(dist: dict[str, Any] | None) -> str:
    """A small stacked bar of the healthy / at risk / critical shares (empty when unscored)."""
    if not dist or all(dist.get(c) is None for c in CATEGORIES):
        return '<span class="ecc-dist empty" title="no scored customer"></span>'
    words = " · ".join(f"{c.replace('_', ' ')} {f.pct(dist[c], 0)}" for c in CATEGORIES)
    parts = "".join(
        f'<span class="{c}" style="width:{100 * float(dist[c] or 0):.1f}%"></span>'
        for c in CATEGORIES
    )
    w = esc(words)
    return f'<span class="ecc-dist" title="{w}" role="img" aria-label="{w}">{parts}</span>'


def _cell(
    value: Any, fmt: Callable[[Any], str], cls: str = "", metric: str | None = None, after: str = ""
) -> str:
    """A numeric cell; ``metric`` adds data-metric / data-value (the raw number)."""
    attrs = f' class="num {cls}"' if cls else ' class="num"'
    if metric is not None:
        raw = "" if value is None else json.dumps(value)
        attrs += f' data-metric="{esc(metric)}" data-value="{esc(raw)}"'
    shown = "—" if value is None else fmt(value)
    return f"<td{attrs}>{esc(shown)}{after}</td>"


def leaderboard(ctx: PageContext) -> str:
    """The ranked table with the team average pinned on top; cells coloured vs the team.
    The first :data:`LEADERBOARD_TOP` ranks, with a link to every rank (``?list=all``)."""
    ranked: list[dict[str, Any]] = sorted(ctx.data["csms"]["rows"], key=lambda r: r["rank"])
    team: dict[str, Any] = ctx.data["csms"]["team_average"]
    if not ranked:
        return '<p class="ecc-muted">No CSM owns an active customer or logged activity here.</p>'
    rows = first(ranked, LEADERBOARD_TOP, ctx.view)
    head = '<th class="ecc-sticky">Rank · CSM</th>' + "".join(
        f'<th class="num">{esc(h)}</th>' for _, h, _, _ in COLUMNS
    )
    team_then = then(ctx, "csms", "team_average") or {}
    team_cells = "".join(
        _cell(
            team.get(k),
            fmt,
            after=_dist_after(k, team)
            + _change(ctx, f"csms.team_average.{k}", team.get(k), team_then.get(k), fmt, good),
        )
        for k, _, fmt, good in COLUMNS
    )
    body = [
        f'<tr class="ecc-team-row"><td class="ecc-sticky"><strong>Team average</strong> '
        f'<span class="ecc-muted">({plural(len(ranked), "CSM")})</span></td>{team_cells}</tr>'
    ]
    for r in rows:
        cid = r["csm_id"]
        name = esc(r["name"] or cid)
        inactive = "" if r.get("active", True) else ' <span class="ecc-muted">(inactive)</span>'
        was = then_row(ctx, "csms", cid)
        cells = [
            _cell(
                r.get(k),
                fmt,
                versus(r.get(k), team.get(k), good),
                f"csms.rows.{cid}.{k}",
                _dist_after(k, r)
                + _change(ctx, f"csms.rows.{cid}.{k}", r.get(k), was.get(k), fmt, good),
            )
            for k, _, fmt, good in COLUMNS
        ]
        body.append(
            f'<tr><td class="ecc-sticky"><span class="ecc-rank" data-metric="csms.rows.{esc(cid)}'
            f'.rank" data-value="{r["rank"]}">{r["rank"]}</span>{_move(ctx, cid)} '
            f'<a href="{esc(href("csm", ctx.view, csm=cid))}" target="_self">{name}</a>'
            f"{inactive}</td>" + "".join(cells) + "</tr>"
        )
    legend = (
        '<p class="ecc-muted ecc-explain"><span class="ecc-key better"></span> better than the '
        'team average <span class="ecc-key worse"></span> worse · ranked by the mean of the '
        "ranks by NRR, expansion ARR and health change · response time is the median hours "
        "to answer an email (lower is better) · accounts and ARR are book size, not judged.</p>"
    )
    more = cap_line(
        "performance",
        ctx.view,
        total=len(ranked),
        cap=LEADERBOARD_TOP,
        showing=f"the top {LEADERBOARD_TOP}",
        noun="CSMs",
    )
    return (
        legend + SCROLL + '<table class="ecc-table ecc-leaderboard">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>" + more
    )


#: The unit a leaderboard column's change is written in, by the column's format.
_UNITS: dict[Callable[[Any], str], str] = {
    f.pct: "rate",
    f.money: "money",
    _signed: "score",
    f.score: "score",
    _hours: "hours",
}


def _change(
    ctx: PageContext, key: str, value: Any, before: Any, fmt: Callable[[Any], str], good: str
) -> str:
    """A cell's change since the comparison period, on its own line (nothing without a
    comparison)."""
    return vs(ctx, "", key, value, _UNITS.get(fmt, "count"), good, before)


def _dist_after(key: str, row: dict[str, Any]) -> str:
    """After the average health: the mini bar of the book's health distribution."""
    return " " + dist_bar(row.get("distribution")) if key == "avg_health" else ""


def team_trend(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The team average at each month end of the CSMs' trends: the mean over the CSMs of
    their average health and of their book ARR (as the team-average cards are means)."""
    sums: dict[str, list[float]] = {}  # date -> [health sum, health n, arr sum, arr n]
    for r in rows:
        for p in r.get("trend") or []:
            acc = sums.setdefault(p["date"], [0.0, 0, 0.0, 0])
            if p.get("avg_health") is not None:
                acc[0] += p["avg_health"]
                acc[1] += 1
            if p.get("arr") is not None:
                acc[2] += p["arr"]
                acc[3] += 1
    return [
        {
            "date": day,
            "avg_health": h / hn if hn else None,
            "arr": a / an if an else None,
        }
        for day, (h, hn, a, an) in sorted(sums.items())
    ]


def trend_charts(ctx: PageContext) -> str:
    """Average health and ARR at each month end of the period, for the top CSMs; when they
    are a selection of the team, with the team average (dashed) for comparison. One legend
    for both charts, its names linking to the CSMs' books."""
    everyone = ctx.data["csms"]["rows"]
    rows = sorted(everyone, key=lambda r: r["rank"])[:TREND_TOP]
    health: list[dict[str, Any]] = []
    arr: list[dict[str, Any]] = []
    keys: list[tuple[str, str]] = []  # (series label, legend HTML)
    for r in rows:
        where = href("csm", ctx.view, csm=r["csm_id"])
        url = charts.link_value(where)
        name = r["name"] or r["csm_id"]
        label = f"{r['rank']}. {charts.short(name, 22)}"
        keys.append((label, f'{r["rank"]}. <a href="{esc(where)}" target="_self">{esc(name)}</a>'))
        for p in r.get("trend") or []:
            health.append({"date": p["date"], "csm": label, "v": p["avg_health"], "url": url})
            arr.append({"date": p["date"], "csm": label, "v": p["arr"], "url": url})
    if not health:
        return '<p class="ecc-muted">No trend for this selection.</p>'
    team = ""
    if len(everyone) > TREND_TOP:
        team = f"Team average ({plural(len(everyone), 'CSM')})"
        keys.append((team, esc(team)))
        for p in team_trend(everyone):
            health.append({"date": p["date"], "csm": team, "v": p["avg_health"]})
            arr.append({"date": p["date"], "csm": team, "v": p["arr"]})
    intro = ""
    if team:
        intro = (
            f'<p class="ecc-muted ecc-explain">The top {len(rows)} of '
            f"{plural(len(everyone), 'CSM')} by rank, against the team average (dashed: the "
            "mean over all CSMs). Click a name or a point for the CSM's book.</p>"
        )
    note = ""
    if len({p["date"] for p in health}) < 3:
        note = (
            '<p class="ecc-muted ecc-explain">The period holds few month ends; choose a longer '
            "range (e.g. year to date) for a longer trend.</p>"
        )
    ref = team or None
    was = then(ctx, "csms", "team_average") or {}
    label = (compare_label(ctx) or "").removeprefix("vs ")
    marks = {  # the team average at the comparison end, across each chart
        k: [(f"team average, {label}", was.get(k))] if comparing(ctx) else []
        for k in ("avg_health", "arr")
    }
    names = [k for k, _ in keys]
    colors = charts.series_colors(names, ref)
    legend = "".join(
        f'<span class="ecc-series"><span class="ecc-line{" dashed" if k == ref else ""}" '
        f'style="border-top-color:{colors[k]}"></span>{text}</span>'
        for k, text in keys
    )
    return (
        intro
        + f'<div class="ecc-legend ecc-series-legend">{legend}</div>'
        + '<div class="ecc-cols">'
        + '<div><h3 class="ecc-h3">Average health</h3>'
        + charts.lines_by(
            health,
            label=f"Average health at each month end of the top {len(rows)} CSMs"
            + (" and the team average" if team else "")
            + ".",
            y="v",
            series="csm",
            fmt=".1~f",
            title="Avg health",
            url="url",
            reference=ref,
            legend=False,
            marks=marks["avg_health"],
        )
        + _trend_data(health, names, f.score, "average health")
        + '</div><div><h3 class="ecc-h3">Book ARR</h3>'
        + charts.lines_by(
            arr,
            label=f"Book ARR at each month end of the top {len(rows)} CSMs"
            + (" and the team average" if team else "")
            + ".",
            y="v",
            series="csm",
            fmt="$.4~s",
            title="ARR",
            url="url",
            reference=ref,
            legend=False,
            marks=marks["arr"],
        )
        + _trend_data(arr, names, f.money, "book ARR")
        + "</div></div>"
        + note
    )


def _trend_data(points: list[dict[str, Any]], names: list[str], shown: Any, what: str) -> str:
    """A trend chart's numbers behind "Show data": a row per month end, a column per CSM."""
    return show_data(
        [("Month end", False), *((n, True) for n in names)],
        by_date(points, names, shown, series_key="csm"),
        what=f"{what} of each CSM at each month end",
    )


def health_by_csm(ctx: PageContext) -> str:
    """Each CSM's book split into healthy / at risk / critical, healthiest first: the
    :data:`HEALTH_TOP` largest books by ARR when there are more (where the money is)."""
    scored = [r for r in ctx.data["csms"]["rows"] if r.get("avg_health") is not None]
    rows = sorted(scored, key=lambda r: (-(r.get("arr") or 0), r["csm_id"]))[:HEALTH_TOP]
    rows.sort(key=lambda r: (-r["avg_health"], r["csm_id"]))
    data = []
    labels: set[str] = set()
    for r in rows:
        url = charts.link_value(href("csm", ctx.view, csm=r["csm_id"]))
        name = charts.short(r["name"] or r["csm_id"], 18)
        if f"{name} ({f.score(r['avg_health'])})" in labels:  # one name twice: keep apart
            name = f"{charts.short(name, 12)} {r['csm_id']}"
        label = f"{name} ({f.score(r['avg_health'])})"
        labels.add(label)
        for order, c in enumerate(CATEGORIES):
            share = r["distribution"][c]
            if share is not None:
                data.append(
                    {"group": label, "category": c, "share": share, "order": order, "url": url}
                )
    if not data:
        return '<p class="ecc-muted">No scored customer in these books.</p>'
    which, rest = "", ""
    if len(scored) > len(rows):
        which = f"The {len(rows)} largest books (by ARR) of {plural(len(scored), 'CSM')}. "
        rest = " Every CSM's split is in the leaderboard's Avg health column."
    return (
        f'<p class="ecc-muted ecc-explain">{which}Share of each CSM\'s scored customers by '
        f"health category, highest average health first (in brackets).{rest} Click a bar for "
        "the CSM's book.</p>"
        + charts.health_by_group(
            data,
            label=headline(
                f"Health categories of the customers in {len(rows)} CSMs' books",
                [(r["name"] or r["csm_id"], r["avg_health"]) for r in rows],
                f.score,
                most="highest average health",
            ),
        )
    )


def render(ctx: PageContext) -> str:
    d = ctx.data["csms"]
    rows = d["rows"]
    cards = grid(
        card(ctx, f"csms.team_average.{k}", tone="")
        if k != "avg_health"
        else card(ctx, f"csms.team_average.{k}")
        for k in CARD_KEYS
    )
    intro = ""
    if ctx.view.csm:
        intro = (
            '<p class="ecc-message" role="status">Filtered to one CSM: the rank and the team '
            "average cover this CSM only. "
            + link("performance", ctx.view, "Compare with the whole team →", csm=None)
            + "</p>"
        )
    elif rows:
        best = min(rows, key=lambda r: r["rank"])
        intro = (
            f'<p class="ecc-lead">Leader: <strong>{esc(best["name"] or best["csm_id"])}</strong> '
            f"(NRR {esc(f.pct(best['nrr']))}, expansion {esc(f.money(best['expansion_arr']))}, "
            f"health change {esc(_signed(best['health_change']))}) · "
            f"{plural(len(rows), 'CSM')}"
            + (f" in {esc(ctx.view.segment)}" if ctx.view.segment else "")
            + ".</p>"
        )
    return (
        intro
        + cards
        + section("Leaderboard", leaderboard(ctx))
        + section(
            f"Trend of the top {min(TREND_TOP, len(rows))}" if len(rows) > 1 else "Trend",
            trend_charts(ctx),
        )
        + section(
            "Portfolio health of the largest books"
            if sum(r.get("avg_health") is not None for r in rows) > HEALTH_TOP
            else "Portfolio health by CSM",
            health_by_csm(ctx),
        )
    )


PAGE = register(
    Page(name="performance", title="CSM performance", areas=("csms",), render=render, extra=extra)
)
