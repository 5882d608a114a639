"""The renewals behind a renewal count (drill-down): late ones, those due in the next 30,
60 or 90 days (including those due after this quarter), or everything a CSM has due in
the next 90 days — customer, CSM, due date, ARR, forecast status, days left or late."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...drilldown import RENEWAL_LISTS, renewal_list
from ...request import Request
from ..components import badge, esc, link
from . import PageContext, register
from .record_list import RecordList, list_page


def _days(days: int) -> str:
    if days < 0:
        return f'<span class="ecc-late">{-days} d late</span>'
    return f"in {days} d"


def _row(ctx: PageContext, r: dict[str, Any]) -> list[str]:
    v = ctx.view
    return [
        link("account", v, r["name"], customer=r["customer_id"], came="renewals"),
        esc(r["segment"]),
        link("csm", v, r["csm_name"], csm=r["csm_id"]),
        esc(f.day(r["due_on"])),
        _days(r["days_left"]),
        esc(f.money(r["arr"])),
        badge(r["forecast_status"]),
    ]


def _load(conn: Connection, req: Request, kind: str) -> dict[str, Any]:
    return renewal_list(conn, req.period.end, req.scope, kind)


LIST = RecordList(
    name="renewal_list",
    title="Renewal list",
    parent="renewals",
    parent_title="Renewals",
    noun="renewals",
    tabs=(("late", "Late"), ("d30", "Next 30 days"), ("d60", "31–60 days"), ("d90", "61–90 days")),
    kinds=RENEWAL_LISTS,
    default="late",
    load=_load,
    headers=(
        ("Customer", False),
        ("Segment", False),
        ("CSM", False),
        ("Due", False),
        ("Days", False),
        ("ARR", True),
        ("Forecast", False),
    ),
    row=_row,
    empty="No renewal in this list.",
)
PAGE = register(list_page(LIST))
