"""A dashboard page as a report section: the same page body, with a plain heading in
place of the navigation and filters, and a record of what the numbers reflect."""

from __future__ import annotations

from datetime import date
from typing import Any

from .components import esc
from .pages import Page, PageContext

COMPARE_WORDS = {"previous": "the previous period", "yoy": "the same period last year"}


def describe(ctx: PageContext, page: Page | None = None) -> dict[str, Any]:
    """What a section reflects: dates, comparison, filters (the CSM by name, and the
    page's own, e.g. the alerts' severity), data as-of, when the data was loaded, warnings
    about its freshness, and the computed time."""
    from .pages.common import csm_names

    req, data, fresh = ctx.req, ctx.data, ctx.fresh
    csm = req.scope.csm_id
    own = page.own_filters(ctx) if page is not None and page.own_filters else []
    cmp = data.get("comparison")
    loaded = fresh.loaded_at if fresh is not None else None
    return {
        "period": {"start": req.period.start.isoformat(), "end": req.period.end.isoformat()},
        "preset": req.period.preset,
        "comparison": cmp,
        "comparison_available": data.get("comparison_values") is not None if cmp else None,
        "filters": {
            "segment": req.scope.segment,
            "csm": csm,
            "csm_name": csm_names(ctx).get(csm, csm) if csm else None,
            "page": own,
        },
        "data_as_of": req.today.isoformat(),
        "loaded_at": loaded.isoformat(timespec="seconds") + "Z" if loaded else None,
        "freshness_warnings": fresh.warnings() if fresh is not None else [],
        "computed_at": ctx.computed_at.isoformat(timespec="seconds") + "Z",
    }


def period_words(meta: dict[str, Any]) -> str:
    """The period in words, with the comparison period when there is one."""
    start = date.fromisoformat(meta["period"]["start"])
    end = date.fromisoformat(meta["period"]["end"])
    text = f"{start:%b %-d, %Y} – {end:%b %-d, %Y}"
    cmp = meta.get("comparison")
    if cmp:
        cs, ce = date.fromisoformat(cmp["start"]), date.fromisoformat(cmp["end"])
        text += f", compared with {COMPARE_WORDS.get(cmp['kind'], cmp['kind'])}"
        text += f" ({cs:%b %-d, %Y} – {ce:%b %-d, %Y})"
        if not meta.get("comparison_available"):
            text += " — not enough history for the comparison"
    return text


def filter_words(meta: dict[str, Any]) -> str:
    f = meta["filters"]
    parts = []
    if f.get("segment"):
        parts.append(f"segment {f['segment']}")
    if f.get("csm"):
        parts.append(f"CSM {f.get('csm_name') or f['csm']}")
    parts += f.get("page") or []
    return ", ".join(parts) if parts else "none (whole portfolio)"


def report_section(page: Page, ctx: PageContext) -> tuple[str, dict[str, Any]]:
    meta = describe(ctx, page) | {"page": page.name, "title": page.title}
    if not page.compares:  # nothing on the page is compared (the alerts list)
        meta["comparison"] = None
    notes = "".join(
        f'<p class="ecc-note">{esc(m)}</p>'
        for m in [*meta["freshness_warnings"], *ctx.view.messages]
    )
    head = (
        f'<header class="ecc-report-head"><h1>{esc(page.title)}</h1>'
        f'<p class="ecc-range">{esc(period_words(meta))} · filters: {esc(filter_words(meta))}'
        f" · data as of {date.fromisoformat(meta['data_as_of']):%b %-d, %Y}</p></header>"
    )
    body = page.render(ctx)
    html = (
        f'<section class="ecc-report-section" data-page="{esc(page.name)}">'
        f"{head}{notes}{body}</section>"
    )
    return html, meta
