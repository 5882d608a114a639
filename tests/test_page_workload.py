"""The workload dashboard (US-007) shows the numbers of ``ecc metrics`` for the same view:
each CSM's utilization, the status counts, the rebalancing moves with customer and CSM
names linking to their pages (filters kept), and says so when no move is needed."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.demo import build_demo
from ecc.metrics import compute_all
from ecc.metrics.scope import Scope
from ecc.metrics.workload import summarize_rows
from ecc.periods import Period
from ecc.request import Request
from ecc.ui.pages import PageContext
from ecc.ui.pages.workload import by_utilization, recommendations
from ecc.ui.static import render_page
from ecc.ui.view import View
from tests.support.workload import team

TODAY = date(2026, 11, 24)
QUARTER = Period(date(2026, 10, 1), TODAY)


class _Metrics(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, Any] = {}
        self.order: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        key = a.get("data-metric")
        if key is not None and "data-value" in a:
            raw = a["data-value"] or ""
            self.found[key] = json.loads(raw) if raw != "" else None
            self.order.append(key)


def parse(html: str) -> _Metrics:
    p = _Metrics()
    p.feed(html)
    return p


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_rows_and_counts_are_the_numbers_of_compute_all(demo: Engine) -> None:
    html = render_page(demo, "workload", "preset=this_quarter&compare=previous&today=2026-11-24")
    want = compute_all(demo, QUARTER, compare="previous", areas=["workload"])
    w, page = want["workload"], parse(html)
    assert w["rows"], "the demo has active CSMs"
    # each row's utilization, in a table ordered busiest first
    for r in w["rows"]:
        got = page.found[f"workload.rows.{r['csm_id']}.utilization"]
        assert got == (None if r["utilization"] is None else pytest.approx(r["utilization"]))
    shown = [k.split(".")[2] for k in page.order if k.endswith(".utilization")]
    utils = {r["csm_id"]: r["utilization"] or 0 for r in w["rows"]}
    assert sorted(shown) == sorted(utils)
    assert [utils[c] for c in shown] == sorted(utils.values(), reverse=True)
    # the status counts, counted here from the rows: over > 1.0, under < 0.8
    over = sum(1 for r in w["rows"] if r["utilization"] is not None and r["utilization"] > 1)
    under = sum(1 for r in w["rows"] if r["utilization"] is not None and r["utilization"] < 0.8)
    balanced = sum(1 for r in w["rows"] if r["utilization"] is not None) - over - under
    assert page.found["workload.summary.over"] == over
    assert page.found["workload.summary.under"] == under
    assert page.found["workload.summary.balanced"] == balanced
    assert page.found["workload.summary.max_utilization"] == pytest.approx(max(utils.values()))
    assert page.found["workload.summary.moves"] == len(w["recommendations"])
    # the cards explain themselves and compare with the previous period
    assert "Active CSMs whose utilization is above 100%" in html
    assert "vs previous period" in html
    # a badge per row, coloured by status
    for status in {r["status"] for r in w["rows"] if r["status"]}:
        assert f'<span class="ecc-badge {status}">' in html


def test_moves_of_a_hand_made_team(engine: Engine) -> None:
    # tests/test_workload.py's team on 2026-01-01..03-31: s1 4 accounts / target 3 = 133%
    # (over), e1 ARR 12,000 / 10,000 = 120% (over), e2 80% and m1 100% (balanced), s2 60%
    # and e3 33% (under). Moves: c2 (300) s1 -> s2 and ec2 (4,000) e1 -> e3.
    team(engine)
    query = "start=2026-01-01&end=2026-03-31&compare=none"
    html = render_page(engine, "workload", query)
    page = parse(html)
    assert page.found["workload.rows.s1.utilization"] == pytest.approx(4 / 3)
    assert page.found["workload.rows.e1.utilization"] == pytest.approx(1.2)
    assert page.found["workload.rows.e2.utilization"] == pytest.approx(0.8)
    shown = [k.split(".")[2] for k in page.order if k.endswith(".utilization")]
    assert shown == ["s1", "e1", "m1", "e2", "s2", "e3"]  # 133%, 120%, 100%, 80%, 60%, 33%
    summary_keys = ("over", "balanced", "under", "max_utilization", "moves")
    got = {k: page.found[f"workload.summary.{k}"] for k in summary_keys}
    assert got == {
        "over": 2,
        "balanced": 2,
        "under": 2,
        "max_utilization": pytest.approx(4 / 3),
        "moves": 2,
    }
    assert "Rebalancing recommendations (2 moves)" in html
    assert "2 moves of $4,300 ARR from 2 CSMs to 2 CSMs." in html
    keep = "start=2026-01-01&amp;end=2026-03-31&amp;compare=none"
    for cid, name in (("c2", "Customer c2"), ("ec2", "Customer ec2")):
        link = (
            f'<a href="account.ipynb?{keep}&amp;customer={cid}&amp;came=workload" '
            f'target="_self">{name}</a>'
        )
        assert link in html
    for csm in ("s1", "s2", "e1", "e3"):
        assert f'<a href="csm.ipynb?{keep}&amp;csm={csm}" target="_self">CSM {csm}</a>' in html
    # utilization after the moves: s1 3/3 and 450/700 -> 100%; e1 1/2 and 8,000/10,000 ->
    # 80%; s2 3/4 and 900/1,000 -> 90%; e3 2/3 and 7,000/10,000 -> 70%
    for before, after in (("133%", "100%"), ("120%", "80%"), ("60%", "90%"), ("33%", "70%")):
        assert f"{before} → <strong>{after}</strong>" in html
    # drill-downs: at-risk accounts to the account list, renewals to the CSM's renewals
    # due in the next 90 days
    assert f'href="accounts.ipynb?{keep}&amp;csm=s1&amp;list=at_risk"' in html
    assert f'href="renewal_list.ipynb?{keep}&amp;csm=s1&amp;list=due90"' in html
    # bars of the utilization chart link to the CSM's page
    assert re.search(r'xlink:href="csm\.ipynb\?[^"]*csm=s1"', html)


def test_no_move_needed_says_so(demo: Engine) -> None:
    rows = compute_all(demo, QUARTER, areas=["workload"])["workload"]["rows"]
    calm = [r for r in rows if r["status"] in ("under", "balanced")]
    assert calm, "the demo has a CSM within capacity"
    cid = calm[0]["csm_id"]
    html = render_page(demo, "workload", f"today=2026-11-24&csm={cid}")
    assert "No moves needed: every CSM is within capacity." in html
    assert "Rebalancing recommendations (0 moves)" in html
    assert parse(html).found["workload.summary.over"] == 0


def _ctx(workload: dict[str, Any]) -> PageContext:
    req = Request(period=QUARTER, compare=None, scope=Scope(), today=TODAY)
    return PageContext(view=View(), req=req, data={"workload": workload}, conn=None)  # type: ignore[arg-type]


def test_summary_and_empty_states_from_hand_made_rows() -> None:
    rows = [
        {"csm_id": "A", "utilization": 1.25, "status": "over"},
        {"csm_id": "B", "utilization": 0.9, "status": "balanced"},
        {"csm_id": "C", "utilization": 0.5, "status": "under"},
        {"csm_id": "D", "utilization": None, "status": None},  # no targets
        {"csm_id": "E", "utilization": 1.0, "status": "balanced"},  # exactly 100%: balanced
    ]
    w: dict[str, Any] = {"rows": rows, "recommendations": []}
    s = summarize_rows(rows, 0)  # type: ignore[arg-type]
    assert s == {"over": 1, "balanced": 2, "under": 1, "max_utilization": 1.25, "moves": 0}
    # busiest first, the CSM without targets last
    assert [r["csm_id"] for r in by_utilization(rows)] == ["A", "E", "B", "C", "D"]
    # someone over capacity and no legal move: the page says why nothing moves
    w["summary"] = s
    text = recommendations(_ctx(w))
    assert "No move is possible under the rules: 1 CSM is over capacity" in text
    w["summary"] = dict(s, over=0)
    assert "No moves needed" in recommendations(_ctx(w))


def test_long_lists_show_the_busiest_and_link_to_all(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the hand-made team: 6 active CSMs, 2 moves touching 4 CSMs; caps of 3 and 1
    from ecc.ui.pages import workload as page_module

    team(engine)
    query = "start=2026-01-01&end=2026-03-31&compare=none"
    assert 'class="ecc-cap"' not in render_page(engine, "workload", query)  # all fits

    monkeypatch.setattr(page_module, "TABLE_TOP", 3)
    monkeypatch.setattr(page_module, "CHART_TOP", 3)
    monkeypatch.setattr(page_module, "MOVES_TOP", 1)
    html = render_page(engine, "workload", query)
    page = parse(html)
    # the table: the 3 busiest, with their utilization; the cards still count all 6
    shown = [k.split(".")[2] for k in page.order if k.endswith(".utilization")]
    assert shown == ["s1", "e1", "m1"]
    assert page.found["workload.rows.s1.utilization"] == pytest.approx(4 / 3)
    assert (page.found["workload.summary.over"], page.found["workload.summary.under"]) == (2, 2)
    keep = "start=2026-01-01&amp;end=2026-03-31&amp;compare=none"
    assert (
        '<p class="ecc-cap" data-shown="3" data-total="6">Showing the 3 busiest of 6 active '
        f'CSMs. <a href="workload.ipynb?{keep}&amp;list=all" target="_self">Show all 6 →</a>'
    ) in html
    # the chart: a bar (linking to the CSM) for each of the 3 busiest only, said so
    assert "The 3 busiest of 6 active CSMs (2 over capacity)." in html
    assert set(re.findall(r'xlink:href="csm\.ipynb\?[^"]*csm=(\w+)"', html)) == {"s1", "e1", "m1"}
    # the moves: 1 of 2 listed; the effect: the most involved CSM of the 4 (1 account each:
    # the busiest, s1); the lead still counts both moves
    assert "2 moves of $4,300 ARR from 2 CSMs to 2 CSMs." in html
    assert sum(f"customer={c}" in html for c in ("c2", "ec2")) == 1
    assert "Showing the first 1 of 2 moves (busiest CSMs first)." in html
    assert "133% → <strong>100%</strong>" in html and "120% → " not in html
    assert 'data-shown="1" data-total="4">Showing the 1 CSMs who give or take' in html

    # ?list=all: every CSM and every move; the chart stays short
    html = render_page(engine, "workload", query + "&list=all")
    page = parse(html)
    shown = [k.split(".")[2] for k in page.order if k.endswith(".utilization")]
    assert shown == ["s1", "e1", "m1", "e2", "s2", "e3"]
    assert all(f"customer={c}" in html for c in ("c2", "ec2"))
    assert (
        f'Showing all 6 active CSMs. <a href="workload.ipynb?{keep}" target="_self">'
        "Show the first 3 only</a>"
    ) in html
    assert len(set(re.findall(r'xlink:href="csm\.ipynb\?[^"]*csm=(\w+)"', html))) == 3
