"""Risk exposure (US-003): ARR at risk, its trend, the top accounts, by segment and CSM."""

from __future__ import annotations

from typing import Any

from ... import formatting as f
from ...config import SEGMENTS
from .. import charts
from ..chart_text import headline
from ..components import badge, cap_line, esc, first, grid, href, link, section, table
from . import Page, PageContext, register
from .common import card, comparing, csm_link, csm_names, then, then_note, vs

#: How many CSMs the risk-by-CSM chart shows, and the table lists (``?list=all``: all of
#: them in the table), most exposed first.
CHART_TOP = 10
TABLE_TOP = 15


def _kpis(ctx: PageContext) -> str:
    """The cards: ARR at risk (coloured by its trend), critical ARR, save plays."""
    v = ctx.view
    trend = ctx.data["risk"].get("trend")
    tone = {"improving": "good", "worsening": "bad"}.get(trend or "", "")
    return grid(
        [
            card(
                ctx,
                "risk.arr_at_risk",
                tone=tone or "warn",
                link_to=href("accounts", v, list="at_risk"),
            ),
            card(
                ctx, "risk.critical_arr", tone="bad", link_to=href("accounts", v, list="critical")
            ),
            card(ctx, "risk.save_plays.active", link_to=href("save_play_list", v, list="active")),
            card(ctx, "risk.save_plays.success_rate"),
        ]
    )


def _trend_line(ctx: PageContext) -> str:
    """The line under the cards: the risk trend and the save plays closed in the period."""
    r = ctx.data["risk"]
    trend = r.get("trend")
    return (
        f'<p data-metric="risk.trend" data-value="{esc(trend or "")}">Risk is '
        f"<strong>{esc(trend or 'not compared')}</strong> against the comparison period. "
        "Save plays closed in the period: "
        + link("save_play_list", ctx.view, f"{r['save_plays']['saved']} saved", list="saved")
        + ", "
        + link("save_play_list", ctx.view, f"{r['save_plays']['lost']} lost", list="lost")
        + ".</p>"
    )


def _top_accounts_section(ctx: PageContext) -> str:
    """The top accounts at risk, and a link to the whole list."""
    r, v = ctx.data["risk"], ctx.view
    top_rows = [
        [
            link("account", v, a["name"], customer=a["customer_id"], came="risk"),
            esc(a["segment"]),
            csm_link(ctx, a["csm_id"]),
            esc(f.money(a["arr"])),
            badge(a["category"]) + f" {esc(f.score(a['score']))}",
        ]
        for a in r["top_accounts"]
    ]
    return section(
        "Top 10 accounts at risk",
        table(
            [
                ("Customer", False),
                ("Segment", False),
                ("CSM", False),
                ("ARR", True),
                ("Health", False),
            ],
            top_rows,
        )
        + f"<p>{link('accounts', v, 'All accounts at risk →', list='at_risk')}</p>",
    )


def _segment_section(ctx: PageContext) -> str:
    """Risk by segment: ARR at risk (linking to the accounts), accounts, share of ARR."""
    r, v = ctx.data["risk"], ctx.view
    seg_rows = []
    for s in SEGMENTS:
        x, key = r["by_segment"][s], f"risk.by_segment.{s}"
        seg_rows.append(
            [
                link("risk", v, s, segment=s, csm=None),
                vs(
                    ctx,
                    f'<a href="{esc(href("accounts", v, segment=s, csm=None, list="at_risk"))}" '
                    f'target="_self">{esc(f.money(x["arr_at_risk"]))}</a>',
                    f"{key}.arr_at_risk",
                    x["arr_at_risk"],
                    "money",
                    "down",
                ),
                vs(
                    ctx,
                    esc(f.number(x.get("accounts_at_risk"))),
                    f"{key}.accounts_at_risk",
                    x.get("accounts_at_risk"),
                    "count",
                    "down",
                ),
                vs(ctx, esc(f.pct(x["share"])), f"{key}.share", x["share"], "rate", "down"),
            ]
        )
    return section(
        "Risk by segment",
        table(
            [
                ("Segment", False),
                ("ARR at risk", True),
                ("Accounts", True),
                ("Share of ARR", True),
            ],
            seg_rows,
        ),
    )


