"""The Shared links page's live part: the list, and a Withdraw button on each active link
(its maker's, or any for an admin). A withdrawn link answers 403 with a sentence at once."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..share.views import revoke_view, status
from .components import esc
from .owned_lists import OwnedListPanel, everyone, links_parts, view_words
from .pages import LiveEnv
from .viewer import resolve_viewer


class SharedLinksPanel(OwnedListPanel):
    """``Page.live`` of the Shared links page."""

    def __init__(self, env: LiveEnv) -> None:
        super().__init__(env, "shared_links", links_parts)

    def row(self, item: dict[str, Any]) -> widgets.HBox | None:
        if status(item) != "active" or self.ctx is None:
            return None
        words = view_words(item["title"], item["params"])
        who, admin = resolve_viewer(self.ctx.view.viewer), everyone(self.ctx.view)
        link_id = item["link_id"]

        def withdraw() -> str:
            revoke_view(self.env.engine, link_id, who, admin=admin)
            return f"Withdrawn by {who}: the link now answers that it was withdrawn."

        note = f" · “{esc(item['note'])}”" if item["note"] else ""
        label = widgets.HTML(
            f"<span><strong>{esc(words)}</strong>{note} · shared by {esc(item['created_by'])} "
            f"on {item['created_at']:%b %-d, %H:%M} UTC, until {item['expires_at']:%b %-d, %Y} "
            f"· opened {item['views']:,} times</span>"
        )
        box = widgets.HBox(
            [self.button("Withdraw", f"Withdraw the link to {words}", withdraw), label],
            layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
        )
        box.add_class(f"ecc-link-{link_id}")
        return box
