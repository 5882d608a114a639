"""The Subscriptions page's interactive part: the list, and on each subscription buttons
to pause or resume it and to remove it (its owner, or an admin), and for an admin to
approve one waiting for approval. The scheduler takes each change within a minute."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..errors import EccError
from ..schedule.subscriptions import approve, remove, set_state
from .components import esc
from .pages import LiveEnv, PageContext
from .pages.subscriptions import STATE_WORDS, everyone, render, when_words
from .viewer import resolve_viewer

log = logging.getLogger(__name__)


class SubscriptionsPanel:
    """``Page.live`` of the Subscriptions page."""

    def __init__(self, env: LiveEnv) -> None:
        self.env = env
        self.ctx: PageContext | None = None
        self.controls: list[Any] = []
        self.listing = widgets.HTML()
        self.done = widgets.HTML()
        self.actions = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.actions.add_class("ecc-withdraw-list")
        self.root = widgets.VBox(
            [self.done, self.actions, self.listing], layout=widgets.Layout(width="100%")
        )
        self.root.add_class("ecc-subscriptions")

    def show(self, ctx: PageContext) -> None:
        self.ctx = ctx
        self.listing.value = render(ctx)
        rows = ctx.data["subscriptions"]["rows"]
        if not rows:
            self.actions.children = ()
            return
        head = widgets.HTML('<h2 class="ecc-h3">Manage</h2>')
        self.actions.children = (head, *(self._row(r) for r in rows))

    def _button(self, text: str, tip: str, act: Callable[[], None]) -> widgets.Button:
        button = widgets.Button(description=text, tooltip=tip, layout=widgets.Layout(width="auto"))
        button.add_class(f"ecc-sub-{text.lower()}")
        button.on_click(lambda _b: self._do(act, text))
        return button

    def _row(self, row: dict[str, Any]) -> widgets.HBox:
        sub_id, state = int(row["sub_id"]), row["state"]
        ctx = self.ctx
        assert ctx is not None
        who, admin = resolve_viewer(ctx.view.viewer), everyone(ctx.view)
        engine = self.env.engine
        what = f"subscription {sub_id}"
        buttons = []
        if state == "active":
            buttons.append(
                self._button(
                    "Pause",
                    f"Pause {what}",
                    lambda: set_state(engine, sub_id, "paused", who=who, admin=admin),
                )
            )
        elif state == "paused":
            buttons.append(
                self._button(
                    "Resume",
                    f"Resume {what}",
                    lambda: set_state(engine, sub_id, "active", who=who, admin=admin),
                )
            )
        elif state == "pending" and admin:
            buttons.append(
                self._button(
                    "Approve", f"Approve {what}", lambda: approve(engine, sub_id, admin=who)
                )
            )
        buttons.append(
            self._button(
                "Remove", f"Remove {what}", lambda: remove(engine, sub_id, who=who, admin=admin)
            )
        )
        label = widgets.HTML(
            f"<span><strong>{sub_id}.</strong> {esc(row['page'].capitalize())} · "
            f"{esc(when_words(row['cron'], row['timezone']))} · {esc(row['owner'])} · "
            f"{esc(STATE_WORDS.get(state, state))}</span>"
        )
        box = widgets.HBox(
            [*buttons, label], layout=widgets.Layout(align_items="center", flex_flow="row wrap")
        )
        box.add_class(f"ecc-sub-{sub_id}")
        return box

    def _do(self, act: Callable[[], None], what: str) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        try:
            act()
        except EccError as exc:
            self.done.value = f'<p class="ecc-error" role="alert">{esc(exc)}</p>'
            return
        except Exception:  # a viewer sees a sentence; the log has the details
            log.exception("changing a subscription failed")
            self.done.value = (
                '<p class="ecc-error" role="alert">The subscription could not be changed (the '
                "error is logged).</p>"
            )
            return
        self.done.value = (
            f'<p class="ecc-done" role="status">{esc(what)}: done. The scheduler takes it '
            "within a minute.</p>"
        )
        self.env.go(ctx.view)
