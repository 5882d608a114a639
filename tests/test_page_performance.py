"""The CSM performance dashboard (US-006) shows the numbers of ``ecc metrics`` for the same
view: the team-average cards and the leaderboard rows, ranked, coloured against the team
average in each metric's good direction, with links that keep the filters."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.demo import build_demo
from ecc.formatting import get
from ecc.metrics import compute_all
from ecc.metrics.scope import Scope
from ecc.periods import Period
from ecc.ui.pages.performance import CARD_KEYS, COLUMNS, dist_bar, versus
from ecc.ui.static import render_page

TODAY = date(2026, 11, 24)


class _Metrics(HTMLParser):
    """data-metric -> data-value, and the data-metric keys in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, Any] = {}
        self.order: list[str] = []
        self.classes: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        key = a.get("data-metric")
        if key is not None and "data-value" in a:
            raw = a["data-value"] or ""
            self.found[key] = json.loads(raw) if raw != "" else None
            self.order.append(key)
            self.classes[key] = a.get("class") or ""


def parse(html: str) -> _Metrics:
    p = _Metrics()
    p.feed(html)
    return p


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_cards_and_rows_are_the_numbers_of_compute_all(demo: Engine) -> None:
    views = [
        (
            "preset=this_quarter&compare=previous&today=2026-11-24",
            Period(date(2026, 10, 1), TODAY),
            Scope(),
        ),
        (
            "preset=ytd&compare=yoy&today=2026-11-24&segment=SMB",
            Period(date(2026, 1, 1), TODAY),
            Scope(segment="SMB"),
        ),
    ]
    for query, period, scope in views:
        html = render_page(demo, "performance", query)
        compare = "yoy" if "yoy" in query else "previous"
        want = compute_all(demo, period, compare=compare, scope=scope, areas=["csms"])
        page = parse(html)
        # every team-average card, with the compute_all value (null shown as empty)
        for k in CARD_KEYS:
            key = f"csms.team_average.{k}"
            expected = get(want, "csms", "team_average", k)
            assert key in page.found, (query, key)
            if expected is None:
                assert page.found[key] is None
            else:
                assert page.found[key] == pytest.approx(expected), (query, key)
        assert "vs previous period" in html or "vs last year" in html
        # every row, every column, with the row's value
        rows = {r["csm_id"]: r for r in want["csms"]["rows"]}
        assert rows, "the demo has CSMs"
        for cid, r in rows.items():
            for k, *_ in COLUMNS:
                got = page.found[f"csms.rows.{cid}.{k}"]
                assert got == (None if r[k] is None else pytest.approx(r[k])), (query, cid, k)
        # the leaderboard is in rank order: 1, 2, 3, ...
        ranks = [page.found[k] for k in page.order if k.endswith(".rank")]
        assert ranks == list(range(1, len(rows) + 1))
        order = [k.split(".")[2] for k in page.order if k.endswith(".rank")]
        assert order == [r["csm_id"] for r in sorted(rows.values(), key=lambda r: r["rank"])]
        # a segment filter keeps only that segment's CSMs
        if scope.segment:
            assert {r["segment"] for r in rows.values()} == {"SMB"}


def test_cells_are_coloured_against_the_team_average(demo: Engine) -> None:
    html = render_page(demo, "performance", "preset=ytd&compare=previous&today=2026-11-24")
    want = compute_all(demo, Period(date(2026, 1, 1), TODAY), areas=["csms"])["csms"]
    team, page = want["team_average"], parse(html)
    checked = 0
    for r in want["rows"]:
        for k, good in (("nrr", "up"), ("response_hours", "down"), ("arr", "neutral")):
            cls = page.classes[f"csms.rows.{r['csm_id']}.{k}"].split()
            if r[k] is None or good == "neutral" or r[k] == team[k]:
                assert "better" not in cls and "worse" not in cls
                continue
            higher = r[k] > team[k]
            assert ("better" in cls) == (higher == (good == "up")), (r["csm_id"], k)
            assert ("worse" in cls) != ("better" in cls)
            checked += 1
    assert checked >= 4  # the demo has a few CSMs on either side of the average
    # the team average row is pinned at the top, before rank 1
    assert html.index("Team average") < html.index('data-metric="csms.rows.')


def test_links_keep_the_filters_and_show_names(demo: Engine) -> None:
    query = "preset=ytd&compare=yoy&today=2026-11-24&segment=SMB"
    html = render_page(demo, "performance", query)
    want = compute_all(demo, Period(date(2026, 1, 1), TODAY), scope=Scope(segment="SMB"))
    first = min(want["csms"]["rows"], key=lambda r: r["rank"])
    keep = "preset=ytd&amp;today=2026-11-24&amp;compare=yoy&amp;segment=SMB"
    # the CSM's name (not the id) links to their page, filters kept
    link = f'<a href="csm.ipynb?{keep}&amp;csm={first["csm_id"]}" target="_self">'
    assert f"{link}{first['name']}</a>" in html
    # chart marks link there too (the SVG keeps the relative link)
    assert re.search(rf'xlink:href="csm\.ipynb\?[^"]*csm={first["csm_id"]}"', html)
    # a CSM filter says that the average is this CSM's own, and links back to the team
    one = render_page(demo, "performance", f"today=2026-11-24&csm={first['csm_id']}")
    assert "Filtered to one CSM" in one
    assert 'href="performance.ipynb?preset=this_quarter&amp;today=2026-11-24' in one


