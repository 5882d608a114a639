"""Subscriptions: the views a person subscribed to from the dashboards (an admin: every
one), what is sent, when, to whom and in what state — and, in the live page, buttons to
pause, resume or remove each (an admin: any, and approve one waiting for approval).

The list belongs to the viewer (the hub names them and their role on each request): no
first paint from the cache, no comparison.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from ...metrics.plan import Plan
from ...request import Request
from ...schedule.subscriptions import CADENCES, listing
from ..components import esc, table
from ..view import View
from . import Live, LiveEnv, Page, PageContext, register
from .shared_links import ADMIN, view_words

HEADERS = [
    ("Dashboard and view", False),
    ("Formats", False),
    ("When", False),
    ("Sent to", False),
    ("Owner", False),
    ("State", False),
]
STATE_WORDS = {
    "active": "active",
    "paused": "paused",
    "pending": "waiting for an admin's approval",
}


def when_words(cron: str, timezone: str) -> str:
    """ "every Monday at 07:00 (Europe/London)", or the crontab line."""
    known = {c: words for c, words in CADENCES.values()}
    return f"{known.get(cron, cron)} ({timezone})"


def sent_to(row: dict[str, Any]) -> str:
    if row["fan_out"] == "csm":
        return "each active CSM of the view: their own book"
    if row["fan_out"] == "segment":
        by = json.loads(row["by_segment"] or "{}")
        return "; ".join(f"{s}: {', '.join(to)}" for s, to in by.items())
    return ", ".join(row["recipients"].split(","))


def cells(row: dict[str, Any]) -> list[str]:
    return [
        esc(view_words(row["page"].capitalize(), row["params"])),
        esc(row["formats"].replace("xlsx", "Excel").replace("pdf", "PDF").replace(",", ", ")),
        esc(when_words(row["cron"], row["timezone"])),
        esc(sent_to(row)),
        esc(row["owner"]),
        f'<span class="ecc-link-state {esc(row["state"])}">'
        f"{esc(STATE_WORDS.get(row['state'], row['state']))}</span>",
    ]


def everyone(view: View) -> bool:
    return view.viewer_role == ADMIN


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The viewer's subscriptions (an admin's: everyone's)."""
    if not view.viewer:
        return {"subscriptions": {"rows": [], "everyone": False, "viewer": None}}
    rows = listing(conn, view.viewer, everyone=everyone(view))
    return {"subscriptions": {"rows": rows, "everyone": everyone(view), "viewer": view.viewer}}


def render(ctx: PageContext) -> str:
    data = ctx.data["subscriptions"]
    if data["viewer"] is None:
        intro = (
            '<p class="ecc-muted">Subscriptions are listed for the person signed in through '
            "the hub.</p>"
        )
    else:
        whose = "Every subscription" if data["everyone"] else "Your subscriptions"
        intro = (
            f'<p class="ecc-explain">{esc(whose)}: the scheduler mails each view at its time '
            "and takes a change within a minute. Use Subscribe on a dashboard to add one.</p>"
        )
    listing_html = table(
        HEADERS,
        [cells(r) for r in data["rows"]],
        empty="No subscriptions yet: use Subscribe on a dashboard to make one.",
    )
    return intro + f'<section class="ecc-section">{listing_html}</section>'


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
        tables=("subscriptions",),
    )
)
