"""Account detail (drill-down): health and ARR history, renewals, opportunities, save
plays, activities and tickets of one customer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...drilldown import account_at, account_detail
from ...errors import ConfigError
from ...metrics.plan import Plan
from ...request import Request
from .. import charts
from ..chart_text import span
from ..components import (
    badge,
    columns,
    esc,
    grid,
    href,
    kpi,
    link,
    section,
    show_data,
    table,
)
from ..view import View
from . import PAGES, Page, PageContext, register
from .common import base_crumbs, compare_label, own_comparison, then


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    return _data(conn, plan, req, view, RECENT)


def every_row(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The account with all its activities and tickets (the Excel export)."""
    return _data(conn, plan, req, view, None)


#: How many of the latest activities and tickets the page lists.
RECENT = 20


def _data(
    conn: Connection, plan: Plan, req: Request, view: View, recent: int | None
) -> dict[str, Any]:
    """The account as of the period's end, and its ARR and health at the comparison end."""
    customer = view.customer
    if not customer:
        raise ConfigError("no account chosen: open an account from a list or the risk page")
    return {
        "account": account_detail(conn, customer, req.period.end, recent),
        **own_comparison(plan, conn, req, "account", lambda d: account_at(conn, customer, d)),
    }


def _title(ctx: PageContext) -> str:
    """The customer's name and health category."""
    a = ctx.data["account"]
    category = badge(a["category"])
    return f"<h2>{esc(a['name'])} {category}</h2>"


def _profile(ctx: PageContext) -> str:
    """The line under the name: segment, CSM, sign-up and go-live, industry and region."""
    a, v = ctx.data["account"], ctx.view
    return (
        f"<p>{esc(a['segment'])} · CSM {link('csm', v, a['csm_name'], csm=a['csm_id'])} · "
        f"signed up {esc(a['signup_date'])} · live since {esc(a['onboarded_on'] or 'not yet')}"
        f"{' · ' + esc(a['industry']) if a['industry'] else ''}"
        f"{' · ' + esc(a['region']) if a['region'] else ''}</p>"
    )


def _kpis(ctx: PageContext) -> str:
    """The cards: the account's ARR and health score."""
    a, p, label = ctx.data["account"], ctx.req.period, compare_label(ctx)
    return grid(
        [
            kpi(
                "account.arr",
                a["arr"],
                p,
                label="ARR",
                unit="money",
                compare=then(ctx, "account", "arr"),
                compare_label=label,
                good="up",
            ),
            kpi(
                "account.score",
                a["score"],
                p,
                label="Health",
                unit="score",
                compare=then(ctx, "account", "score"),
                compare_label=label,
                good="up",
            ),
        ]
    )


def _health_section(ctx: PageContext) -> str:
    """The health score over the last 12 months."""
    a = ctx.data["account"]
    health = charts.line_trend(
        [{"date": h["date"], "score": h["score"]} for h in a["health"]],
        {"score": "Health score"},
        label=span(
            f"{a['name']}'s health score over the last 12 months",
            [h["score"] for h in a["health"]],
            f.score,
        ),
        fmt="d",
        title="Health (last 12 months)",
    )
    if not health:
        return section("Health", '<p class="ecc-muted">No scores in the last year.</p>')
    numbers = show_data(
        [("Date", False), ("Health score", True)],
        [[esc(f.day(h["date"][:10])), esc(f.score(h["score"]))] for h in reversed(a["health"])],
        what=f"{a['name']}'s health score on each scoring date",
    )
    return section("Health", health + numbers)


def _ledger(a: dict[str, Any]) -> str:
    """ARR history: every movement, the latest first, with the ARR after it."""
    return table(
        [("Date", False), ("Movement", False), ("Change", True), ("ARR after", True)],
        [
            [
                esc(e["date"]),
                esc(e["kind"] + (f" ({e['expansion_type']})" if e["expansion_type"] else "")),
                esc(f.delta(e["delta"], 0, "money")),
                esc(f.money(e["arr"])),
            ]
            for e in reversed(a["ledger"])
        ],
    )


