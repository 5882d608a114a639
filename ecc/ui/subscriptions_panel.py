"""The Subscriptions page's live part: the list, and on each subscription buttons to
edit it (the Subscribe form, filled in, opens under it), pause or resume it and remove it
(its owner, or an admin), and for an admin to approve one waiting for approval. The
scheduler takes each change within a minute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..schedule.subscriptions import approve, change, check, remove, set_state
from .components import esc
from .owned_lists import STATE_WORDS, OwnedListPanel, everyone, subscriptions_parts, when_words
from .pages import LiveEnv, PageContext
from .subscribe_bar import SubscribeBar
from .viewer import resolve_viewer

TAKEN = "The scheduler takes it within a minute."


class SubscriptionsPanel(OwnedListPanel):
    """``Page.live`` of the Subscriptions page."""

    def __init__(self, env: LiveEnv) -> None:
        super().__init__(env, "subscriptions", subscriptions_parts)
        self.editor = SubscribeBar(self._save, action="Save changes", editing=True)
        self.editing: dict[str, Any] | None = None
        self.rows: dict[int, widgets.HBox] = {}

    def show(self, ctx: PageContext) -> None:
        self.editing = None
        self.editor.form.layout.display = "none"
        self.rows = {}
        super().show(ctx)

    def edit(self, item: dict[str, Any]) -> None:
        """Open the form under the subscription, filled in (again: close it)."""
        again = self.editing is not None and self.editing["sub_id"] == item["sub_id"]
        children = [c for c in self.actions.children if c is not self.editor.box]
        if again:
            self.editing, self.editor.form.layout.display = None, "none"
            self.actions.children = tuple(children)
            return
        self.editing = item
        self.editor.fill(item)
        self.editor.form.layout.display = None
        at = children.index(self.rows[int(item["sub_id"])]) + 1
        self.actions.children = (*children[:at], self.editor.box, *children[at:])

    def _save(self, fields: dict[str, Any]) -> str:
        item, ctx = self.editing, self.ctx
        if item is None or ctx is None:
            return "Nothing to save: choose Edit on a subscription."
        sub_id = int(item["sub_id"])
        plan = check(page=item["page"], query=item["params"], **fields)
        who, admin = resolve_viewer(ctx.view.viewer), everyone(ctx.view)
        state = change(self.env.engine, sub_id, plan, who=who, admin=admin)
        said = f"Subscription {sub_id} saved ({STATE_WORDS.get(state, state)}). {TAKEN}"
        self.done.value = f'<p class="ecc-done" role="status">{esc(said)}</p>'
        self.env.go(ctx.view)  # the list again, as it now stands
        return said

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

        edit = widgets.Button(
            description="Edit", tooltip=f"Edit {what}", layout=widgets.Layout(width="auto")
        )
        edit.add_class("ecc-act-edit")
        edit.on_click(lambda _b: self.edit(item))
        buttons = [edit]
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
        self.rows[sub_id] = box
        return box
