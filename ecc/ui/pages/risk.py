"""Risk exposure (US-003): ARR at risk, its trend, the top accounts, by segment and CSM."""

from __future__ import annotations

from ... import formatting as f
from ...config import SEGMENTS
from .. import charts
from ..components import badge, cap_line, esc, first, grid, href, link, section, table
from . import Page, PageContext, register
from .common import card, csm_link, csm_names

#: How many CSMs the risk-by-CSM chart shows, and the table lists (``?list=all``: all of
#: them in the table), most exposed first.
CHART_TOP = 10
TABLE_TOP = 15


def render(ctx: PageContext) -> str:
    d, v = ctx.data, ctx.view
    r = d["risk"]
    trend = r.get("trend")
    tone = {"improving": "good", "worsening": "bad"}.get(trend or "", "")
    cards = grid(
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
            card(ctx, "risk.save_plays.active"),
            card(ctx, "risk.save_plays.success_rate"),
        ]
    )
    trend_html = (
        f'<p data-metric="risk.trend" data-value="{esc(trend or "")}">Risk is '
        f"<strong>{esc(trend or 'not compared')}</strong> against the comparison period. "
        f"Save plays closed in the period: {r['save_plays']['saved']} saved, "
        f"{r['save_plays']['lost']} lost.</p>"
    )
    top_rows = [
        [
            link("account", v, a["name"], customer=a["customer_id"]),
            esc(a["segment"]),
            csm_link(ctx, a["csm_id"]),
            esc(f.money(a["arr"])),
            badge(a["category"]) + f" {esc(f.score(a['score']))}",
        ]
        for a in r["top_accounts"]
    ]
    seg_rows = [
        [
            link("risk", v, s, segment=s, csm=None),
            f'<a href="{esc(href("accounts", v, segment=s, csm=None, list="at_risk"))}" '
            f'target="_self">{esc(f.money(r["by_segment"][s]["arr_at_risk"]))}</a>',
            esc(f.number(r["by_segment"][s].get("accounts_at_risk"))),
            esc(f.pct(r["by_segment"][s]["share"])),
        ]
        for s in SEGMENTS
    ]
    by_csm = sorted(r["by_csm"].items(), key=lambda kv: (-kv[1]["arr_at_risk"], kv[0]))
    csm_rows = [
        [
            csm_link(ctx, cid),
            esc(f.money(x["arr_at_risk"])),
            esc(f.number(x["accounts_at_risk"])),
            esc(f.pct(x["share"])),
        ]
        for cid, x in first(by_csm, TABLE_TOP, v)
    ]
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
                "url": charts.link_value(href("csm", v, csm=cid)),
            }
        )
    chart = charts.bars(
        bars,
        x="arr",
        y="csm",
        title="ARR at risk",
        color="#d69e2e",
        url="url",
    )
    if chart and len(by_csm) > len(bars):
        chart = (
            f'<p class="ecc-muted ecc-explain">The {len(bars)} most exposed of '
            f"{len(by_csm):,} CSMs by ARR at risk. Click a bar for the CSM's book.</p>" + chart
        )
    more = cap_line(
        "risk",
        v,
        total=len(by_csm),
        cap=TABLE_TOP,
        showing=f"the {TABLE_TOP} most exposed",
        noun="CSMs",
    )
    return (
        cards
        + trend_html
        + section(
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
        + section(
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
        + section(
            "Risk by CSM (most exposed first)",
            chart
            + table(
                [
                    ("CSM", False),
                    ("ARR at risk", True),
                    ("Accounts", True),
                    ("Share of book", True),
                ],
                csm_rows,
            )
            + more,
        )
    )


PAGE = register(Page(name="risk", title="Risk", areas=("risk",), render=render))
