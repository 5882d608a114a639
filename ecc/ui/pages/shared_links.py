"""Shared links: the views a person shared from the pages (an admin: everyone's), with
who made each, when, how it is shared, until when, how often it was opened and when
last — and, in the live page, a Withdraw button on each active one.

The list belongs to the viewer (the hub names them and their role on each request), so
this page has no first paint from the cache and no comparison.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ...metrics.plan import Plan
from ...periods import COMPARE_LABELS, PRESET_LABELS
from ...request import Request
from ...share.views import KINDS, list_views, status
from ..components import esc, table
from ..view import View, parse_query
from . import Live, LiveEnv, Page, PageContext, register

ADMIN = "admin"
HEADERS = [
    ("Page and view", False),
    ("How", False),
    ("Note", False),
    ("Shared by", False),
    ("Shared", False),
    ("Until", False),
    ("Opened", True),
    ("Last opened", False),
    ("State", False),
]


def view_words(page_title: str, params: str) -> str:
    """A shared view in words: "Risk · This quarter, vs previous period, segment SMB"."""
    v = parse_query(params)
    if v.preset:
        when = PRESET_LABELS.get(v.preset, v.preset)
    else:
        when = f"{v.start or '…'} – {v.end or '…'}"
    parts = [when, COMPARE_LABELS.get(v.compare, "no comparison") if v.compare else "no comparison"]
    parts += [f"segment {v.segment}"] if v.segment else []
    parts += [f"CSM {v.csm}"] if v.csm else []
    parts += [
        f"{key} {getattr(v, key)}" for key in ("list", "customer", "severity") if getattr(v, key)
    ]
    return f"{page_title} · {', '.join(parts)}"


def _when(at: datetime | None) -> str:
    return "never" if at is None else f"{at:%b %-d, %Y %H:%M} UTC"


def cells(row: dict[str, Any]) -> list[str]:
    """One link's table cells (HTML, escaped)."""
    state = status(row)
    return [
        esc(view_words(row["title"], row["params"])),
        esc(KINDS.get(row["kind"], row["kind"])),
        esc(row["note"] or ""),
        esc(row["created_by"]),
        esc(_when(row["created_at"])),
        esc(f"{row['expires_at']:%b %-d, %Y}"),
        esc(f"{row['views']:,}"),
        esc(_when(row["last_opened_at"])),
        f'<span class="ecc-link-state {state}">{esc(state)}</span>',
    ]


def everyone(view: View) -> bool:
    return view.viewer_role == ADMIN


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The viewer's links (an admin's: everyone's)."""
    if not view.viewer:
        return {"shared_links": {"rows": [], "everyone": False, "viewer": None}}
    rows = list_views(conn, view.viewer, everyone=everyone(view))
    return {"shared_links": {"rows": rows, "everyone": everyone(view), "viewer": view.viewer}}


def intro(data: dict[str, Any]) -> str:
    if data["viewer"] is None:
        return (
            '<p class="ecc-muted">Shared links are listed for the person signed in through '
            "the hub.</p>"
        )
    whose = (
        "Every link shared from the command center" if data["everyone"] else "The links you shared"
    )
    return (
        f'<p class="ecc-explain">{esc(whose)}, newest first. A link shows one view, '
        "read-only, to anyone who has it, until it expires or is withdrawn; withdrawn and "
        "expired links answer with a sentence saying so.</p>"
    )


def render(ctx: PageContext) -> str:
    data = ctx.data["shared_links"]
    listing = table(
        HEADERS,
        [cells(r) for r in data["rows"]],
        empty="No links yet: use Share on any page to make one.",
    )
    return intro(data) + f'<section class="ecc-section">{listing}</section>'


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
        tables=("shared_links",),
    )
)
