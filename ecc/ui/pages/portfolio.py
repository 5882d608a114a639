"""Portfolio health (US-001), the landing page: the whole book at a glance."""

from __future__ import annotations

from typing import Any

from ... import formatting as f
from ...config import CATEGORIES, SEGMENTS
from .. import charts
from ..chart_text import headline
from ..components import badge, esc, grid, href, link, section, table
from . import Page, PageContext, register
from .common import card, compare_label, comparing, csm_link, then, vs

TREND_TONE = {"improving": "good", "declining": "bad", "stable": ""}


def _trend_line(ctx: PageContext) -> str:
    """The line over the cards: the health trend and the risk trend."""
    p, risk = ctx.data["portfolio"], ctx.data["risk"]
    trend = p.get("trend")
    return (
        f'<p class="ecc-muted" data-metric="portfolio.trend" data-value="{esc(trend or "")}">'
        f"Health trend: <strong>{esc(trend or 'no comparison')}</strong> · risk trend: "
        f"<strong>{esc(risk.get('trend') or 'no comparison')}</strong></p>"
    )


def _kpis(ctx: PageContext) -> str:
    """The cards: customers, ARR, health and its distribution, ARR at risk and critical."""
    v = ctx.view
    trend = ctx.data["portfolio"].get("trend")
    return grid(
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


def _segment_table(ctx: PageContext) -> str:
    """One row per segment: customers, ARR, health, healthy and critical shares, risk."""
    p, risk, v = ctx.data["portfolio"], ctx.data["risk"], ctx.view
    seg_rows = []
    for s in SEGMENTS:
        sp = p["by_segment"][s]
        sr = risk["by_segment"][s]
        pk, rk = f"portfolio.by_segment.{s}", f"risk.by_segment.{s}"
        seg_rows.append(
            [
                link("portfolio", v, s, segment=s, csm=None),
                vs(
                    ctx, esc(f.number(sp["customers"])), f"{pk}.customers", sp["customers"], "count"
                ),
                vs(ctx, esc(f.money(sp["arr"])), f"{pk}.arr", sp["arr"], "money", "up"),
                vs(
                    ctx,
                    esc(f.score(sp["avg_health"])),
                    f"{pk}.avg_health",
                    sp["avg_health"],
                    "score",
                    "up",
                ),
                *(
                    vs(
                        ctx,
                        esc(f.pct(sp["distribution"][c])),
                        f"{pk}.distribution.{c}",
                        sp["distribution"][c],
                        "rate",
                        good,
                    )
                    for c, good in (("healthy", "up"), ("critical", "down"))
                ),
                vs(
                    ctx,
                    f'<a href="{esc(href("accounts", v, segment=s, list="at_risk", csm=None))}" '
                    f'target="_self">{esc(f.money(sr["arr_at_risk"]))}</a>',
                    f"{rk}.arr_at_risk",
                    sr["arr_at_risk"],
                    "money",
                    "down",
                ),
                vs(ctx, esc(f.pct(sr["share"])), f"{rk}.share", sr["share"], "rate", "down"),
            ]
        )
    return table(
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


def _segment_chart(ctx: PageContext) -> str:
    """The health categories' shares per segment, each segment linking to its portfolio."""
    v = ctx.view
    label = (compare_label(ctx) or "").removeprefix("vs ")
    chart_rows = []
    for s in SEGMENTS:
        url = charts.link_value(href("portfolio", v, segment=s, csm=None))
        bars = [(s, ctx.data["portfolio"]["by_segment"][s]["distribution"])]
        if comparing(ctx):  # the same segment in the comparison period, under it
            bars.append((f"{s}, {label}", then(ctx, "portfolio", "by_segment", s, "distribution")))
        for name, dist in bars:
            for order, c in enumerate(CATEGORIES):
                share = (dist or {}).get(c)
                if share is not None:
                    chart_rows.append(
                        {"segment": name, "category": c, "share": share, "order": order, "url": url}
                    )
    critical = [
        (s, ctx.data["portfolio"]["by_segment"][s]["distribution"]["critical"]) for s in SEGMENTS
    ]
    label = headline(
        "Share of healthy, at-risk and critical customers in each segment",
        critical,
        f.pct,
        most="largest critical share",
        compared=comparing(ctx),
    )
    return charts.health_by_segment(chart_rows, label=label)


def _move_row(p: dict[str, Any], key: str, label: str) -> list[str]:
    """One row of the movement table: the book then (``mom`` or ``qoq``) and now."""
    m = p[key]
    return [
        esc(label) + f' <span class="ecc-muted">since {esc(m["date"])}</span>',
        esc(
            f"{f.number(m['customers'])} → {f.number(p['customers'])} "
            f"({f.delta(p['customers'], m['customers'])})"
        ),
        esc(f"{f.money(m['arr'])} → {f.money(p['arr'])} ({f.delta(p['arr'], m['arr'], 'money')})"),
        esc(
            f"{f.score(m['avg_health'])} → {f.score(p['avg_health'])} "
            f"({f.delta(p['avg_health'], m['avg_health'], 'score')})"
        ),
        esc(f.pct(m["distribution"]["critical"]) + " → " + f.pct(p["distribution"]["critical"])),
    ]


def _movement_table(ctx: PageContext) -> str:
    """Month over month and quarter over quarter: customers, ARR, health, critical share."""
    p = ctx.data["portfolio"]
    moves = [
        _move_row(p, key, label)
        for key, label in (("mom", "Month over month"), ("qoq", "Quarter over quarter"))
    ]
    return table(
        [
            ("Change", False),
            ("Customers", True),
            ("ARR", True),
            ("Avg health", True),
            ("Critical share", True),
        ],
        moves,
    )


def _top_risk_section(ctx: PageContext) -> str:
    """The five largest accounts at risk, and a link to the risk dashboard."""
    v = ctx.view
    top = ctx.data["risk"]["top_accounts"][:5]
    top_rows = [
        [
            link("account", v, a["name"], customer=a["customer_id"], came="portfolio"),
            esc(a["segment"]),
            csm_link(ctx, a["csm_id"]),
            esc(f.money(a["arr"])),
            badge(a["category"]) + f" {esc(f.score(a['score']))}",
        ]
        for a in top
    ]
    return section(
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


def render(ctx: PageContext) -> str:
    """The portfolio page, section by section."""
    return "".join(
        [
            _trend_line(ctx),
            _kpis(ctx),
            section("By segment", _segment_table(ctx) + _segment_chart(ctx)),
            section("Movement", _movement_table(ctx)),
            _top_risk_section(ctx),
        ]
    )


PAGE = register(
    Page(name="portfolio", title="Portfolio health", areas=("portfolio", "risk"), render=render)
)