def _by_csm(ctx: PageContext) -> list[tuple[str, dict[str, Any]]]:
    """(csm_id, risk of the CSM's book), the most exposed first."""
    by_csm = ctx.data["risk"]["by_csm"].items()
    return sorted(by_csm, key=lambda kv: (-kv[1]["arr_at_risk"], kv[0]))


def _csm_chart(ctx: PageContext, by_csm: list[tuple[str, dict[str, Any]]]) -> str:
    """ARR at risk of the most exposed CSMs as bars, each linking to the CSM's page."""
    v = ctx.view
    names = csm_names(ctx)
    bars: list[dict[str, object]] = []
    for cid, x in by_csm[:CHART_TOP]:
        name = charts.short(names.get(cid) or cid)
        if any(b["csm"] == name for b in bars):  # two CSMs with one name: keep both apart
            name = f"{charts.short(name, 16)} ({cid})"
        bars.append(
            {
                "csm": name,
                "arr": x["arr_at_risk"],
                "then": then(ctx, "risk", "by_csm", cid, "arr_at_risk") if comparing(ctx) else None,
                "url": charts.link_value(href("csm", v, csm=cid)),
            }
        )
    chart = charts.bars(
        bars,
        label=headline(
            f"ARR at risk of the {len(bars)} most exposed CSMs",
            [(str(b["csm"]), b["arr"]) for b in bars],
            f.money,
            compared=comparing(ctx),
        ),
        x="arr",
        y="csm",
        title="ARR at risk",
        color="#d69e2e",
        url="url",
    )
    chart = chart and chart + then_note(ctx)
    if chart and len(by_csm) > len(bars):
        chart = (
            f'<p class="ecc-muted ecc-explain">The {len(bars)} most exposed of '
            f"{len(by_csm):,} CSMs by ARR at risk. Click a bar for the CSM's book.</p>" + chart
        )
    return chart


def _csm_cells(ctx: PageContext, cid: str, x: dict[str, Any]) -> list[str]:
    """A CSM's ARR at risk, accounts and share of book, each with its change."""
    before = then(ctx, "risk", "by_csm", cid) or {}  # by id: an id may hold a dot
    return [
        vs(ctx, esc(text), f"risk.by_csm.{cid}.{k}", x[k], unit, "down", before.get(k))
        for k, text, unit in (
            ("arr_at_risk", f.money(x["arr_at_risk"]), "money"),
            ("accounts_at_risk", f.number(x["accounts_at_risk"]), "count"),
            ("share", f.pct(x["share"]), "rate"),
        )
    ]


def _csm_table(ctx: PageContext, by_csm: list[tuple[str, dict[str, Any]]]) -> str:
    """The most exposed CSMs' ARR at risk, accounts and share of book, then the cap line."""
    v = ctx.view
    csm_rows = []
    for cid, x in first(by_csm, TABLE_TOP, v):
        csm_rows.append([csm_link(ctx, cid), *_csm_cells(ctx, cid, x)])
    more = cap_line(
        "risk",
        v,
        total=len(by_csm),
        cap=TABLE_TOP,
        showing=f"the {TABLE_TOP} most exposed",
        noun="CSMs",
    )
    return (
        table(
            [
                ("CSM", False),
                ("ARR at risk", True),
                ("Accounts", True),
                ("Share of book", True),
            ],
            csm_rows,
        )
        + more
    )


def _csm_section(ctx: PageContext) -> str:
    """Risk by CSM, most exposed first: the chart, then the table."""
    by_csm = _by_csm(ctx)
    return section(
        "Risk by CSM (most exposed first)",
        _csm_chart(ctx, by_csm) + _csm_table(ctx, by_csm),
    )


def render(ctx: PageContext) -> str:
    """The risk page, section by section."""
    return "".join(
        [
            _kpis(ctx),
            _trend_line(ctx),
            _top_accounts_section(ctx),
            _segment_section(ctx),
            _csm_section(ctx),
        ]
    )


PAGE = register(Page(name="risk", title="Risk", areas=("risk",), render=render))
