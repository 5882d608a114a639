"""Portfolio health (US-001), the landing page: the whole book at a glance."""

from __future__ import annotations

from ... import formatting as f
from ...config import CATEGORIES, SEGMENTS
from .. import charts
from ..components import badge, esc, grid, href, link, section, table
from . import Page, PageContext, register
from .common import card, csm_link

TREND_TONE = {"improving": "good", "declining": "bad", "stable": ""}


def render(ctx: PageContext) -> str:
    d, v = ctx.data, ctx.view
    p, risk = d["portfolio"], d["risk"]
    trend = p.get("trend")
    trend_html = (
        f'<p class="ecc-muted" data-metric="portfolio.trend" data-value="{esc(trend or "")}">'
        f"Health trend: <strong>{esc(trend or 'no comparison')}</strong> · risk trend: "
        f"<strong>{esc(risk.get('trend') or 'no comparison')}</strong></p>"
    )
    cards = grid(
        [
            card(ctx, "portfolio.customers", link_to=href("accounts", v, list="all")),
            card(ctx, "portfolio.arr"),
            card(ctx, "portfolio.avg_health", tone=TREND_TONE.get(trend or "")),
            card(
                ctx,
                "portfolio.distribution.healthy",
                tone="good",
                link_to=href("accounts", v, list="healthy"),
            ),
            card(
                ctx,
                "portfolio.distribution.at_risk",
                tone="warn",
                link_to=href("accounts", v, list="at_risk"),
            ),
            card(
                ctx,
                "portfolio.distribution.critical",
                tone="bad",
                link_to=href("accounts", v, list="critical"),
            ),
            card(ctx, "risk.arr_at_risk", tone="warn", link_to=href("accounts", v, list="at_risk")),
            card(
                ctx, "risk.critical_arr", tone="bad", link_to=href("accounts", v, list="critical")
            ),
        ]
    )
    moves = []
    for key, label in (("mom", "Month over month"), ("qoq", "Quarter over quarter")):
        m = p[key]
        moves.append(
            [
                esc(label) + f' <span class="ecc-muted">since {esc(m["date"])}</span>',
                esc(
                    f"{f.number(m['customers'])} → {f.number(p['customers'])} "
                    f"({f.delta(p['customers'], m['customers'])})"
                ),
                esc(
                    f"{f.money(m['arr'])} → {f.money(p['arr'])} "
                    f"({f.delta(p['arr'], m['arr'], 'money')})"
                ),
                esc(
                    f"{f.score(m['avg_health'])} → {f.score(p['avg_health'])} "
                    f"({f.delta(p['avg_health'], m['avg_health'], 'score')})"
                ),
                esc(
                    f.pct(m["distribution"]["critical"])
                    + " → "
                    + f.pct(p["distribution"]["critical"])
                ),
            ]
        )
    mom_table = table(
        [
            ("Change", False),
            ("Customers", True),
            ("ARR", True),
            ("Avg health", True),
            ("Critical share", True),
        ],
        moves,
    )
    seg_rows = []
    chart_rows = []
    for s in SEGMENTS:
        sp = p["by_segment"][s]
        sr = risk["by_segment"][s]
        seg_rows.append(
            [
                link("portfolio", v, s, segment=s, csm=None),
                esc(f.number(sp["customers"])),
                esc(f.money(sp["arr"])),
                esc(f.score(sp["avg_health"])),
                esc(f.pct(sp["distribution"]["healthy"])),
                esc(f.pct(sp["distribution"]["critical"])),
                f'<a href="{esc(href("accounts", v, segment=s, list="at_risk", csm=None))}" '
                f'target="_self">{esc(f.money(sr["arr_at_risk"]))}</a>',
                esc(f.pct(sr["share"])),
            ]
        )
        for order, c in enumerate(CATEGORIES):
            share = sp["distribution"][c]
            if share is not None:
                chart_rows.append(
                    {
                        "segment": s,
                        "category": c,
                        "share": share,
                        "order": order,
                        "url": charts.link_value(href("portfolio", v, segment=s, csm=None)),
                    }
                )
    seg_table = table(
        [
            ("Segment", False),
            ("Customers", True),
            ("ARR", True),
            ("Avg health", True),
            ("Healthy", True),
            ("Critical", True),
            ("ARR at risk", True),
            ("Share at risk", True),
        ],
        seg_rows,
    )
    top = risk["top_accounts"][:5]
    top_rows = [
        [
            link("account", v, a["name"], customer=a["customer_id"]),
            esc(a["segment"]),
            csm_link(ctx, a["csm_id"]),
            esc(f.money(a["arr"])),
            badge(a["category"]) + f" {esc(f.score(a['score']))}",
        ]
        for a in top
    ]
    return (
        trend_html
        + cards
        + section("By segment", seg_table + charts.health_by_segment(chart_rows))
        + section("Movement", mom_table)
        + section(
            "Largest accounts at risk",
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
            + f"<p>{link('risk', v, 'See the risk dashboard →')}</p>",
        )
    )


PAGE = register(
    Page(name="portfolio", title="Portfolio health", areas=("portfolio", "risk"), render=render)
)
