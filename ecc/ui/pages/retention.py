"""ARR retention (US-002): GRR and NRR now and trending, churn and expansion actual against
the 90-day forecast, the period's ARR movements, and retention by signup-quarter cohort.

Every number comes from ``retention`` of METRICS.md; the only addition (``extra``) is the
same TTM GRR/NRR at the month ends of the year before the period, so that a short period
still shows a trend: its points inside the period are exactly ``retention.trend``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ... import formatting as f
from .. import charts
from ..components import SCROLL, columns, esc, grid, href, section, table
from . import Page, PageContext, register
from .common import card, compare_label, comparing, then

#: (label, key, sign): the period's ARR movements, gains first.
MOVEMENTS: tuple[tuple[str, str, int], ...] = (
    ("New business", "new_arr", 1),
    ("Expansion", "expansion_arr", 1),
    ("Reactivation", "reactivation_arr", 1),
    ("Contraction", "contraction_arr", -1),
    ("Churn", "churned_arr", -1),
)

#: Heat-map colours, worst to best: red, yellow, pale green. Their lightness rises with the
#: value, so the scale still reads (darker = worse) in black and white.
HEAT_STOPS: tuple[tuple[int, int, int], ...] = ((232, 139, 132), (251, 212, 109), (207, 233, 201))

#: (red at or below, yellow at, green at or above) per cohort table. ARR retention counts
#: expansion, so flat (100%) is the middle of its scale; logo retention cannot pass 100%.
ARR_SCALE = (0.85, 1.00, 1.10)
LOGO_SCALE = (0.70, 0.85, 1.00)


# ---------------------------------------------------------------- data beyond compute_all


# ---------------------------------------------------------------- pieces


def _if(value: float, tone: str) -> str:
    """A movement's colour, only when there was some."""
    return tone if value else ""


def _tone(value: float | None, good: float, warn: float) -> str:
    if value is None:
        return ""
    return "good" if value >= good else ("warn" if value >= warn else "bad")


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> str:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return f"#{r:02x}{g:02x}{bl:02x}"


def heat_colour(value: float, scale: tuple[float, float, float]) -> str:
    """Background for a retention ratio: red at or below scale[0], yellow at scale[1],
    pale green at or above scale[2], linear in between."""
    lo, mid, hi = scale
    red, yellow, green = HEAT_STOPS
    if value <= lo:
        return _mix(red, red, 0)
    if value < mid:
        return _mix(red, yellow, (value - lo) / (mid - lo))
    if value < hi:
        return _mix(yellow, green, (value - mid) / (hi - mid))
    return _mix(green, green, 0)


