"""The alerts center's "Alert mail" box: each VP or admin chooses their own alert mail
(immediate, daily, weekly or off) at their address; an admin also sees every subscriber
and changes or removes any (``ecc.alerts.preferences``)."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from sqlalchemy import Engine

from ...alerts.preferences import CHOICES, WORDS, everyone, mine, set_for, set_mine
from ..components import esc, outcome

ADMIN = "admin"
OPTIONS = [(WORDS[c], c) for c in CHOICES]


class AlertMailBox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.who, self.admin = "", False
        style = {"description_width": "initial"}
        self.email = widgets.Text(
            placeholder="you@example.com",
            description="Your address",
            style=style,
            layout=widgets.Layout(width="auto"),
        )
        self.choice = widgets.Dropdown(
            options=OPTIONS, value="daily", description="Alert mail", style=style
        )
        self.save = widgets.Button(
            description="Save alert mail", layout=widgets.Layout(width="auto")
        )
        self.save.add_class("ecc-alert-mail-save")
        self.save.on_click(lambda _b: self.set_own())
        self.said = widgets.HTML()
        self.others = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.root = widgets.VBox(
            [
                widgets.HTML('<h2 class="ecc-h3">Alert mail</h2>'),
                widgets.HBox(
                    [self.email, self.choice, self.save],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.said,
                self.others,
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.root.add_class("ecc-alert-mail")

    def show(self, who: str, role: str | None) -> None:
        self.who, self.admin = who, role == ADMIN
        self.root.layout.display = None if who else "none"
        if not who:
            return
        with self.engine.connect() as conn:
            own = mine(conn, who)
            rows = everyone(conn) if self.admin else []
        if own is not None:
            self.email.value, self.choice.value = own.email, own.cadence
        else:
            self.choice.value = "off"
        self.others.children = tuple(self._row(r) for r in rows)

    def _row(self, row: dict[str, Any]) -> widgets.HBox:
        pick = widgets.Dropdown(
            options=OPTIONS, value=row["cadence"], layout=widgets.Layout(width="auto")
        )
        apply = widgets.Button(
            description="Apply",
            tooltip=f"Set the alert mail of {row['email']}",
            layout=widgets.Layout(width="auto"),
        )
        apply.on_click(lambda _b: self.set_other(row["email"], str(pick.value)))
        label = widgets.HTML(
            f'<span>{esc(row["email"])} <span class="ecc-muted">'
            f"({esc(row['name'] or 'no hub user')})</span></span>"
        )
        box = widgets.HBox(
            [label, pick, apply], layout=widgets.Layout(align_items="center", flex_flow="row wrap")
        )
        box.add_class("ecc-alert-subscriber")
        return box

    def _run(self, act: Any) -> None:
        done, self.said.value = outcome(act, "Not saved (the error is logged).", "alert mail")
        if done:
            self.show(self.who, ADMIN if self.admin else None)

    def set_own(self) -> None:
        self._run(
            lambda: set_mine(self.engine, self.who, str(self.email.value), str(self.choice.value))
        )

    def set_other(self, email: str, choice: str) -> None:
        def act() -> str:
            set_for(self.engine, self.who, email, choice)
            return f"Alert mail of {email}: {WORDS[choice].lower()}."

        self._run(act)
