"""The Shared links page's interactive part: the list, and a Withdraw button on each
active link (its maker's, or any for an admin). A withdrawn link answers 403 with a
sentence at once; the list shows it withdrawn."""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as widgets

from ..errors import EccError
from ..share.views import revoke_view, status
from .components import esc
from .pages import LiveEnv, PageContext
from .pages.shared_links import everyone, render, view_words
from .viewer import resolve_viewer

log = logging.getLogger(__name__)


class SharedLinksPanel:
    """``Page.live`` of the Shared links page."""

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
        self.root.add_class("ecc-shared-links")

    def show(self, ctx: PageContext) -> None:
        self.ctx = ctx
        self.listing.value = render(ctx)
        rows = [r for r in ctx.data["shared_links"]["rows"] if status(r) == "active"]
        if not rows:
            self.actions.children = ()
            return
        head = widgets.HTML('<h2 class="ecc-h3">Active links</h2>')
        self.actions.children = (head, *(self._row(r) for r in rows))

    def _row(self, row: dict[str, Any]) -> widgets.HBox:
        words = view_words(row["title"], row["params"])
        label = widgets.HTML(
            f"<span><strong>{esc(words)}</strong> · shared by {esc(row['created_by'])}, "
            f"until {row['expires_at']:%b %-d, %Y} · opened {row['views']:,} times</span>"
        )
        button = widgets.Button(
            description="Withdraw",
            tooltip=f"Withdraw the link to {words}",
            layout=widgets.Layout(width="auto"),
        )
        button.add_class("ecc-withdraw")
        button.on_click(lambda _b, link_id=row["link_id"]: self.withdraw(link_id))
        box = widgets.HBox(
            [button, label], layout=widgets.Layout(align_items="center", flex_flow="row wrap")
        )
        box.add_class(f"ecc-link-{row['link_id']}")
        return box

    def withdraw(self, link_id: str) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        who = resolve_viewer(ctx.view.viewer)
        try:
            revoke_view(self.env.engine, link_id, who, admin=everyone(ctx.view))
        except EccError as exc:
            self.done.value = f'<p class="ecc-error" role="alert">{esc(exc)}</p>'
            return
        except Exception:  # a viewer sees a sentence; the log has the details
            log.exception("withdrawing a link failed")
            self.done.value = (
                '<p class="ecc-error" role="alert">The link could not be withdrawn (the '
                "error is logged).</p>"
            )
            return
        self.done.value = (
            f'<p class="ecc-done" role="status">Withdrawn by {esc(who)}: the link now '
            "answers that it was withdrawn.</p>"
        )
        self.env.go(ctx.view)  # the list again, as it now stands