def cohort_table(rows: list[dict[str, Any]], key: str, scale: tuple[float, float, float]) -> str:
    """Signup quarters down, quarters since signup across, each cell a coloured ratio."""
    width = max((len(r[key]) for r in rows), default=0)
    if width == 0:
        return '<p class="ecc-muted">No signup quarter in this selection.</p>'
    what = "ARR" if key == "arr_retention" else "customers"
    head = "<th>Signup quarter</th>" + "".join(f'<th class="num">Q{k}</th>' for k in range(width))
    body = []
    for r in rows:
        cells = []
        for k in range(width):
            if k >= len(r[key]):
                cells.append('<td class="ecc-heat-na"></td>')
                continue
            v = r[key][k]
            if k == 0 and v is not None:  # the base itself: 100% by definition
                cells.append(f'<td class="num ecc-heat-base">{esc(f.pct(v, 0))}</td>')
                continue
            if v is None:
                cells.append('<td class="num ecc-heat-na">—</td>')
                continue
            low = " ecc-heat-low" if v <= scale[0] else ""
            tip = (
                f"{r['quarter']} signups, {k} quarter{'s' if k != 1 else ''} later: "
                f"{f.pct(v)} of their {what} at the end of the signup quarter"
            )
            cells.append(
                f'<td class="num ecc-heat{low}" style="background:{heat_colour(v, scale)}" '
                f'title="{esc(tip)}">{esc(f.pct(v, 0))}</td>'
            )
        body.append(f"<tr><th>{esc(r['quarter'])}</th>{''.join(cells)}</tr>")
    return (
        SCROLL + '<table class="ecc-table ecc-cohorts">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def heat_legend(scale: tuple[float, float, float]) -> str:
    lo, mid, hi = scale
    swatches = "".join(
        f'<span class="ecc-swatch" style="background:{heat_colour(v, scale)}">{esc(text)}</span>'
        for v, text in ((lo, f"≤ {f.pct(lo, 0)}"), (mid, f.pct(mid, 0)), (hi, f"≥ {f.pct(hi, 0)}"))
    )
    return (
        f'<p class="ecc-muted ecc-legend">{swatches} darker = lower retention; '
        f"bold = at or below {esc(f.pct(lo, 0))}.</p>"
    )


def cohorts_html(rows: list[dict[str, Any]]) -> str:
    """The ARR and logo retention heat maps, one shown at a time (a CSS-only toggle;
    both print)."""
    intro = (
        '<p class="ecc-muted">Each row is the customers who signed up in that quarter and '
        "were active at its end; Q<i>k</i> is <i>k</i> full quarters later. ARR retention "
        "counts expansion (it can pass 100%), logo retention counts customers still "
        "active.</p>"
    )
    return (
        intro + '<div class="ecc-toggle">'
        '<input type="radio" name="ecc-cohort-view" id="ecc-cohort-arr" checked>'
        '<label for="ecc-cohort-arr">ARR retention</label>'
        '<input type="radio" name="ecc-cohort-view" id="ecc-cohort-logo">'
        '<label for="ecc-cohort-logo">Logo retention</label>'
        '<div class="ecc-pane ecc-pane-arr"><h3>ARR retention by signup quarter</h3>'
        + cohort_table(rows, "arr_retention", ARR_SCALE)
        + heat_legend(ARR_SCALE)
        + '</div><div class="ecc-pane ecc-pane-logo"><h3>Logo retention by signup quarter</h3>'
        + cohort_table(rows, "logo_retention", LOGO_SCALE)
        + heat_legend(LOGO_SCALE)
        + "</div></div>"
    )


def bridge_html(ctx: PageContext) -> str:
    """The period's ARR movements with a bar each and the comparison period beside them."""
    r = ctx.data["retention"]
    label = compare_label(ctx)
    has_cmp = label is not None and then(ctx, "retention") is not None
    biggest = max((abs(r[k]) for _, k, _ in MOVEMENTS), default=0.0) or 1.0
    rows = []
    net = 0.0
    net_then = 0.0
    for name, key, sign in MOVEMENTS:
        value = sign * r[key]
        net += value
        kind = "gain" if sign > 0 else "loss"
        width = abs(value) / biggest * 100
        bar = f'<span class="ecc-bar {kind}" style="width:{width:.1f}%"></span>' if value else ""
        row = [
            esc(name),
            esc(_signed(value)),
            bar,
        ]
        if has_cmp:
            before = sign * then(ctx, "retention", key)
            net_then += before
            row += [esc(_signed(before)), esc(f.delta(value, before, "money"))]
        rows.append(row)
    total = ["<strong>Net ARR change</strong>", f"<strong>{esc(_signed(net))}</strong>", ""]
    if has_cmp:
        total += [esc(_signed(net_then)), esc(f.delta(net, net_then, "money"))]
    rows.append(total)
    headers: list[tuple[str, bool]] = [("Movement", False), ("This period", True), ("", False)]
    if has_cmp:
        headers += [(f"Comparison ({(label or '').replace('vs ', '')})", True), ("Change", True)]
    note = (
        '<p class="ecc-muted">Gains are added to and losses taken from the ARR the customers '
        "had the day before the period; the net change is their sum. ARR at the start and "
        "end of the period is on the "
        f'<a href="{esc(href("portfolio", ctx.view))}" target="_self">Portfolio</a> page.</p>'
    )
    return table(headers, rows, attrs=' data-table="bridge"') + note


def _signed(value: float) -> str:
    if value == 0:
        return f.money(0.0)
    return ("+" if value > 0 else "\u2212") + f.money(abs(value))


def _compare_band(ctx: PageContext) -> tuple[str, str] | None:
    """The comparison period's dates, when one is selected and computed."""
    cmp = ctx.data.get("comparison")
    return (cmp["start"], cmp["end"]) if cmp and comparing(ctx) else None


def trend_html(ctx: PageContext) -> str:
    """TTM GRR and NRR: the year before the period for context, the period shaded."""
    r = ctx.data["retention"]
    history = ctx.data.get("retention_history") or []
    points = [*history, *r["trend"]]
    p = ctx.req.period
    last = r["trend"][-1] if r["trend"] else {}
    chart = charts.trend_with_band(
        points,
        {"grr_ttm": "GRR (TTM)", "nrr_ttm": "NRR (TTM)"},
        label=(
            "Trailing-12-month GRR and NRR at each month end, the selected period shaded"
            f"; at its end GRR {f.pct(last.get('grr_ttm'))}, NRR {f.pct(last.get('nrr_ttm'))}."
        ),
        band=(p.start.isoformat(), p.end.isoformat()),
        compare_band=_compare_band(ctx),
        title="Trailing-12-month retention",
    )
    rows = [
        [
            esc(f"{date.fromisoformat(t['date']):%b %-d, %Y}")
            + (' <span class="ecc-muted">(earlier)</span>' if i < len(history) else ""),
            esc(f.pct(t["grr_ttm"])),
            esc(f.pct(t["nrr_ttm"])),
        ]
        for i, t in enumerate(points)
    ]
    numbers = table(
        [("Month end", False), ("GRR (TTM)", True), ("NRR (TTM)", True)], list(reversed(rows))
    )
    return columns(
        "<div>"
        + (chart or '<p class="ecc-muted">No customer was active a year before these dates.</p>')
        + '<p class="ecc-muted">Each point: of the ARR customers had one year before that '
        "date, the share kept (GRR, no growth counted) and the share including expansion "
        "(NRR). The shaded band is the selected period; earlier months give context."
        + (" The dashed frame is the comparison period." if _compare_band(ctx) is not None else "")
        + "</p></div>",
        numbers,
    )


# ---------------------------------------------------------------- the page


def render(ctx: PageContext) -> str:
    d, v = ctx.data, ctx.view
    r = d["retention"]
    rates = grid(
        [
            card(ctx, "retention.grr"),
            card(ctx, "retention.nrr"),
            card(ctx, "retention.grr_ttm", tone=_tone(r["grr_ttm"], 0.90, 0.80)),
            card(ctx, "retention.nrr_ttm", tone=_tone(r["nrr_ttm"], 1.00, 0.90)),
        ]
    )
    renewals = href("renewals", v)
    expansion = href("expansion", v)
    pairs = (
        '<div class="ecc-pairs">'
        '<div class="ecc-pair"><h2>Churn: actual and next 90 days</h2>'
        + grid(
            [
                card(ctx, "retention.churned_arr", tone=_if(r["churned_arr"], "bad")),
                card(
                    ctx,
                    "retention.forecast.churn_arr",
                    tone=_if(r["forecast"]["churn_arr"], "bad"),
                    link_to=renewals,
                ),
            ]
        )
        + '</div><div class="ecc-pair"><h2>Expansion: actual and next 90 days</h2>'
        + grid(
            [
                card(
                    ctx,
                    "retention.expansion_arr",
                    tone=_if(r["expansion_arr"], "good"),
                    link_to=expansion,
                ),
                card(
                    ctx,
                    "retention.forecast.expansion_arr",
                    tone=_if(r["forecast"]["expansion_arr"], "good"),
                    link_to=expansion,
                ),
            ]
        )
        + "</div></div>"
    )
    others = grid(
        [
            card(ctx, "retention.new_arr", tone=_if(r["new_arr"], "good")),
            card(ctx, "retention.reactivation_arr", tone=_if(r["reactivation_arr"], "good")),
            card(ctx, "retention.contraction_arr", tone=_if(r["contraction_arr"], "warn")),
        ]
    )
    return (
        rates
        + pairs
        + others
        + section("ARR movement in the period", bridge_html(ctx))
        + section("GRR and NRR trend", trend_html(ctx))
        + section("Cohorts: retention by signup quarter", cohorts_html(r["cohorts"]))
    )


PAGE = register(
    Page(
        name="retention",
        title="Retention",
        areas=("retention", "retention_history"),
        render=render,
    )
)
