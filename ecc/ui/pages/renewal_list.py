"""The renewals behind a renewal count (drill-down): late ones, those due in the next 30,
60 or 90 days (including those due after this quarter), or everything a CSM has due in
the next 90 days — customer, CSM, due date, ARR, forecast status, days left or late."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...drilldown import RENEWAL_LISTS, renewal_list
from ...metrics.plan import Plan
from ...request import Request
from ..components import badge, esc, href, link, section, table
from ..view import View
from . import Page, PageContext, register
from .common import base_crumbs, list_header

#: The list a bare link opens.
DEFAULT = "late"
#: The lists as the tabs name them.
TABS = (("late", "Late"), ("d30", "Next 30 days"), ("d60", "31–60 days"), ("d90", "61–90 days"))


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The list the view names (``list``), all of its renewals."""
    kind = view.list if view.list in RENEWAL_LISTS else DEFAULT
    return {"renewal_list": renewal_list(conn, req.period.end, req.scope, kind), "list": kind}


def _days(days: int) -> str:
    if days < 0:
        return f'<span class="ecc-late">{-days} d late</span>'
    return f"in {days} d"


def render(ctx: PageContext) -> str:
    """The total, the tabs of the other lists, and the table of renewals."""
    v, data, kind = ctx.view, ctx.data["renewal_list"], ctx.data["list"]
    rows = [
        [
            link("account", v, r["name"], customer=r["customer_id"], came="renewals"),
            esc(r["segment"]),
            link("csm", v, r["csm_name"], csm=r["csm_id"]),
            esc(f.day(r["due_on"])),
            _days(r["days_left"]),
            esc(f.money(r["arr"])),
            badge(r["forecast_status"]),
        ]
        for r in data["rows"]
    ]
    summary = list_header(ctx, "renewal_list", data, "renewals", TABS, kind)
    headers = [
        ("Customer", False),
        ("Segment", False),
        ("CSM", False),
        ("Due", False),
        ("Days", False),
        ("ARR", True),
        ("Forecast", False),
    ]
    return summary + section(data["title"], table(headers, rows, empty="No renewal in this list."))


def crumbs(ctx: PageContext) -> list[tuple[str, str | None]]:
    return [
        *base_crumbs(ctx),
        ("Renewals", href("renewals", ctx.view)),
        (ctx.data["renewal_list"]["title"], None),
    ]


PAGE = register(
    Page(
        name="renewal_list",
        title="Renewal list",
        areas=(),
        render=render,
        nav=False,
        crumbs=crumbs,
        extra=extra,
        compares=False,
        tables=("renewal_list",),
        own_filters=lambda ctx: [f"list {ctx.data['renewal_list']['title']}"],
    )
)
