"""The save plays behind the risk page's counts (drill-down): those open at the as-of
date, or those closed as saved or lost in the period — customer, ARR at stake, opened,
closed, status and owner."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...drilldown import SAVE_PLAY_LISTS, save_play_list
from ...metrics.plan import Plan
from ...request import Request
from ..components import badge, esc, href, link, section, table
from ..view import View
from . import Page, PageContext, register
from .common import base_crumbs, list_header

DEFAULT = "active"
TABS = (("active", "Open"), ("saved", "Saved"), ("lost", "Lost"))


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The list the view names (``list``), all of its plays."""
    kind = view.list if view.list in SAVE_PLAY_LISTS else DEFAULT
    p = req.period
    return {"save_play_list": save_play_list(conn, p.start, p.end, req.scope, kind), "list": kind}


def render(ctx: PageContext) -> str:
    """The total, the tabs of the other lists, and the table of plays."""
    v, data, kind = ctx.view, ctx.data["save_play_list"], ctx.data["list"]
    rows = [
        [
            link("account", v, r["name"], customer=r["customer_id"], came="risk"),
            esc(r["segment"]),
            esc(f.money(r["arr"])),
            esc(f.day(r["opened_on"])),
            esc(f.day(r["closed_on"])) if r["closed_on"] else '<span class="ecc-muted">—</span>',
            badge(r["status"]),
            link("csm", v, r["owner_name"], csm=r["csm_id"]),
        ]
        for r in data["rows"]
    ]
    headers = [
        ("Customer", False),
        ("Segment", False),
        ("ARR at stake", True),
        ("Opened", False),
        ("Closed", False),
        ("Status", False),
        ("Owner", False),
    ]
    return list_header(ctx, "save_play_list", data, "save plays", TABS, kind) + section(
        data["title"], table(headers, rows, empty="No save play in this list.")
    )


def crumbs(ctx: PageContext) -> list[tuple[str, str | None]]:
    return [
        *base_crumbs(ctx),
        ("Risk", href("risk", ctx.view)),
        (ctx.data["save_play_list"]["title"], None),
    ]


PAGE = register(
    Page(
        name="save_play_list",
        title="Save plays",
        areas=(),
        render=render,
        nav=False,
        crumbs=crumbs,
        extra=extra,
        compares=False,
        tables=("save_play_list",),
        own_filters=lambda ctx: [f"list {ctx.data['save_play_list']['title']}"],
    )
)
