"""Subscriptions: the views a person subscribed to from the dashboards (an admin: every
one), what is sent, when, to whom and in what state — and, in the live page, buttons to
pause, resume or remove each (an admin: any, and approve one waiting for approval).

The list belongs to the viewer (the hub names them and their role on each request): no
first paint from the cache, no comparison.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ...metrics.plan import Plan
from ...request import Request
from ...schedule.subscriptions import listing
from ..owned_lists import owned_data, subscriptions_html
from ..view import View
from . import Live, LiveEnv, Page, PageContext, register


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The viewer's subscriptions (an admin's: everyone's)."""
    load = lambda who, all_: listing(conn, who, everyone=all_)  # noqa: E731
    return {"subscriptions": owned_data(view, load)}


def render(ctx: PageContext) -> str:
    return subscriptions_html(ctx.data["subscriptions"])


def range_text(ctx: PageContext) -> str:
    return "Views mailed on a schedule"


def live(env: LiveEnv) -> Live:
    from ..subscriptions_panel import SubscriptionsPanel

    return SubscriptionsPanel(env)


PAGE = register(
    Page(
        name="subscriptions",
        title="Subscriptions",
        areas=(),
        render=render,
        extra=extra,
        live=live,
        range_text=range_text,
        compares=False,
        nav=False,
        controls=False,
        tables=("subscriptions",),
    )
)
