"""The executive summary (US-001 with the rest at a glance), the landing page.

One tile per question a VP asks first: ARR and customers; GRR and NRR against their
targets; ARR at risk; the renewal forecast against its target; expansion ARR and win
rate against theirs; open critical and high alerts; CSMs over capacity. Each tile has
its value (``data-metric``, equal to ``ecc metrics``), the change against the comparison,
a state against its target or comparison that reads in words as well as colour
(:mod:`.tile_states`), a line of the last twelve months, and links to its dashboard
with the filters kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...formatting import get
from ...metrics.plan import Plan
from ...metrics.summary import months
from ...request import Request
from .. import spoken
from ..alerts_center.data import open_counts, urgent_by_month
from ..change import FORMATTERS, change
from ..components import data_value, esc, href
from ..sparkline import sparkline
from ..spoken import for_readers
from ..view import View
from . import Page, PageContext, register
from .common import compare_label, then
from .tile_states import State, against_comparison, against_target, alerts_state, capacity_state

#: The areas the tiles read.
AREAS = ("portfolio", "retention", "risk", "renewals", "expansion", "workload", "summary_trend")


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The open critical and high alerts of the view, and how many fired each month."""
    spans = months(req.period.end)
    return {
        "summary_alerts": {
            "open": open_counts(conn, req),
            "by_month": urgent_by_month(conn, req, spans),
        }
    }


def _series(ctx: PageContext, name: str) -> list[float | None]:
    points = get(ctx.data, "summary_trend", name) or []
    return [p["value"] for p in points]


def _delta(ctx: PageContext, key: str, unit: str) -> tuple[str, str]:
    """The change against the comparison, with an arrow, or why there is none; and the
    same in words for a screen reader."""
    label = compare_label(ctx)
    if label is None:
        return "", ""
    now, before = get(ctx.data, *key.split(".")), then(ctx, *key.split("."))
    # the tile's state says good or bad news; the change itself stays neutral
    moved = change(now, before, unit, "neutral")
    said = spoken.moved(moved, label)
    if moved is None:
        return f'<div class="delta flat" aria-hidden="true">{esc(label)}</div>', said
    return (
        f'<div class="delta" aria-hidden="true">{moved.arrow} {esc(moved.text)} '
        f'<span class="ecc-muted">{esc(label)}</span></div>'
    ), said


def _tile(
    ctx: PageContext,
    *,
    title: str,
    key: str,
    value: Any,
    unit: str,
    state: State,
    to: str,
    spark: list[float | None],
    spark_label: str,
    lines: list[str],
) -> str:
    """One tile: title, state, value, change, detail lines, trend line; links to ``to``."""
    shown = FORMATTERS[unit](value)
    # the page's own counts (summary.*) are not areas of the comparison period
    moved, said = ("", "") if key.startswith("summary.") else _delta(ctx, key, unit)
    words = spoken.sentence(title, state.words, spoken.amount(shown), said) + "."
    detail = "".join(f"<div>{line}</div>" for line in lines)
    # the link's name is its text: one sentence (title, state, value, change), then the
    # detail lines as shown
    return (
        f'<a class="ecc-tile {state.tone}" href="{esc(to)}" target="_self" '
        f'data-metric="{esc(key)}" data-value="{esc(data_value(value))}">'
        f"{for_readers(words)}"
        f'<div class="ecc-tile-head" aria-hidden="true"><span class="label">{esc(title)}</span>'
        f'<span class="ecc-state {state.tone}">{esc(state.mark)} {esc(state.words)}</span></div>'
        f'<div class="value" aria-hidden="true">{esc(shown)}</div>{moved}'
        f'<div class="ecc-tile-lines">{detail}</div>'
        f"{sparkline(spark, unit=unit, label=spark_label)}</a>"
    )


def _metric(ctx: PageContext, key: str, unit: str, label: str) -> str:
    """A detail line carrying a ``data-metric`` of its own."""
    value = get(ctx.data, *key.split("."))
    return (
        f'<span data-metric="{esc(key)}" data-value="{esc(data_value(value))}">'
        f"{esc(label)} <strong>{esc(FORMATTERS[unit](value))}</strong></span>"
    )


def _target_line(target: Any, unit: str) -> str:
    return (
        f"Target <strong>{esc(FORMATTERS[unit](target))}</strong>"
        if target is not None
        else "No target set"
    )


def _retention_tiles(ctx: PageContext) -> list[str]:
    """GRR and NRR of the period against their targets, with the trailing twelve months."""
    r, v = ctx.data["retention"], ctx.view
    out = []
    for name, label in (("grr", "GRR"), ("nrr", "NRR")):
        key, target = f"retention.{name}", r.get(f"{name}_target")
        state = against_target(r[name], target, "rate") or against_comparison(
            r[name], then(ctx, "retention", name), good="up"
        )
        out.append(
            _tile(
                ctx,
                title=f"{label} (period)",
                key=key,
                value=r[name],
                unit="rate",
                state=state,
                to=href("retention", v),
                spark=_series(ctx, f"{name}_ttm"),
                spark_label=f"{label}, trailing 12 months, at each month end",
                lines=[
                    f"{_target_line(target, 'rate')} · "
                    + _metric(ctx, f"retention.{name}_ttm", "rate", "12 months"),
                ],
            )
        )
    return out


