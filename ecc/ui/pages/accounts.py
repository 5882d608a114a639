"""Filtered account lists (drill-down): all, at risk, critical or healthy accounts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...drilldown import LIST_KINDS, LIST_LIMIT, account_list, account_totals
from ...metrics.plan import Plan
from ...request import Request
from ..components import badge, esc, link, section, table
from ..view import View
from . import Page, PageContext, register
from .common import base_crumbs, own_comparison, vs


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    return _data(conn, plan, req, view, LIST_LIMIT)


def every_row(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The list with all its rows (the Excel export)."""
    return _data(conn, plan, req, view, None)


def _data(
    conn: Connection, plan: Plan, req: Request, view: View, limit: int | None
) -> dict[str, Any]:
    """The list (its first ``limit`` rows), and its count and ARR at the comparison end."""
    kind = view.list if view.list in LIST_KINDS else "at_risk"
    end, scope = req.period.end, req.scope
    return {
        "accounts": account_list(plan, conn, end, scope, kind, limit),
        "list": kind,
        **own_comparison(
            plan, conn, req, "accounts", lambda d: account_totals(plan, conn, d, scope, kind)
        ),
    }


def _renewal(due: str | None, end: date) -> str:
    """The next open renewal: its date, and how far off (or late) it is."""
    if due is None:
        return '<span class="ecc-muted">none open</span>'
    days = (date.fromisoformat(due) - end).days
    when = f'<span class="ecc-late">{-days} d late</span>' if days < 0 else f"in {days} d"
    return f'{esc(f.day(due))}<br><span class="ecc-sub">{when}</span>'


def _touch(last: str | None, end: date) -> str:
    """The last activity logged for the account, and how long ago."""
    if last is None:
        return '<span class="ecc-muted">none logged</span>'
    days = (end - date.fromisoformat(last)).days
    return f'{esc(f.day(last))}<br><span class="ecc-sub">{days} d ago</span>'


def _inline(cell: str) -> str:
    """A number and its change on one line (a sentence, not a table cell)."""
    return cell.replace("<br>", " ")


def render(ctx: PageContext) -> str:
    v, a, end = ctx.view, ctx.data["accounts"], ctx.req.period.end
    rows = [
        [
            link("account", v, r["name"], customer=r["customer_id"], list=ctx.data["list"]),
            esc(r["segment"]),
            link("csm", v, r["csm_name"], csm=r["csm_id"]),
            esc(f.money(r["arr"])),
            badge(r["category"]) + f" {esc(f.score(r['score']))}",
            _renewal(r["renewal_due"], end),
            "active" if r["save_play"] else '<span class="ecc-muted">—</span>',
            _touch(r["last_touch"], end),
        ]
        for r in a["rows"]
    ]
    more = ""
    if a["shown"] < a["total"]:
        more = f'<p class="ecc-muted">Showing the {a["shown"]} largest of {a["total"]:,}.</p>'
    tabs = " · ".join(
        esc(label) if kind == ctx.data["list"] else link("accounts", v, label, list=kind)
        for kind, label in (
            ("at_risk", "At risk"),
            ("critical", "Critical"),
            ("healthy", "Healthy"),
            ("all", "All"),
        )
    )
    count = vs(
        ctx, f"<strong>{a['total']:,}</strong> accounts", "accounts.total", a["total"], "count"
    )
    arr = vs(
        ctx,
        f"<strong>{esc(f.money(a['total_arr']))}</strong> ARR",
        "accounts.total_arr",
        a["total_arr"],
        "money",
    )
    summary = (
        f'<p data-metric="accounts.total_arr" data-value="{a["total_arr"]}">'
        f"{_inline(count)}, {_inline(arr)} as of {ctx.req.period.end:%b %-d, %Y}. {tabs}</p>"
    )
    return summary + section(
        a["title"],
        table(
            [
                ("Customer", False),
                ("Segment", False),
                ("CSM", False),
                ("ARR", True),
                ("Health", False),
                ("Next renewal", False),
                ("Save play", False),
                ("Last touch", False),
            ],
            rows,
        )
        + more,
    )


def crumbs(ctx: PageContext) -> list[tuple[str, str | None]]:
    return [*base_crumbs(ctx), (ctx.data["accounts"]["title"], None)]


PAGE = register(
    Page(
        name="accounts",
        title="Accounts",
        areas=(),
        render=render,
        nav=False,
        crumbs=crumbs,
        extra=extra,
        tables=("accounts",),  # the Excel export holds the list's rows
        every_row=every_row,
        own_filters=lambda ctx: [f"list {ctx.data['accounts']['title']}"],
    )
)
