"""The renewals page (US-004) shows the numbers `ecc metrics` gives for the same view,
names customers and links them to their account page with the filters kept."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine, select

from ecc.demo import build_demo
from ecc.schema import customers
from ecc.ui.pages.renewals import sort_key
from ecc.ui.static import render_page
from tests.support.pagecheck import assert_numbers_match, computed_for, parse_page, query_of

TODAY = date(2026, 11, 24)

#: every number the page must carry, as METRICS.md key paths
KEYS = [
    "renewals.renewal_rate",
    "renewals.forecast_rate",
    "renewals.target",
    "renewals.late.arr",
    "renewals.late.count",
    *[f"renewals.upcoming.{d}.{k}" for d in ("d30", "d60", "d90") for k in ("arr", "count")],
    *[
        f"renewals.stages.{s}.{k}"
        for s in ("on_track", "at_risk", "renewed", "churned")
        for k in ("arr", "count")
    ],
]


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_renewals_page_matches_ecc_metrics_and_links_customers(demo: Engine) -> None:
    q = f"preset=this_quarter&compare=previous&today={TODAY}"
    html = render_page(demo, "renewals", q)
    page, result = parse_page(html), computed_for(demo, q)
    assert_numbers_match(page, result, KEYS)
    r = result["renewals"]
    # the demo has renewals due this quarter in every stage, and a target
    assert all(r["stages"][s]["count"] > 0 for s in ("on_track", "at_risk", "renewed"))
    assert r["target"] is not None

    with demo.connect() as conn:
        names = dict(conn.execute(select(customers.c.customer_id, customers.c.name)).all())
    account_links = [(h, t) for h, t in page.links if h.startswith("account.ipynb")]
    # one link per renewal due this quarter, in the page's order: the customer's NAME,
    # linking to their account page with the filters kept
    rows = sorted(r["due_this_quarter"], key=sort_key)
    assert len(account_links) == len(rows)
    for (href, text), row in zip(account_links, rows, strict=True):
        assert text == names[row["customer_id"]]
        assert query_of(href) == {
            "preset": "this_quarter",
            "compare": "previous",
            "today": TODAY.isoformat(),
            "customer": row["customer_id"],
            "came": "renewals",  # the account page's breadcrumb leads back here
        }
    # open at-risk renewals come first, then the other open ones by due date
    stages = [row["stage"] for row in rows]
    n_risk = r["stages"]["at_risk"]["count"]
    assert stages[:n_risk] == ["at_risk"] * n_risk
    open_dues = [row["due_on"] for row in rows if row["stage"] == "on_track"]
    assert open_dues == sorted(open_dues)
    # CSMs show by name and link to their page with the filters
    csm_links = [(h, t) for h, t in page.links if h.startswith("csm.ipynb")]
    assert csm_links and all(not t.startswith("CSM") for _, t in csm_links)
    assert all(query_of(h)["preset"] == "this_quarter" for h, _ in csm_links)
    # the target and the gap are spelled out
    assert re.search(r"target \d+\.\d% · ", html)


def test_renewals_page_with_filters(demo: Engine) -> None:
    for q in (
        "preset=ytd&compare=yoy&segment=SMB",
        "start=2026-01-01&end=2026-03-31&compare=none",
        "preset=this_quarter&csm=CSM001",
    ):
        q = f"{q}&today={TODAY}"
        html = render_page(demo, "renewals", q)
        page, result = parse_page(html), computed_for(demo, q)
        assert_numbers_match(page, result, KEYS)
        account_links = [h for h, _ in page.links if h.startswith("account.ipynb")]
        assert len(account_links) == len(result["renewals"]["due_this_quarter"]) > 0, q
        for href in account_links:
            kept = query_of(href)
            if "segment" in q:
                assert kept["segment"] == "SMB" and kept["preset"] == "ytd"
            elif "csm" in q:
                assert kept["csm"] == "CSM001"
            else:
                assert (kept["start"], kept["end"]) == ("2026-01-01", "2026-03-31")


def test_long_renewal_lists_show_the_first_and_link_to_all(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the demo's quarter: 18 open and 19 closed renewals due; a cap of 5 on each list
    from ecc.ui.pages import renewals

    q = f"preset=this_quarter&compare=previous&today={TODAY}"
    result = computed_for(demo, q)
    rows = sorted(result["renewals"]["due_this_quarter"], key=sort_key)
    open_rows = [r for r in rows if r["stage"] in ("on_track", "at_risk")]
    closed = [r for r in rows if r["stage"] not in ("on_track", "at_risk")]
    assert len(open_rows) > 5 and len(closed) > 5
    assert 'class="ecc-cap"' not in render_page(demo, "renewals", q)  # all fits under 25

    monkeypatch.setattr(renewals, "LIST_TOP", 5)
    html = render_page(demo, "renewals", q)
    page = parse_page(html)
    assert_numbers_match(page, result, KEYS)  # every KPI stays
    customers_shown = [query_of(h)["customer"] for h, _ in page.links if "customer=" in h]
    # the first 5 open ones (at risk first, then by due date), then the first 5 closed ones
    assert customers_shown == [r["customer_id"] for r in open_rows[:5] + closed[:5]]
    keep = f"preset=this_quarter&amp;today={TODAY}&amp;compare=previous"
    n_open, n_closed = len(open_rows), len(closed)
    assert (
        f'<p class="ecc-cap" data-shown="5" data-total="{n_open}">Showing the first 5 of '
        f'{n_open} open renewals. <a href="renewals.ipynb?{keep}&amp;list=open" '
        f'target="_self">Show all {n_open} →</a></p>'
    ) in html
    assert (
        f"Showing the first 5 of {n_closed} closed renewals. "
        f'<a href="renewals.ipynb?{keep}&amp;list=closed" target="_self">'
    ) in html
    assert f"{n_open} open (at risk first, then by due date)" in html

    # ?list=open: every open renewal, still 5 closed ones
    page = parse_page(render_page(demo, "renewals", q + "&list=open"))
    customers_shown = [query_of(h)["customer"] for h, _ in page.links if "customer=" in h]
    assert customers_shown == [r["customer_id"] for r in open_rows + closed[:5]]
    # ?list=closed: every closed renewal, shown unfolded
    html = render_page(demo, "renewals", q + "&list=closed")
    customers_shown = [
        query_of(h)["customer"] for h, _ in parse_page(html).links if "customer=" in h
    ]
    assert customers_shown == [r["customer_id"] for r in open_rows[:5] + closed]
    assert "<details class='ecc-more' open>" in html
    assert f"Showing all {n_closed} closed renewals." in html
