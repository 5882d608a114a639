"""The executive summary (the landing page): every tile equals ``ecc metrics`` for the
same view, its trend line ends at the tile's value, its state reads in words, and it
links to its dashboard with the filters kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine

from ecc.alerts.evaluate import run_range
from ecc.alerts.store import acknowledge, list_alerts
from ecc.demo import build_demo
from ecc.metrics import compute_all
from ecc.metrics.scope import Scope
from ecc.metrics.summary import SERIES, months
from ecc.periods import Period
from ecc.ui.pages.tile_states import (
    against_comparison,
    against_target,
    alerts_state,
    capacity_state,
)
from ecc.ui.sparkline import sparkline
from ecc.ui.static import render_page
from tests.support.pagecheck import mismatches, values_in

TODAY = date(2026, 11, 24)
QUARTER = Period(date(2026, 10, 1), TODAY)
VIEW = "preset=this_quarter&compare=previous&today=2026-11-24"


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_the_months_of_the_trend_lines_end_at_the_as_of_date() -> None:
    spans = months(date(2026, 11, 24))
    assert len(spans) == 12
    assert spans[0] == (date(2025, 12, 1), date(2025, 12, 31))
    assert spans[-2] == (date(2026, 10, 1), date(2026, 10, 31))
    assert spans[-1] == (date(2026, 11, 1), date(2026, 11, 24))
    # a month end as-of date: its month whole, February of a leap year whole
    assert months(date(2024, 2, 29))[-1] == (date(2024, 2, 1), date(2024, 2, 29))


@pytest.mark.parametrize("segment", [None, "SMB"])
def test_each_trend_line_ends_at_the_value_of_its_family(demo: Engine, segment: str | None) -> None:
    got = compute_all(
        demo,
        QUARTER,
        scope=Scope(segment=segment),
        areas=["summary_trend", "portfolio", "retention", "risk", "workload", "expansion"],
    )
    trend = got["summary_trend"]
    assert list(trend) == list(SERIES)
    assert all(len(points) == 12 for points in trend.values())
    assert trend["arr"][-1] == {"date": "2026-11-24", "value": got["portfolio"]["arr"]}
    last = {name: points[-1]["value"] for name, points in trend.items()}
    assert last["customers"] == got["portfolio"]["customers"]
    assert last["grr_ttm"] == pytest.approx(got["retention"]["grr_ttm"])
    assert last["nrr_ttm"] == pytest.approx(got["retention"]["nrr_ttm"])
    assert last["arr_at_risk"] == got["risk"]["arr_at_risk"]
    assert last["critical_arr"] == got["risk"]["critical_arr"]
    assert last["csms_over_capacity"] == got["workload"]["summary"]["over"]
    # the quarter's expansion ARR is the sum of its two months' (October, November to date)
    months_of_quarter = sum(p["value"] for p in trend["expansion_arr"][-2:])
    assert months_of_quarter == pytest.approx(got["expansion"]["expansion_arr"])
    # a month end's value is the family's value for a period ending there
    october = compute_all(
        demo,
        Period(date(2026, 10, 1), date(2026, 10, 31)),
        scope=Scope(segment=segment),
        areas=["portfolio", "risk", "expansion"],
    )
    assert trend["arr"][-2]["value"] == october["portfolio"]["arr"]
    assert trend["arr_at_risk"][-2]["value"] == october["risk"]["arr_at_risk"]
    assert trend["win_rate"][-2]["value"] == october["expansion"]["win_rate"]


def _tiles(html: str) -> dict[str, dict[str, str]]:
    """data-metric of each tile -> its href, state words and tone."""
    out = {}
    for m in re.finditer(
        r'<a class="ecc-tile ?(\w*)" href="([^"]*)"[^>]*data-metric="([^"]+)".*?'
        r'<span class="ecc-state[^"]*">([^<]*)</span>',
        html,
    ):
        out[m.group(3)] = {"tone": m.group(1), "href": m.group(2), "state": m.group(4)}
    return out


def test_the_tiles_are_the_numbers_of_ecc_metrics_and_link_to_their_dashboards(
    demo: Engine,
) -> None:
    run_range(demo, date(2026, 10, 1), TODAY)  # the alerts of the quarter
    html = render_page(demo, "summary", VIEW)
    want = compute_all(demo, QUARTER, compare="previous")
    assert mismatches(html, want) == []
    shown = values_in(html)
    tiles = _tiles(html)
    assert list(tiles) == [
        "portfolio.arr",
        "retention.grr",
        "retention.nrr",
        "risk.arr_at_risk",
        "renewals.forecast_rate",
        "expansion.expansion_arr",
        "expansion.win_rate",
        "summary.open_alerts",
        "workload.summary.over",
    ]
    for key in ("portfolio.customers", "retention.grr_ttm", "risk.critical_arr"):
        assert key in shown
    for key, page in (("portfolio.arr", "portfolio"), ("risk.arr_at_risk", "risk")):
        assert tiles[key]["href"].startswith(f"{page}.ipynb?")
        assert "preset=this_quarter" in tiles[key]["href"]
        assert "compare=previous" in tiles[key]["href"]
    due = sum(s["arr"] for s in want["renewals"]["stages"].values())
    assert shown["summary.due_this_quarter_arr"] == pytest.approx(due)
    # the open alerts are the alerts center's: unacknowledged critical and high ones
    with demo.connect() as conn:
        rows = list_alerts(conn)
    fired = [r for r in rows if "2026-10-01" <= r["fired_on"] <= "2026-11-24"]
    critical = sum(1 for r in fired if r["severity"] == "critical")
    high = sum(1 for r in fired if r["severity"] == "high")
    assert (shown["summary.open_alerts.critical"], shown["summary.open_alerts.high"]) == (
        critical,
        high,
    )
    assert shown["summary.open_alerts"] == critical + high > 0
    # the states: words and a mark, not colour alone
    for tile in tiles.values():
        assert tile["state"][0] in "✓!✕■–" and len(tile["state"]) > 3
    # acknowledging one takes it off the count
    first = next(r for r in fired if r["severity"] in ("critical", "high"))
    acknowledge(demo, [first["alert_id"]], "vp")
    again = values_in(render_page(demo, "summary", VIEW))
    assert again["summary.open_alerts"] == critical + high - 1


def test_a_segment_filter_reaches_every_tile(demo: Engine) -> None:
    view = VIEW + "&segment=Enterprise"
    html = render_page(demo, "summary", view)
    want = compute_all(demo, QUARTER, compare="previous", scope=Scope(segment="Enterprise"))
    assert mismatches(html, want) == []
    assert values_in(html)["portfolio.arr"] == want["portfolio"]["arr"]
    assert all("segment=Enterprise" in t["href"] for t in _tiles(html).values())


@pytest.mark.parametrize(
    ("value", "target", "unit", "words"),
    [
        (0.95, 0.95, "rate", "✓ on target"),
        (0.931, 0.95, "rate", "! near target"),  # 1.9 points below
        (0.929, 0.95, "rate", "✕ behind target"),  # 2.1 points below
        (1_000_000, 1_000_000, "money", "✓ on target"),
        (900_000, 1_000_000, "money", "! near target"),  # 90 %
        (899_999, 1_000_000, "money", "✕ behind target"),
    ],
)
def test_states_against_a_target(value: float, target: float, unit: str, words: str) -> None:
    state = against_target(value, target, unit)
    assert state is not None and f"{state.mark} {state.words}" == words


def test_states_against_the_comparison_and_for_counts() -> None:
    assert against_target(None, 0.9, "rate") is None and against_target(0.9, None, "rate") is None
    assert against_comparison(105.0, 100.0, good="up").words == "improving"
    assert against_comparison(105.0, 100.0, good="down").words == "worsening"
    assert against_comparison(100.4, 100.0, good="up").words == "steady"  # within 0.5 %
    assert against_comparison(1.0, None, good="up").words == "no comparison"
    assert alerts_state(0, 0).words == "all clear"
    assert alerts_state(0, 3).tone == "warn" and alerts_state(1, 0).tone == "bad"
    assert capacity_state(0, 40).tone == "good"
    assert capacity_state(4, 40).tone == "warn"  # 10 % of the team
    assert capacity_state(5, 40).tone == "bad"


def test_a_trend_line_says_in_words_what_it_draws() -> None:
    svg = sparkline([1000.0, None, 3e6, 2e6], unit="money", label="ARR at each month end")
    assert 'role="img"' in svg
    # as a screen reader says it, not "$1,000" and "$2.00M"
    assert (
        "ARR at each month end: from 1,000 dollars to 2.00 million dollars (low 1,000 "
        "dollars, high 3.00 million dollars)"
    ) in svg
    assert svg.count("<polyline") == 1  # the gap splits the line; a lone point draws none
    assert sparkline([None, 5.0], unit="count", label="x") == ""
