"""The segment comparison (US-009) shows the numbers of ``ecc metrics`` for the same view,
links each segment to its filtered dashboards with the other filters kept, marks the best
and worst segment of each ranked row, and says what a segment filter leaves out."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.config import SEGMENTS
from ecc.demo import build_demo
from ecc.formatting import get
from ecc.metrics import compute_all
from ecc.metrics.scope import Scope
from ecc.periods import Period
from ecc.ui.pages.segments import rank
from ecc.ui.static import render_page
from tests.support.pagecheck import values_in as metrics_in

TODAY = date(2026, 11, 24)
KEYS = [
    "customers",
    "arr",
    "avg_health",
    "grr",
    "nrr",
    "expansion_rate",
    "time_to_value_days",
    "tickets_per_account",
]
QUARTER = "preset=this_quarter&compare=previous&today=2026-11-24"
QUARTER_PERIOD = Period(date(2026, 10, 1), TODAY)


def check(html: str, want: dict[str, Any], segments: list[str]) -> None:
    shown = metrics_in(html)
    expected_keys = {f"segments.{s}.{k}" for s in segments for k in KEYS}
    assert {k for k in shown if k.startswith("segments.")} == expected_keys
    for key in expected_keys:
        value = get(want, *key.split("."))
        if value is None:
            assert shown[key] is None, key
        else:
            assert shown[key] == pytest.approx(value), key


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_cards_are_the_numbers_of_compute_all(demo: Engine) -> None:
    html = render_page(demo, "segments", QUARTER)
    want = compute_all(demo, QUARTER_PERIOD, compare="previous", areas=["segments"])
    check(html, want, list(SEGMENTS))
    custom = "start=2026-01-01&end=2026-03-31&compare=yoy&today=2026-11-24"
    html = render_page(demo, "segments", custom)
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    check(html, compute_all(demo, period, compare="yoy", areas=["segments"]), list(SEGMENTS))


def test_segment_links_keep_the_period_and_comparison(demo: Engine) -> None:
    html = render_page(demo, "segments", QUARTER)
    keep = "preset=this_quarter&amp;today=2026-11-24&amp;compare=previous"
    for s in SEGMENTS:
        # the name (card heading and table column) opens the segment-filtered portfolio
        assert html.count(f'href="portfolio.ipynb?{keep}&amp;segment={s}"') >= 3, s
        # the bars of the small multiples open the metric's dashboard for the segment
        assert f'xlink:href="retention.ipynb?{keep}&amp;segment={s}"' in html, s
    assert f'href="accounts.ipynb?{keep}&amp;segment=SMB&amp;list=all"' in html


def test_best_and_worst_per_row(demo: Engine) -> None:
    html = render_page(demo, "segments", QUARTER)
    segs = compute_all(demo, QUARTER_PERIOD, areas=["segments"])["segments"]
    for key, better in (("avg_health", "up"), ("nrr", "up"), ("tickets_per_account", "down")):
        values = {s: segs[s][key] for s in SEGMENTS}
        best, worst = rank(values, better)
        assert best is not None and worst is not None
        row = re.search(rf'<tr data-row="segments.{key}">(.*?)</tr>', html)
        assert row is not None
        cells = re.findall(r"<td[^>]*>", row.group(1))
        assert 'ecc-best"' in cells[SEGMENTS.index(best)], key
        assert 'ecc-worst"' in cells[SEGMENTS.index(worst)], key
        assert sum("ecc-best" in c for c in cells) == 1
    # counts that follow segment size are not ranked
    row = re.search(r'<tr data-row="segments.arr">(.*?)</tr>', html)
    assert row is not None and "ecc-best" not in row.group(1)


def test_rank() -> None:
    assert rank({"A": 1.0, "B": 3.0, "C": 2.0}, "up") == ("B", "A")
    assert rank({"A": 1.0, "B": 3.0, "C": 2.0}, "down") == ("A", "B")
    assert rank({"A": 1.0, "B": None, "C": None}, "up") == (None, None)  # one value
    assert rank({"A": 2.0, "B": 2.0}, "up") == (None, None)  # a tie everywhere
    assert rank({"A": 1.0, "B": 3.0}, "") == (None, None)  # not ranked


def test_a_segment_filter_says_the_others_are_outside_it(demo: Engine) -> None:
    html = render_page(demo, "segments", QUARTER + "&segment=SMB")
    want = compute_all(
        demo, QUARTER_PERIOD, compare="previous", scope=Scope(segment="SMB"), areas=["segments"]
    )
    check(html, want, ["SMB"])  # no zero cards for Enterprise and Mid-market
    assert "Filtered to <strong>SMB</strong>" in html
    assert html.count("not in the filter") == 2
    keep = "preset=this_quarter&amp;today=2026-11-24&amp;compare=previous"
    assert f'href="segments.ipynb?{keep}"' in html  # back to all three
    assert "ecc-best" not in html.split("<tbody>", 1)[1]  # nothing to rank against
