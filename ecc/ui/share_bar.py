"""The Share button of a page: a read-only link to exactly this view, for anyone.

"Share" opens a small form — as of now (a copy that never changes) or live (the same
view recomputed when opened), how many days the link lasts, an optional note — and
"Create link" shows the address to copy. Sharing names the signed-in person (the hub's
identity); without one the button says why it is off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import ipywidgets as widgets

from .. import variables
from ..errors import EccError
from ..share.views import (
    DEFAULT_DAYS,
    KINDS,
    NOTE_LIMIT,
    PATH,
    PRIVATE_PAGES,
    SharedView,
    max_days,
)
from .components import esc
from .viewer import behind_hub

log = logging.getLogger(__name__)

#: The page listing one's shared links (beside the page being shared).
SHARED_LINKS_PAGE = "shared_links.ipynb"
#: The links service's path under the hub (``ecc.hub.settings.LINKS``).
LINKS_PATH = "/services/links"


def link_url(token: str) -> str:
    """The address of a shared view: the hub's public address, the links service, token."""
    return f"{variables.value('ECC_HUB_URL').rstrip('/')}{LINKS_PATH}/{PATH}/{token}"


def share_refusal(page_name: str) -> str:
    """Why this page cannot be shared here (one's own links; outside the hub, whose links
    service serves the links), or "" when it can."""
    if page_name in PRIVATE_PAGES:
        return "This page lists your own links: it is not shared"
    if not behind_hub():
        return "Sharing works when the command center runs behind its hub (make demo)"
    return ""


class ShareBar:
    """The Share button and its form; ``make(kind, days, note)`` creates the link."""

    def __init__(self, make: Callable[[str, int, str], SharedView], *, why_not: str = "") -> None:
        self.make = make
        self.button = widgets.Button(
            description="Share",
            tooltip=why_not or "A read-only link to this view, for anyone",
            disabled=bool(why_not),
            layout=widgets.Layout(width="auto"),
        )
        self.button.add_class("ecc-share-button")
        self.button.on_click(lambda _b: self.toggle())
        self.kind = widgets.RadioButtons(
            options=[
                ("As of now: a copy that never changes", "frozen"),
                ("Live: this view recomputed when opened", "live"),
            ],
            value="frozen",
            description="Link",
            layout=widgets.Layout(width="auto"),
        )
        longest = max_days()
        self.days = widgets.BoundedIntText(
            value=min(DEFAULT_DAYS, longest),
            min=1,
            max=longest,
            description=f"Expires in (days, at most {longest})",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="auto"),
        )
        self.note = widgets.Textarea(
            placeholder=f"Optional note for the people you send it to (up to {NOTE_LIMIT} "
            "characters)",
            description="Note",
            layout=widgets.Layout(width="100%", max_width="36em"),
        )
        self.create = widgets.Button(description="Create link", layout=widgets.Layout(width="auto"))
        self.create.add_class("ecc-share-create")
        self.create.on_click(lambda _b: self.share())
        self.result = widgets.HTML()
        mine = widgets.HTML(
            f'<a class="ecc-muted" href="{SHARED_LINKS_PAGE}" target="_self">Your shared '
            "links →</a>"
        )
        self.form = widgets.VBox(
            [self.kind, self.days, self.note, self.create, self.result, mine],
            layout=widgets.Layout(display="none", width="100%"),
        )
        self.form.add_class("ecc-share-form")
        self.box = widgets.VBox([self.button, self.form], layout=widgets.Layout(width="auto"))
        self.box.add_class("ecc-share")

    def toggle(self) -> None:
        shown = self.form.layout.display != "none"
        self.form.layout.display = "none" if shown else None
        self.button.description = "Share" if shown else "Close sharing"

    def reset(self) -> None:
        """The view changed: a link made for the previous one is not this view's."""
        self.result.value = ""

    def share(self) -> SharedView | None:
        self.create.disabled = True
        try:
            made = self.make(str(self.kind.value), int(self.days.value), str(self.note.value))
        except EccError as exc:
            self.result.value = f'<p class="ecc-error" role="alert">{esc(exc)}</p>'
            return None
        except Exception:  # a viewer sees a sentence; the log has the details
            log.exception("sharing failed")
            self.result.value = (
                '<p class="ecc-error" role="alert">The link could not be made (the error is '
                "logged).</p>"
            )
            return None
        finally:
            self.create.disabled = False
        url = link_url(made.token)
        self.result.value = (
            '<div class="ecc-share-made" role="status">'
            f"<p>Link ({esc(KINDS[made.kind])}, read-only, until "
            f"{made.expires_at:%b %-d, %Y}): copy it and send it.</p>"
            f'<p><a class="ecc-share-link" href="{esc(url)}" target="_blank" '
            f'rel="noopener noreferrer">{esc(url)}</a></p>'
            '<p class="ecc-muted">Anyone with it sees this one view, without signing in. '
            "Withdraw it on the Shared links page.</p></div>"
        )
        return made
