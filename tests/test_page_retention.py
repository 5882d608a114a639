"""The retention dashboard (US-002) shows the numbers of ``ecc metrics`` for the same view,
keeps the filters in its links, and draws the cohort heat maps from ``retention.cohorts``."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine

from ecc.demo import build_demo
from ecc.formatting import get
from ecc.metrics import compute_all
from ecc.metrics.scope import Scope
from ecc.periods import Period
from ecc.ui.pages.retention import ARR_SCALE, HEAT_STOPS, heat_colour
from ecc.ui.static import render_page
from tests.support.pagecheck import values_in as metrics_in

TODAY = date(2026, 11, 24)

KPIS = [
    "retention.grr",
    "retention.nrr",
    "retention.grr_ttm",
    "retention.nrr_ttm",
    "retention.new_arr",
    "retention.expansion_arr",
    "retention.contraction_arr",
    "retention.churned_arr",
    "retention.reactivation_arr",
    "retention.forecast.churn_arr",
    "retention.forecast.expansion_arr",
]

# (query, the same request spelled out for compute_all)
VIEWS = [
    (
        "preset=this_quarter&compare=previous&today=2026-11-24",
        Period(date(2026, 10, 1), TODAY),
        "previous",
        Scope(),
    ),
    (
        "preset=ytd&compare=yoy&today=2026-11-24&segment=SMB",
        Period(date(2026, 1, 1), TODAY),
        "yoy",
        Scope(segment="SMB"),
    ),
    (
        "start=2026-01-01&end=2026-03-31&compare=previous&today=2026-11-24",
        Period(date(2026, 1, 1), date(2026, 3, 31)),
        "previous",
        Scope(),
    ),
]


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_every_kpi_is_the_number_of_compute_all(demo: Engine) -> None:
    for query, period, compare, scope in VIEWS:
        html = render_page(demo, "retention", query)
        want = compute_all(demo, period, compare=compare, scope=scope, areas=["retention"])
        shown = metrics_in(html)
        assert sorted(k for k in shown if k.startswith("retention.")) == sorted(KPIS), query
        for key in KPIS:
            expected = get(want, *key.split("."))
            if expected is None:
                assert shown[key] is None, (query, key)
            else:
                assert shown[key] == pytest.approx(expected), (query, key)
        # the comparison is shown beside each card: the previous value as a delta
        assert "vs previous period" in html or "vs last year" in html


def test_cohorts_bridge_and_trend_come_from_the_json(demo: Engine) -> None:
    query, period, compare, scope = VIEWS[0]
    html = render_page(demo, "retention", query)
    r = compute_all(demo, period, compare=compare, scope=scope, areas=["retention"])["retention"]
    cohorts = r["cohorts"]
    assert cohorts, "the demo has signup quarters"
    # two heat maps (ARR and logo), each a row per signup quarter, oldest first
    for c in cohorts:
        assert html.count(f"<th>{c['quarter']}</th>") == 2
    first = html.index(f"<th>{cohorts[0]['quarter']}</th>")
    assert first < html.index(f"<th>{cohorts[-1]['quarter']}</th>")
    # the oldest cohort's last ARR cell is its rounded percentage
    last = cohorts[0]["arr_retention"][-1]
    assert f">{last * 100:.0f}%</td>" in html
    # the bridge: every movement, with its sign, and the net change = their sum
    net = r["new_arr"] + r["expansion_arr"] + r["reactivation_arr"]
    net -= r["contraction_arr"] + r["churned_arr"]
    bridge = html[html.index('data-table="bridge"') :]
    for label in ("New business", "Expansion", "Reactivation", "Contraction", "Churn"):
        assert f"<td>{label}</td>" in bridge
    assert "Net ARR change" in bridge
    assert re.search(r"[+\u2212]\$[\d.,]+[KM]?</strong>", bridge)
    if net > 0:
        assert "<strong>+$" in bridge
    # the trend: each point of retention.trend is listed in the numbers table
    for t in r["trend"]:
        assert f"{t['grr_ttm'] * 100:.1f}%" in html
    assert "<svg" in html  # the line chart


def test_links_keep_the_filters(demo: Engine) -> None:
    html = render_page(demo, "retention", "preset=ytd&compare=yoy&today=2026-11-24&segment=SMB")
    keep = "preset=ytd&amp;today=2026-11-24&amp;compare=yoy&amp;segment=SMB"
    assert f'href="renewals.ipynb?{keep}"' in html  # forecast churn -> renewals
    assert f'href="expansion.ipynb?{keep}"' in html  # expansion actual and forecast
    assert f'href="portfolio.ipynb?{keep}"' in html  # start and end ARR


def test_heat_colours_run_red_yellow_green_and_get_lighter() -> None:
    assert HEAT_STOPS == ((232, 139, 132), (251, 212, 109), (207, 233, 201))
    lo, mid, hi = ARR_SCALE
    assert heat_colour(lo - 0.5, ARR_SCALE) == "#e88b84"  # red at or below lo
    assert heat_colour(mid, ARR_SCALE) == "#fbd46d"  # yellow at mid
    assert heat_colour(hi + 0.5, ARR_SCALE) == "#cfe9c9"  # pale green at or above hi
    # halfway from red to yellow: (232+251)/2 = 241.5 -> 242 = f2, (139+212)/2 = 175.5 -> 176
    # = b0, (132+109)/2 = 120.5 -> 120 (round half to even) = 78
    assert heat_colour(0.5, (0.0, 1.0, 2.0)) == "#f2b078"

    def luminance(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    # darker = worse, so the scale reads in black and white too
    steps = [heat_colour(lo + (hi - lo) * i / 10, ARR_SCALE) for i in range(11)]
    shades = [luminance(c) for c in steps]
    assert shades == sorted(shades)