def test_versus_follows_each_metric_direction() -> None:
    assert versus(1.05, 1.0, "up") == "better"
    assert versus(0.95, 1.0, "up") == "worse"
    assert versus(3.0, 4.2, "down") == "better"  # faster replies
    assert versus(5.0, 4.2, "down") == "worse"
    assert versus(10, 5, "neutral") == ""  # book size is not judged
    assert versus(None, 1.0, "up") == "" and versus(1.0, None, "up") == ""
    assert versus(1.0, 1.0, "up") == ""


def test_distribution_bar_widths_are_the_shares() -> None:
    bar = dist_bar({"healthy": 0.5, "at_risk": 0.375, "critical": 0.125})
    assert 'class="healthy" style="width:50.0%"' in bar
    assert 'class="at_risk" style="width:37.5%"' in bar
    assert 'class="critical" style="width:12.5%"' in bar
    assert "healthy 50% · at risk 38% · critical 12%" in bar
    empty = dist_bar({"healthy": None, "at_risk": None, "critical": None})
    assert "no scored customer" in empty


def test_long_leaderboard_shows_the_top_ranks_and_links_to_all(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the demo's quarter has 3 CSMs: with caps of 2, the page shows a part of each list
    from ecc.ui.pages import performance

    query = "preset=this_quarter&compare=previous&today=2026-11-24"
    want = compute_all(demo, Period(date(2026, 10, 1), TODAY), compare="previous", areas=["csms"])
    rows = sorted(want["csms"]["rows"], key=lambda r: r["rank"])
    assert len(rows) == 3
    # at the real caps everything fits: no "Showing ..." line
    assert 'class="ecc-cap"' not in render_page(demo, "performance", query)

    monkeypatch.setattr(performance, "LEADERBOARD_TOP", 2)
    monkeypatch.setattr(performance, "HEALTH_TOP", 2)
    monkeypatch.setattr(performance, "TREND_TOP", 2)
    html = render_page(demo, "performance", query)
    page = parse(html)
    # ranks 1 and 2, each with every number of its row; rank 3 is left out
    ranks = [page.found[k] for k in page.order if k.endswith(".rank")]
    assert ranks == [1, 2]
    for r in rows[:2]:
        for k, *_ in COLUMNS:
            got = page.found[f"csms.rows.{r['csm_id']}.{k}"]
            assert got == (None if r[k] is None else pytest.approx(r[k])), (r["csm_id"], k)
    assert not any(k.startswith(f"csms.rows.{rows[2]['csm_id']}.") for k in page.found)
    # the team average and its cards still cover all 3 CSMs
    assert '<strong>Team average</strong> <span class="ecc-muted">(3 CSMs)</span>' in html
    for k in CARD_KEYS:
        assert f"csms.team_average.{k}" in page.found
    # the line says what is shown and links to every rank, filters kept
    keep = "preset=this_quarter&amp;today=2026-11-24&amp;compare=previous"
    assert (
        '<p class="ecc-cap" data-shown="2" data-total="3">Showing the top 2 of 3 CSMs. '
        f'<a href="performance.ipynb?{keep}&amp;list=all" target="_self">Show all 3 →</a></p>'
    ) in html
    # the health chart: the 2 largest books by ARR, said so, bars linking to the CSMs
    health = html[html.index("Portfolio health of the largest books") :]
    assert "The 2 largest books (by ARR) of 3 CSMs." in health
    largest = sorted(rows, key=lambda r: (-r["arr"], r["csm_id"]))[:2]
    linked = set(re.findall(r'xlink:href="csm\.ipynb\?[^"]*csm=(\w+)"', health))
    assert linked == {r["csm_id"] for r in largest}
    # the trends: the top 2 against the team average (dashed, no link)
    assert "The top 2 of 3 CSMs by rank, against the team average" in html
    assert "Team average (3 CSMs)</span>" in html

    # ?list=all: every rank, and a way back to the short list
    html = render_page(demo, "performance", query + "&list=all")
    page = parse(html)
    assert [page.found[k] for k in page.order if k.endswith(".rank")] == [1, 2, 3]
    assert (
        '<p class="ecc-cap" data-shown="3" data-total="3">Showing all 3 CSMs. '
        f'<a href="performance.ipynb?{keep}" target="_self">Show the first 2 only</a></p>'
    ) in html
