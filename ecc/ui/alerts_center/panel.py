"""The live alerts list: a checkbox and an Acknowledge button per alert, "Acknowledge
selected", and the severity, rule and status filters in the app's filter bar.

Acknowledging records the viewer (``ecc.ui.viewer``) and the time
(``ecc.alerts.store.acknowledge``), then updates the list in place: the acknowledged
alerts stay where they are, marked with who and when, until the view changes; the
severity cards and the summary are recounted; a line confirms what was done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from ...alerts.store import RULES, SEVERITIES, AlertFilter, acknowledge, list_alerts
from ...clock import utcnow
from ...errors import EccError
from ...request import Request
from ..components import esc
from ..pages import LiveEnv, PageContext
from ..view import View
from ..viewer import resolve_viewer
from . import parts
from .data import load, name_subjects
from .mail_box import AlertMailBox

log = logging.getLogger("ecc.ui")
FAILED = "The alerts could not be acknowledged (the error was logged); please try again."
NO_VIEWER = (
    "Nothing was acknowledged: this page does not know who you are. "
    "Open it through the command center's sign-in."
)


def _dropdown(label: str, options: list[tuple[str, str]]) -> widgets.Dropdown:
    return widgets.Dropdown(
        options=options,
        description=label,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="auto"),
    )


@dataclass
class _Row:
    """One alert of the list and its controls."""

    alert: dict[str, Any]
    pick: widgets.Checkbox
    html: widgets.HTML
    button: widgets.Button
    box: widgets.HBox


class AlertsPanel:
    """The alerts page's interactive part (``Page.live``)."""

    def __init__(self, env: LiveEnv) -> None:
        self.env = env
        self.view = View()
        self.req: Request | None = None
        self.viewer = ""
        self._syncing = False
        self.w_severity = _dropdown(
            "Severity", [("All", ""), *((parts.SEVERITY_WORDS[s], s) for s in SEVERITIES)]
        )
        self.w_rule = _dropdown(
            "Rule", [("All rules", ""), *((parts.rule_words(r), r) for r in RULES)]
        )
        self.w_status = _dropdown(
            "Show", [(word, key or "") for key, word in parts.STATUS_WORDS.items()]
        )
        for w in (self.w_severity, self.w_rule, self.w_status):
            w.observe(self._on_filter, "value")
        self.controls: list[Any] = [self.w_severity, self.w_rule, self.w_status]

        self.top = widgets.HTML()
        self.pick_all = widgets.Checkbox(description="Select all", indent=False)
        self.pick_all.observe(self._on_pick_all, "value")
        self.pick_all.add_class("ecc-pick-all")
        self.ack_button = widgets.Button(
            description="Acknowledge selected",
            disabled=True,
            button_style="primary",
            tooltip="Record that you have seen the selected alerts",
            layout=widgets.Layout(width="auto"),
        )
        self.ack_button.add_class("ecc-ack-selected")
        self.ack_button.on_click(lambda _b: self.acknowledge(self.selected()))
        self.who = widgets.HTML(layout=widgets.Layout(width="auto"))
        self.toolbar = widgets.HBox(
            [self.pick_all, self.ack_button, self.who],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.toolbar.add_class("ecc-ack-bar")
        self.confirm = widgets.HTML()
        self.list = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.list.add_class("ecc-alert-list")
        self.bottom = widgets.HTML()
        self.mail = AlertMailBox(env.engine)
        self.root = widgets.VBox(
            [self.top, self.toolbar, self.confirm, self.list, self.bottom, self.mail.root],
            layout=widgets.Layout(width="100%"),
        )
        self.root.add_class("ecc-alerts-live")
        self.rows: dict[int, _Row] = {}

    # ------------------------------------------------------------------ a view
    def show(self, ctx: PageContext) -> None:
        """Show the view of ``ctx`` (its data already loaded by the page)."""
        self.view, self.req = ctx.view, ctx.req
        self.viewer = resolve_viewer(ctx.view.viewer)
        self._syncing = True
        try:
            self.w_severity.value = ctx.view.severity or ""
            self.w_rule.value = ctx.view.rule or ""
            self.w_status.value = ctx.view.status or ""
            self.pick_all.value = False
        finally:
            self._syncing = False
        data = ctx.data["alerts"]
        self._show_counts(data)
        self.confirm.value = ""
        self.who.value = (
            f'<span class="ecc-muted">as <strong>{esc(self.viewer)}</strong></span>'
            if self.viewer
            else '<span class="ecc-muted">not signed in</span>'
        )
        self.rows = {r["alert_id"]: self._row(r) for r in data["rows"]}
        self.list.children = [r.box for r in self.rows.values()]
        self.toolbar.layout.display = "flex" if self._open_rows() else "none"
        self.bottom.value = (
            parts.cap(self.view, data) if data["rows"] else parts.empty(self.view, data)
        )
        self._update_button()
        if self.mail.admin != (ctx.view.viewer_role == "admin") or self.mail.who != self.viewer:
            self.mail.show(self.viewer if ctx.view.viewer else "", ctx.view.viewer_role)

    def _show_counts(self, data: dict[str, Any]) -> None:
        self.top.value = parts.cards(self.view, data) + parts.summary(self.view, data)

    def _row(self, alert: dict[str, Any]) -> _Row:
        pick = widgets.Checkbox(
            description="Select", indent=False, layout=widgets.Layout(width="auto")
        )
        pick.add_class("ecc-pick")
        pick.observe(lambda _c: self._update_button(), "value")
        html = widgets.HTML(parts.row_block(self.view, alert))
        button = widgets.Button(
            description="Acknowledge",
            tooltip="Record that you have seen this alert",
            layout=widgets.Layout(width="auto"),
        )
        button.add_class("ecc-ack-one")
        alert_id = int(alert["alert_id"])
        button.on_click(lambda _b: self.acknowledge([alert_id]))
        box = widgets.HBox([pick, html, button], layout=widgets.Layout(width="100%"))
        box.add_class("ecc-alert-row")
        box.add_class(f"ecc-alert-{alert_id}")
        box.add_class(f"sev-{alert['severity']}")
        row = _Row(alert, pick, html, button, box)
        self._mark(row)
        return row

    def _mark(self, row: _Row) -> None:
        """An acknowledged alert keeps its place, without controls."""
        done = row.alert.get("acknowledged_at") is not None
        row.pick.disabled = done
        if done:
            row.pick.value = False
            row.pick.layout.visibility = "hidden"
            row.button.layout.visibility = "hidden"  # keeps the days in line; phones drop it
            row.box.add_class("acked")

    def _open_rows(self) -> list[_Row]:
        return [r for r in self.rows.values() if r.alert.get("acknowledged_at") is None]

    # ------------------------------------------------------------------ selection
    def selected(self) -> list[int]:
        return [i for i, r in self.rows.items() if r.pick.value and not r.pick.disabled]

    def _on_pick_all(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        for r in self._open_rows():
            r.pick.value = bool(change["new"])

    def _update_button(self) -> None:
        n = len(self.selected())
        self.ack_button.disabled = n == 0
        self.ack_button.description = f"Acknowledge selected ({n})" if n else "Acknowledge selected"

    def _on_filter(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        self.env.go(
            self.view.with_(
                severity=self.w_severity.value or None,
                rule=self.w_rule.value or None,
                status=self.w_status.value or None,
                list=None,
            )
        )

    # ------------------------------------------------------------------ acknowledging
    def acknowledge(self, ids: list[int]) -> int:
        """Acknowledge ``ids`` as the viewer; update the rows and counts in place.
        Returns how many were newly acknowledged."""
        if not ids:
            return 0
        if not self.viewer:
            self.confirm.value = f'<div class="ecc-error" role="alert">{esc(NO_VIEWER)}</div>'
            return 0
        try:
            newly = acknowledge(self.env.engine, ids, self.viewer)
            with self.env.engine.connect() as conn:
                fresh = name_subjects(conn, list_alerts(conn, AlertFilter(ids=ids)))
                data = load(conn, self.req, self.view)["alerts"] if self.req else None
        except EccError as exc:
            self.confirm.value = f'<div class="ecc-error" role="alert">{esc(exc)}</div>'
            return 0
        except Exception:  # a viewer sees a sentence, the log has the details
            log.exception("acknowledging alerts %s failed", ids)
            self.confirm.value = f'<div class="ecc-error" role="alert">{esc(FAILED)}</div>'
            return 0
        for alert in fresh:
            row = self.rows.get(alert["alert_id"])
            if row is not None:
                row.alert = alert
                row.html.value = parts.row_block(self.view, alert)
                self._mark(row)
        if data is not None:
            self._show_counts(data)
        self._syncing = True
        self.pick_all.value = False
        self._syncing = False
        self.toolbar.layout.display = "flex" if self._open_rows() else "none"
        self._update_button()
        self.confirm.value = self._confirmation(ids, newly, fresh)
        return newly

    def _confirmation(self, ids: list[int], newly: int, fresh: list[dict[str, Any]]) -> str:
        """``Acknowledged 2 alerts as vp.alice at 14:05 UTC.`` (and any already done)."""
        text = ""
        if newly:
            noun = "alert" if newly == 1 else "alerts"
            text = f"Acknowledged {newly} {noun} as {self.viewer} at {utcnow():%H:%M} UTC."
        already = len(set(ids)) - newly
        if already:
            others = sorted({str(a["acknowledged_by"]) for a in fresh} - {self.viewer, "None"})
            text += (
                f" {already} {'was' if already == 1 else 'were'} already acknowledged"
                + (f" (by {', '.join(others)})" if others else "")
                + "."
            )
        if self.view.status is None and newly:
            text += " They stay listed here until you change a filter or reload."
        return f'<div class="ecc-done" role="status">{esc(text.strip())}</div>'
