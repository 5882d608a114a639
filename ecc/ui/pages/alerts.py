"""The alerts center (US-008): alerts fired in the period, newest first, filtered by
severity, rule, segment and CSM, each linking to its subject; acknowledge one or many.

In the live dashboard the list is interactive (``ecc.ui.alert_panel``: a checkbox and an
Acknowledge button per alert, "Acknowledge selected"); reports and exports show the
same alerts as a table (``render``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ...metrics.plan import Plan
from ...request import Request
from ..alerts_center import parts
from ..alerts_center.data import check, load
from ..view import View
from . import Live, LiveEnv, Page, PageContext, register


def render(ctx: PageContext) -> str:
    """The page as static HTML: severity cards, the summary line, the alerts table."""
    v, data = ctx.view, ctx.data["alerts"]
    listing = parts.rows_table(v, data["rows"]) if data["rows"] else parts.empty(v, data)
    return (
        parts.cards(v, data)
        + parts.summary(v, data)
        + f'<section class="ecc-section ecc-alerts">{listing}{parts.cap(v, data)}</section>'
    )


def range_text(ctx: PageContext) -> str:
    p = ctx.req.period
    return f"Alerts fired in the selected period: {p.start:%b %-d, %Y} – {p.end:%b %-d, %Y}"


def live(env: LiveEnv) -> Live:
    from ..alerts_center.panel import AlertsPanel

    return AlertsPanel(env)


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The alerts of the view (recorded rows: no customer state to read by ``plan``)."""
    return load(conn, req, view)


def own_filters(ctx: PageContext) -> list[str]:
    """The alerts' own filters in words: severity, rule and acknowledgement."""
    view = ctx.view
    words = [f"severity {view.severity}"] if view.severity else []
    if view.rule:
        words.append(f"rule {view.rule}")
    words.append(
        {"all": "open and acknowledged alerts", "acknowledged": "acknowledged alerts"}.get(
            view.status or "", "open alerts only"
        )
    )
    return words


PAGE = register(
    Page(
        name="alerts",
        title="Alerts",
        areas=(),
        render=render,
        extra=extra,
        check=check,
        live=live,
        range_text=range_text,
        compares=False,
        tables=("alerts",),
        own_filters=own_filters,
    )
)
