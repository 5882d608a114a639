"""Helpers shared by the pages: comparison values and labels, KPI shortcuts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Connection

from ...formatting import get
from ...metrics.plan import Plan
from ...periods import COMPARE_SHORT
from ...request import Request
from ..change import change_span
from ..components import kpi
from . import PageContext


def compare_label(ctx: PageContext) -> str | None:
    """None without a comparison; the label, or why there is no comparison value."""
    cmp = ctx.data.get("comparison")
    if not cmp:
        return None
    if ctx.data.get("comparison_values") is None:
        return "needs 12+ months of history" if cmp["kind"] == "yoy" else "not enough history"
    return COMPARE_SHORT.get(cmp["kind"], "vs comparison")


def then(ctx: PageContext, *path: str) -> Any:
    return get(ctx.data.get("comparison_values"), *path)


def comparing(ctx: PageContext) -> bool:
    """Whether a comparison is selected and could be computed (its values are there)."""
    return bool(ctx.data.get("comparison")) and ctx.data.get("comparison_values") is not None


#: ``before`` of :func:`vs` when the comparison value is read at the key's own path.
AT_KEY: Any = object()


def vs(
    ctx: PageContext,
    shown: str,
    key: str,
    value: Any,
    unit: str,
    good: str = "neutral",
    before: Any = AT_KEY,
) -> str:
    """A table cell's HTML ``shown``, and under it, when comparing, its change since the
    comparison period (``before``: the comparison value; by default the one at ``key``'s
    path in ``comparison_values``, for values inside a list the caller's own lookup)."""
    if not comparing(ctx):
        return shown
    if before is AT_KEY:
        before = then(ctx, *key.split("."))
    return f"{shown}<br>{change_span(key, value, before, unit, good)}"


def then_row(ctx: PageContext, area: str, row_id: str, id_key: str = "csm_id") -> dict[str, Any]:
    """The comparison period's row of a list area (``csms``, ``workload``) with that id."""
    rows = then(ctx, area, "rows") or []
    return next((r for r in rows if r.get(id_key) == row_id), {})


def card(
    ctx: PageContext,
    key: str,
    *,
    link_to: str | None = None,
    label: str | None = None,
    unit: str | None = None,
    tone: str | None = None,
) -> str:
    """A KPI card for a METRICS.md key path, with its comparison value."""
    path = key.split(".")
    return kpi(
        key,
        get(ctx.data, *path),
        ctx.req.period,
        compare=then(ctx, *path),
        compare_label=compare_label(ctx),
        link_to=link_to,
        label=label,
        unit=unit,
        tone=tone,
    )


def csm_names(ctx: PageContext) -> dict[str, str]:
    """csm_id -> display name (one small query per page render)."""
    from sqlalchemy import select

    from ...schema import csms

    cache = ctx.data.setdefault("_csm_names", {})
    if not cache:
        cache.update(
            {r.csm_id: r.name for r in ctx.conn.execute(select(csms.c.csm_id, csms.c.name))}
        )
    return cache  # type: ignore[no-any-return]


def csm_link(ctx: PageContext, csm_id: str) -> str:
    """The CSM's name, linking to their portfolio page with the current filters."""
    from ..components import link

    return link("csm", ctx.view, csm_names(ctx).get(csm_id, csm_id), csm=csm_id)


def with_note(card_html: str, note_html: str) -> str:
    """A KPI card with one more line (escaped HTML) under its value and change."""
    at = card_html.rfind("<details>")
    return card_html[:at] + f'<div class="ecc-note">{note_html}</div>' + card_html[at:]


def metric_span(key: str, value: float | int | None, text: str) -> str:
    """``text`` carrying ``data-metric``/``data-value`` for a METRICS.md key path, so that a
    number shown outside a KPI card (a table cell, a card's note) can be checked too."""
    from ..components import esc

    raw = "" if value is None else json.dumps(value)
    return f'<span data-metric="{esc(key)}" data-value="{esc(raw)}">{esc(text)}</span>'


def target_tone(value: float | None, target: float | None, warn_below: float) -> str:
    """Card colour against a target: green at or above it, yellow within ``warn_below``
    under it, red further below; no colour when either is unknown."""
    if value is None or target is None:
        return ""
    if value >= target:
        return "good"
    return "warn" if value >= target - warn_below else "bad"


Crumbs = list[tuple[str, str | None]]


def base_crumbs(ctx: PageContext, *, with_csm: bool = True) -> Crumbs:
    """Overview, then segment, then CSM: links keeping the date range and comparison (the
    overview and a segment's are the landing page, the executive summary)."""
    from ..components import href
    from ..pools import LANDING_PAGE

    v = ctx.view
    out: Crumbs = [("Overview", href(LANDING_PAGE, v, segment=None, csm=None))]
    if v.segment:
        out.append((f"Segment: {v.segment}", href(LANDING_PAGE, v, csm=None)))
    if v.csm and with_csm:
        out.append((f"CSM: {csm_names(ctx).get(v.csm, v.csm)}", href("csm", v)))
    return out


def list_header(
    ctx: PageContext,
    page: str,
    data: dict[str, Any],
    noun: str,
    tabs: tuple[tuple[str, str], ...],
    current: str,
) -> str:
    """The line over a drill-down list: how many, their ARR (``data-metric`` ``<page>.
    total_arr``), as of when, and the page's other lists as links."""
    from ...formatting import money
    from .. import components as c

    links = " · ".join(
        c.esc(label) if key == current else c.link(page, ctx.view, label, list=key)
        for key, label in tabs
    )
    return (
        f'<p data-metric="{page}.total_arr" data-value="{data["total_arr"]}">'
        f"<strong>{data['total']:,}</strong> {c.esc(noun)}, "
        f"<strong>{c.esc(money(data['total_arr']))}</strong> ARR, as of "
        f"{ctx.req.period.end:%b %-d, %Y}. {links}</p>"
    )


def then_note(ctx: PageContext, mark: str = "tick") -> str:
    """Under a chart that shows the comparison: what its dark marks are (nothing without a
    comparison). ``mark``: "tick" (across a bar) or "outline" (dashed, around a step)."""
    from ..components import esc

    if not comparing(ctx):
        return ""
    label = compare_label(ctx) or "vs comparison"
    what = "Dark tick" if mark == "tick" else "Dashed outline"
    return (
        f'<p class="ecc-muted ecc-explain ecc-then-note"><span class="ecc-then-{mark}"></span> '
        f"{what}: the comparison value ({esc(label)}).</p>"
    )


def share_bars(
    ctx: PageContext,
    bars: tuple[tuple[str, str], ...],
    parts: tuple[str, ...],
    labels: dict[str, str],
    *path: str,
) -> list[dict[str, Any]]:
    """The rows of a chart of 100% bars (``charts.stacked_shares``): for each (bar label,
    key) of ``bars``, one piece per part (named by ``labels``) read at ``path + (part,
    key)`` in the data; with a comparison, each bar followed by the same bar of the
    comparison period."""
    label = (compare_label(ctx) or "").removeprefix("vs ")
    rows: list[dict[str, Any]] = []
    for bar, key in bars:
        rows += [
            {"bar": bar, "part": labels.get(p, p), "value": get(ctx.data, *path, p, key)}
            for p in parts
        ]
        if comparing(ctx):
            rows += [
                {
                    "bar": f"{bar}, {label}",
                    "part": labels.get(p, p),
                    "value": then(ctx, *path, p, key) or 0,
                }
                for p in parts
            ]
    return rows


def own_comparison(
    plan: Plan, conn: Connection, req: Request, area: str, values_at: Callable[[date], Any]
) -> dict[str, Any]:
    """A drill-down page's own data at the comparison period's end, shaped as the metrics
    give theirs (``comparison`` and ``comparison_values.<area>``, null when the comparison
    starts before the data does), so its cards and tables compare like any page's.
    Empty without a comparison."""
    from ...metrics.compute import comparison_computable
    from ...periods import comparison_period

    if not req.compare:
        return {}
    cmp = comparison_period(req.period, req.compare)
    values = None
    if comparison_computable(plan, conn, cmp):
        values = {area: values_at(cmp.period.end)}
    return {"comparison": cmp.as_dict(), "comparison_values": values}
