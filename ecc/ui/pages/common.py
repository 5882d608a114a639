"""Helpers shared by the pages: comparison values and labels, KPI shortcuts."""

from __future__ import annotations

from typing import Any

from ...formatting import get
from ..components import kpi
from . import PageContext

COMPARE_SHORT = {"previous": "vs previous period", "yoy": "vs last year"}


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