def _tiles(ctx: PageContext) -> list[str]:
    """Every tile, in the order a VP reads them."""
    d, v = ctx.data, ctx.view
    p, risk, ren, x, wl = d["portfolio"], d["risk"], d["renewals"], d["expansion"], d["workload"]
    alerts = d["summary_alerts"]
    due_arr = sum(s["arr"] for s in ren["stages"].values())
    urgent = alerts["open"]["critical"] + alerts["open"]["high"]
    crews = len(wl["rows"])
    return [
        _tile(
            ctx,
            title="ARR",
            key="portfolio.arr",
            value=p["arr"],
            unit="money",
            state=against_comparison(p["arr"], then(ctx, "portfolio", "arr"), good="up"),
            to=href("portfolio", v),
            spark=_series(ctx, "arr"),
            spark_label="ARR at each month end",
            lines=[_metric(ctx, "portfolio.customers", "count", "Customers")],
        ),
        *_retention_tiles(ctx),
        _tile(
            ctx,
            title="ARR at risk",
            key="risk.arr_at_risk",
            value=risk["arr_at_risk"],
            unit="money",
            state=against_comparison(
                risk["arr_at_risk"], then(ctx, "risk", "arr_at_risk"), good="down"
            ),
            to=href("risk", v),
            spark=_series(ctx, "arr_at_risk"),
            spark_label="ARR at risk at each month end",
            lines=[_metric(ctx, "risk.critical_arr", "money", "Critical")],
        ),
        _tile(
            ctx,
            title="Renewal forecast",
            key="renewals.forecast_rate",
            value=ren["forecast_rate"],
            unit="rate",
            state=against_target(ren["forecast_rate"], ren["target"], "rate")
            or State.none("no target set"),
            to=href("renewals", v),
            spark=_series(ctx, "renewal_rate"),
            spark_label="Renewal rate of the renewals closed each month",
            lines=[
                _target_line(ren["target"], "rate"),
                f'<span data-metric="summary.due_this_quarter_arr" data-value="{due_arr}">'
                f"Due {esc(ren['quarter']['label'])} <strong>{esc(f.money(due_arr))}</strong>"
                "</span>",
            ],
        ),
        _tile(
            ctx,
            title="Expansion ARR",
            key="expansion.expansion_arr",
            value=x["expansion_arr"],
            unit="money",
            state=against_target(x["expansion_arr"], x["target"], "money")
            or against_comparison(
                x["expansion_arr"], then(ctx, "expansion", "expansion_arr"), good="up"
            ),
            to=href("expansion", v),
            spark=_series(ctx, "expansion_arr"),
            spark_label="Expansion ARR of each month",
            lines=[_target_line(x["target"], "money")],
        ),
        _tile(
            ctx,
            title="Win rate",
            key="expansion.win_rate",
            value=x["win_rate"],
            unit="rate",
            state=against_target(x["win_rate"], x.get("win_rate_target"), "rate")
            or against_comparison(x["win_rate"], then(ctx, "expansion", "win_rate"), good="up"),
            to=href("expansion", v),
            spark=_series(ctx, "win_rate"),
            spark_label="Win rate of the opportunities closed each month",
            lines=[_target_line(x.get("win_rate_target"), "rate")],
        ),
        _tile(
            ctx,
            title="Open critical & high alerts",
            key="summary.open_alerts",
            value=urgent,
            unit="count",
            state=alerts_state(alerts["open"]["critical"], alerts["open"]["high"]),
            to=href("alerts", v),
            spark=alerts["by_month"],
            spark_label="Critical and high alerts fired each month",
            lines=[
                f'<span data-metric="summary.open_alerts.critical" '
                f'data-value="{alerts["open"]["critical"]}">Critical '
                f"<strong>{alerts['open']['critical']}</strong></span> · "
                f'<span data-metric="summary.open_alerts.high" '
                f'data-value="{alerts["open"]["high"]}">High '
                f"<strong>{alerts['open']['high']}</strong></span>"
            ],
        ),
        _tile(
            ctx,
            title="CSMs over capacity",
            key="workload.summary.over",
            value=wl["summary"]["over"],
            unit="count",
            state=capacity_state(wl["summary"]["over"], crews),
            to=href("workload", v),
            spark=_series(ctx, "csms_over_capacity"),
            spark_label="CSMs over capacity at each month end",
            lines=[f"of <strong>{crews}</strong> active CSMs"],
        ),
    ]


def render(ctx: PageContext) -> str:
    """The tiles, then a line on what the states mean."""
    return (
        '<div class="ecc-tiles">'
        + "".join(_tiles(ctx))
        + "</div>"
        + '<p class="ecc-muted ecc-legend">States: ✓ on target or improving · ! near target '
        "(within 2 points, or 90 % of a money target) or to review · ✕ behind, worsening or "
        "needing attention · ■ steady. Lines: the last 12 months. Each tile opens its "
        "dashboard with these filters.</p>"
    )


PAGE = register(
    Page(
        name="summary",
        title="Executive summary",
        areas=AREAS,
        render=render,
        extra=extra,
        controls_below=True,
        reads_alerts=True,  # the open critical and high alerts tile
    )
)