def _renewals(a: dict[str, Any]) -> str:
    """The account's renewals: due date, ARR, forecast and outcome."""
    return table(
        [("Due", False), ("ARR", True), ("Forecast", False), ("Outcome", False)],
        [
            [
                esc(r["due_on"]),
                esc(f.money(r["arr"])),
                badge(r["forecast_status"]),
                badge(r["outcome"]) if r["outcome"] else "open",
            ]
            for r in a["renewals"]
        ],
    )


def _opportunities(a: dict[str, Any]) -> str:
    """The account's expansion opportunities: type, stage, amount, close and outcome."""
    return table(
        [
            ("Type", False),
            ("Stage", False),
            ("Amount", True),
            ("Expected close", False),
            ("Outcome", False),
        ],
        [
            [
                esc(o["type"].replace("_", " ")),
                esc(o["stage"]),
                esc(f.money(o["amount"])),
                esc(o["expected_close_on"]),
                badge(o["outcome"]) if o["outcome"] else "open",
            ]
            for o in a["opportunities"]
        ],
    )


def _save_plays(a: dict[str, Any]) -> str:
    """The account's save plays: opened, by which CSM, and their outcome."""
    return table(
        [("Opened", False), ("CSM", False), ("Outcome", False)],
        [
            [
                esc(s["opened_on"]),
                esc(s["csm_id"]),
                badge(s["outcome"]) if s["outcome"] else "active",
            ]
            for s in a["save_plays"]
        ],
    )


def _activities(a: dict[str, Any]) -> str:
    """The account's recent activities: date, kind, CSM, done or not."""
    return table(
        [("Date", False), ("Kind", False), ("CSM", False), ("Done", False)],
        [
            [esc(x["date"]), esc(x["kind"]), esc(x["csm_id"]), "yes" if x["completed"] else "no"]
            for x in a["activities"]
        ],
    )


def _tickets(a: dict[str, Any]) -> str:
    """The account's recent support tickets: opened, priority, resolved."""
    return table(
        [("Opened", False), ("Priority", False), ("Resolved", False)],
        [
            [esc(t["opened_at"]), esc(t["priority"]), esc(t["resolved_at"] or "open")]
            for t in a["tickets"]
        ],
    )


def render(ctx: PageContext) -> str:
    """The account page, section by section (the tables two by two)."""
    a = ctx.data["account"]
    return "".join(
        [
            _title(ctx),
            _profile(ctx),
            _kpis(ctx),
            _health_section(ctx),
            columns(section("ARR history", _ledger(a)), section("Renewals", _renewals(a))),
            columns(
                section("Expansion opportunities", _opportunities(a)),
                section("Save plays", _save_plays(a)),
            ),
            columns(
                section("Recent activities", _activities(a)),
                section("Recent tickets", _tickets(a)),
            ),
        ]
    )


#: The account lists by kind, as a breadcrumb names them.
LIST_CRUMBS = {
    "at_risk": "Accounts at risk",
    "critical": "Critical accounts",
    "healthy": "Healthy accounts",
    "all": "All accounts",
}


def came_from(view: View) -> list[tuple[str, str | None]]:
    """The crumb of the way the viewer came — a dashboard, or a list of accounts (the
    at-risk list when the link did not say); none from a CSM's book, whose crumb is
    there already. Only known pages and lists count: the URL's words are never shown."""
    if view.came == "csm" and view.csm:
        return []
    page = PAGES.get(view.came or "")
    if page is not None and page.nav:
        return [(page.title, href(page.name, view))]
    kind = view.list if view.list in LIST_CRUMBS else "at_risk"
    return [(LIST_CRUMBS[kind], href("accounts", view, list=kind))]


def crumbs(ctx: PageContext) -> list[tuple[str, str | None]]:
    return [*base_crumbs(ctx), *came_from(ctx.view), (ctx.data["account"]["name"], None)]


PAGE = register(
    Page(
        name="account",
        title="Account",
        areas=(),
        render=render,
        nav=False,
        crumbs=crumbs,
        extra=extra,
        every_row=every_row,
        own_filters=lambda ctx: [f"account {ctx.data['account']['name']}"],
        tables=("account",),  # the Excel export holds its history, renewals, activities...
    )
)
