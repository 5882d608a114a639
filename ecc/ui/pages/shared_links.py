"""Shared links: the views a person shared from the pages (an admin: everyone's), with
who made each, when, how it is shared, until when, how often it was opened and when
last — and, in the live page, a Withdraw button on each active one.

The list belongs to the viewer (the hub names them and their role on each request), so
this page has no first paint from the cache and no comparison.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ...metrics.plan import Plan
from ...request import Request
from ...share.views import list_views
from ..owned_lists import links_html, owned_data
from ..view import View
from . import Live, LiveEnv, Page, PageContext, register


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The viewer's links (an admin's: everyone's)."""
    load = lambda who, all_: list_views(conn, who, everyone=all_)  # noqa: E731
    return {"shared_links": owned_data(view, load)}


def render(ctx: PageContext) -> str:
    return links_html(ctx.data["shared_links"])


def range_text(ctx: PageContext) -> str:
    return "Views shared from the pages"


def live(env: LiveEnv) -> Live:
    from ..share_links_panel import SharedLinksPanel

    return SharedLinksPanel(env)


PAGE = register(
    Page(
        name="shared_links",
        title="Shared links",
        areas=(),
        render=render,
        extra=extra,
        live=live,
        range_text=range_text,
        compares=False,
        nav=False,
        controls=False,
        tables=("shared_links",),
    )
)
