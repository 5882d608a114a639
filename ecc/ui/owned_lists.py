"""The lists a person owns — their shared links, their subscriptions — as the pages and
their live parts show them, and the live parts' common frame (a result line, the rows'
buttons, the list).

Neither page module is imported here: the pages and their live parts both import this.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ipywidgets as widgets

from ..periods import COMPARE_LABELS, PRESET_LABELS
from ..schedule.subscriptions import CADENCES
from ..share.views import KINDS, status
from .components import esc, outcome, table
from .pages import LiveEnv, PageContext
from .view import View, parse_query

ADMIN = "admin"
LINK_HEADERS = [
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


def link_cells(row: dict[str, Any]) -> list[str]:
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
    """Whether the viewer sees everyone's (an admin, as the hub names their role)."""
    return view.viewer_role == ADMIN


def owned_data(view: View, load: Callable[[str, bool], list[dict[str, Any]]]) -> dict[str, Any]:
    """A list page's data: ``load(viewer, everyone)``'s rows for the signed-in viewer (an
    admin: everyone's); none without a viewer."""
    if not view.viewer:
        return {"rows": [], "everyone": False, "viewer": None}
    return {
        "rows": load(view.viewer, everyone(view)),
        "everyone": everyone(view),
        "viewer": view.viewer,
    }


def _links_intro(data: dict[str, Any]) -> str:
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


def links_parts(data: dict[str, Any]) -> tuple[str, str]:
    """The Shared links page's list (its ``shared_links`` data): its intro and its table
    (HTML)."""
    listing = table(
        LINK_HEADERS,
        [link_cells(r) for r in data["rows"]],
        empty="No links yet: use Share on any page to make one.",
    )
    return _links_intro(data), f'<section class="ecc-section">{listing}</section>'


def links_html(data: dict[str, Any]) -> str:
    return "".join(links_parts(data))


SUBSCRIPTION_HEADERS = [
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


def subscription_cells(row: dict[str, Any]) -> list[str]:
    return [
        esc(view_words(row["page"].capitalize(), row["params"])),
        esc(row["formats"].replace("xlsx", "Excel").replace("pdf", "PDF").replace(",", ", ")),
        esc(when_words(row["cron"], row["timezone"])),
        esc(sent_to(row)),
        esc(row["owner"]),
        f'<span class="ecc-link-state {esc(row["state"])}">'
        f"{esc(STATE_WORDS.get(row['state'], row['state']))}</span>",
    ]


def subscriptions_html(data: dict[str, Any]) -> str:
    return "".join(subscriptions_parts(data))


def subscriptions_parts(data: dict[str, Any]) -> tuple[str, str]:
    """The Subscriptions page's list (its ``subscriptions`` data): its intro and its table
    (HTML)."""
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
        SUBSCRIPTION_HEADERS,
        [subscription_cells(r) for r in data["rows"]],
        empty="No subscriptions yet: use Subscribe on a dashboard to make one.",
    )
    return intro, f'<section class="ecc-section">{listing_html}</section>'


class OwnedListPanel:
    """The frame of a list page's live part: what the list is (``parts``' intro), a result
    line, a row of buttons per item (``row``), the list itself (``parts``' table); ``act``
    runs a change, says how it went and shows the list again."""

    def __init__(
        self, env: LiveEnv, key: str, parts: Callable[[dict[str, Any]], tuple[str, str]]
    ) -> None:
        self.env, self.key, self.parts = env, key, parts
        self.ctx: PageContext | None = None
        self.controls: list[Any] = []
        self.intro = widgets.HTML()
        self.listing = widgets.HTML()
        self.done = widgets.HTML()
        self.actions = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.actions.add_class("ecc-withdraw-list")
        self.root = widgets.VBox(
            [self.intro, self.done, self.actions, self.listing],
            layout=widgets.Layout(width="100%"),
        )
        self.root.add_class(f"ecc-{key.replace('_', '-')}")

    def row(self, item: dict[str, Any]) -> widgets.HBox | None:
        """The buttons of one item (None: none)."""
        raise NotImplementedError

    def show(self, ctx: PageContext) -> None:
        self.ctx = ctx
        data = ctx.data[self.key]
        self.intro.value, self.listing.value = self.parts(data)
        rows = [b for b in (self.row(r) for r in data["rows"]) if b is not None]
        head = [widgets.HTML('<h2 class="ecc-h3">Manage</h2>')] if rows else []
        self.actions.children = (*head, *rows)

    def button(self, text: str, tip: str, act: Callable[[], str]) -> widgets.Button:
        b = widgets.Button(description=text, tooltip=tip, layout=widgets.Layout(width="auto"))
        b.add_class(f"ecc-act-{text.lower()}")
        b.on_click(lambda _b: self.act(act))
        return b

    def act(self, change: Callable[[], str]) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        failed = "Nothing was changed: an unexpected error (logged)."
        done, self.done.value = outcome(change, failed, f"a change from {self.key}")
        if done:
            self.env.go(ctx.view)  # the list again, as it now stands
