"""The save plays behind the risk page's counts (drill-down): those open at the as-of
date, or those closed as saved or lost in the period — customer, ARR at stake, opened,
closed, status and owner."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...drilldown import SAVE_PLAY_LISTS, save_play_list
from ...request import Request
from ..components import badge, esc, link
from . import PageContext, register
from .record_list import RecordList, list_page


def _row(ctx: PageContext, r: dict[str, Any]) -> list[str]:
    v = ctx.view
    return [
        link("account", v, r["name"], customer=r["customer_id"], came="risk"),
        esc(r["segment"]),
        esc(f.money(r["arr"])),
        esc(f.day(r["opened_on"])),
        esc(f.day(r["closed_on"])) if r["closed_on"] else '<span class="ecc-muted">—</span>',
        badge(r["status"]),
        link("csm", v, r["owner_name"], csm=r["csm_id"]),
    ]


def _load(conn: Connection, req: Request, kind: str) -> dict[str, Any]:
    return save_play_list(conn, req.period.start, req.period.end, req.scope, kind)


LIST = RecordList(
    name="save_play_list",
    title="Save plays",
    parent="risk",
    parent_title="Risk",
    noun="save plays",
    tabs=(("active", "Open"), ("saved", "Saved"), ("lost", "Lost")),
    kinds=SAVE_PLAY_LISTS,
    default="active",
    load=_load,
    headers=(
        ("Customer", False),
        ("Segment", False),
        ("ARR at stake", True),
        ("Opened", False),
        ("Closed", False),
        ("Status", False),
        ("Owner", False),
    ),
    row=_row,
    empty="No save play in this list.",
)
PAGE = register(list_page(LIST))
