"""The Subscriptions page's live part: the list, and on each subscription buttons to
pause or resume it and to remove it (its owner, or an admin), and for an admin to approve
one waiting for approval. The scheduler takes each change within a minute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..schedule.subscriptions import approve, remove, set_state
from .components import esc
from .owned_lists import STATE_WORDS, OwnedListPanel, everyone, subscriptions_html, when_words
from .pages import LiveEnv
from .viewer import resolve_viewer

TAKEN = "The scheduler takes it within a minute."


class SubscriptionsPanel(OwnedListPanel):
    """``Page.live`` of the Subscriptions page."""

    def __init__(self, env: LiveEnv) -> None:
        super().__init__(env, "subscriptions", subscriptions_html)

    def row(self, item: dict[str, Any]) -> widgets.HBox | None:
        if self.ctx is None:
            return None
        sub_id, state = int(item["sub_id"]), item["state"]
        who, admin = resolve_viewer(self.ctx.view.viewer), everyone(self.ctx.view)
        engine, what = self.env.engine, f"subscription {sub_id}"

        def doing(text: str, change: Callable[[], None]) -> widgets.Button:
            def run() -> str:
                change()
                return f"{text} {what}: done. {TAKEN}"

            return self.button(text, f"{text} {what}", run)

        buttons = []
        if state == "active":
            buttons.append(
                doing("Pause", lambda: set_state(engine, sub_id, "paused", who=who, admin=admin))
            )
        elif state == "paused":
            buttons.append(
                doing("Resume", lambda: set_state(engine, sub_id, "active", who=who, admin=admin))
            )
        elif state == "pending" and admin:
            buttons.append(doing("Approve", lambda: approve(engine, sub_id, admin=who)))
        buttons.append(doing("Remove", lambda: remove(engine, sub_id, who=who, admin=admin)))
        label = widgets.HTML(
            f"<span><strong>{sub_id}.</strong> {esc(item['page'].capitalize())} · "
            f"{esc(when_words(item['cron'], item['timezone']))} · {esc(item['owner'])} · "
            f"{esc(STATE_WORDS.get(state, state))}</span>"
        )
        box = widgets.HBox(
            [*buttons, label], layout=widgets.Layout(align_items="center", flex_flow="row wrap")
        )
        box.add_class(f"ecc-sub-{sub_id}")
        return box
