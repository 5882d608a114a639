"""The Subscribe button of a dashboard: "email me (and these people) this view".

The form: PDF and/or Excel; every Monday 07:00, the 1st of the month 07:00 or a crontab
line, in the subscriber's time zone; the recipients (one's own address first); and,
optionally, one pack per segment (each segment's recipients get it filtered to their
segment) or per CSM (each active CSM gets their own book). "Subscribe" keeps it
(``ecc.schedule.subscriptions``); the scheduler takes it within seconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import available_timezones

import ipywidgets as widgets

from ..config import SEGMENTS
from ..errors import EccError
from .components import esc
from .viewer import behind_hub

log = logging.getLogger(__name__)

#: The page listing one's subscriptions (beside the page subscribed to).
SUBSCRIPTIONS_PAGE = "subscriptions.ipynb"
WHEN = [
    ("Every Monday at 07:00", "weekly"),
    ("The 1st of the month at 07:00", "monthly"),
    ("Custom (a crontab line)", "custom"),
]
PACKS = [
    ("Everyone gets this view", ""),
    ("One pack per segment (its own recipients)", "segment"),
    ("One pack per CSM (their own book, to them)", "csm"),
]


def subscribe_refusal(page_name: str) -> str:
    """Why this page cannot be subscribed to here, or "" when it can."""
    from ..reports.params import REPORTABLE

    if page_name not in REPORTABLE:
        return "Subscriptions are for the dashboards (their reports); open one to subscribe"
    if not behind_hub():
        return "Subscribing works when the command center runs behind its hub (make demo)"
    return ""


def _zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


class SubscribeBar:
    """``make(fields)`` keeps the subscription and returns a sentence saying what happens.

    The same form edits a kept subscription (the Subscriptions page): ``action`` names its
    button, :meth:`fill` puts the subscription's fields in, and ``editing`` leaves out the
    Subscribe toggle and the link to the Subscriptions page."""

    def __init__(
        self,
        make: Callable[[dict[str, object]], str],
        *,
        why_not: str = "",
        action: str = "Subscribe to this view",
        editing: bool = False,
    ) -> None:
        self.make = make
        style = {"description_width": "initial"}
        self.button = widgets.Button(
            description="Subscribe",
            tooltip=why_not or "Email this view on a schedule",
            disabled=bool(why_not),
            layout=widgets.Layout(width="auto"),
        )
        self.button.add_class("ecc-subscribe-button")
        self.button.on_click(lambda _b: self.toggle())
        self.pdf = widgets.Checkbox(value=True, description="PDF", indent=False)
        self.xlsx = widgets.Checkbox(value=False, description="Excel", indent=False)
        self.when = widgets.RadioButtons(options=WHEN, value="weekly", description="When")
        self.cron = widgets.Text(
            placeholder="0 7 * * 1-5 (weekdays at 07:00)",
            description="Crontab line",
            style=style,
            layout=widgets.Layout(display="none", width="auto"),
        )
        self.when.observe(self._on_when, "value")
        self.zone = widgets.Combobox(
            options=_zones(),
            value="UTC",
            ensure_option=False,
            description="Your time zone",
            style=style,
            layout=widgets.Layout(width="auto"),
        )
        self.recipients = widgets.Textarea(
            placeholder="you@example.com, colleague@example.com",
            description="Send to",
            layout=widgets.Layout(width="100%", max_width="36em"),
        )
        self.pack = widgets.Dropdown(options=PACKS, value="", description="Packs", style=style)
        self.pack.observe(self._on_pack, "value")
        self.leads = {
            s: widgets.Text(
                placeholder="lead@example.com",
                description=f"{s} recipients",
                style=style,
                layout=widgets.Layout(width="auto"),
            )
            for s in SEGMENTS
        }
        self.lead_box = widgets.VBox(
            list(self.leads.values()), layout=widgets.Layout(display="none")
        )
        self.create = widgets.Button(description=action)
        self.create.add_class("ecc-subscribe-create")
        self.create.on_click(lambda _b: self.subscribe())
        self.result = widgets.HTML()
        mine = widgets.HTML(
            f'<a class="ecc-muted" href="{SUBSCRIPTIONS_PAGE}" target="_self">Your '
            "subscriptions →</a>"
        )
        self.form = widgets.VBox(
            [
                widgets.HBox([self.pdf, self.xlsx], layout=widgets.Layout(flex_flow="row wrap")),
                self.when,
                self.cron,
                self.zone,
                self.recipients,
                self.pack,
                self.lead_box,
                self.create,
                self.result,
                *([] if editing else [mine]),
            ],
            layout=widgets.Layout(display="none", width="100%"),
        )
        self.form.add_class("ecc-share-form")
        self.box = widgets.VBox(
            [*([] if editing else [self.button]), self.form], layout=widgets.Layout(width="auto")
        )
        self.box.add_class("ecc-share")

    def toggle(self) -> None:
        shown = self.form.layout.display != "none"
        self.form.layout.display = "none" if shown else None
        self.button.description = "Subscribe" if shown else "Close subscribing"

    def fill(self, row: dict[str, Any]) -> None:
        """Put a kept subscription's fields (its database row) in the form."""
        from ..schedule.subscriptions import CADENCES

        formats = set(str(row["formats"]).split(","))
        self.pdf.value, self.xlsx.value = "pdf" in formats, "xlsx" in formats
        cadence = {cron: name for name, (cron, _words) in CADENCES.items()}.get(row["cron"])
        self.when.value = cadence or "custom"
        self.cron.value = "" if cadence else str(row["cron"])
        self.zone.value = str(row["timezone"])
        self.recipients.value = ", ".join(a for a in str(row["recipients"] or "").split(",") if a)
        self.pack.value = row["fan_out"] or ""
        by = json.loads(row["by_segment"] or "{}")
        for segment, box in self.leads.items():
            box.value = ", ".join(by.get(segment, []))
        self.result.value = ""

    def _on_when(self, change: dict[str, object]) -> None:
        self.cron.layout.display = None if change["new"] == "custom" else "none"

    def _on_pack(self, change: dict[str, object]) -> None:
        self.lead_box.layout.display = None if change["new"] == "segment" else "none"

    def fields(self) -> dict[str, object]:
        """What the form asks for, as :func:`ecc.schedule.subscriptions.check` takes it."""
        formats = [f for f, on in (("pdf", self.pdf.value), ("xlsx", self.xlsx.value)) if on]
        pack = str(self.pack.value) or None
        return {
            "formats": formats,
            "cadence": str(self.when.value),
            "cron": str(self.cron.value),
            "timezone": str(self.zone.value).strip(),
            "recipients": str(self.recipients.value),
            "fan_out": pack,
            "by_segment": {s: str(w.value) for s, w in self.leads.items() if w.value.strip()}
            if pack == "segment"
            else None,
        }

    def subscribe(self) -> str | None:
        self.create.disabled = True
        try:
            said = self.make(self.fields())
        except EccError as exc:
            self.result.value = f'<p class="ecc-error" role="alert">{esc(exc)}</p>'
            return None
        except Exception:  # a viewer sees a sentence; the log has the details
            log.exception("subscribing failed")
            self.result.value = (
                '<p class="ecc-error" role="alert">The subscription could not be kept (the '
                "error is logged).</p>"
            )
            return None
        finally:
            self.create.disabled = False
        self.result.value = f'<p class="ecc-done" role="status">{esc(said)}</p>'
        return said
