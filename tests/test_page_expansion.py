"""The expansion page (US-005) shows the numbers `ecc metrics` gives for the same view,
names customers and links them to their account page with the filters kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select

from ecc.demo import build_demo
from ecc.schema import customers
from ecc.ui.static import render_page
from tests.support.pagecheck import assert_numbers_match, computed_for, parse_page, query_of

TODAY = date(2026, 11, 24)

#: every number the page must carry, as METRICS.md key paths
KEYS = [
    "expansion.open_value",
    "expansion.expansion_arr",
    "expansion.target",
    "expansion.win_rate",
    "expansion.forecast_win_rate",
    *[
        f"expansion.by_type.{t}.{k}"
        for t in ("upsell", "cross_sell", "upgrade")
        for k in ("value", "count")
    ],
    *[
        f"expansion.by_stage.{s}.{k}"
        for s in ("identified", "qualified", "proposal", "negotiation")
        for k in ("value", "count")
    ],
]


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_expansion_page_matches_ecc_metrics_and_links_customers(demo: Engine) -> None:
    q = f"preset=this_quarter&compare=previous&today={TODAY}"
    html = render_page(demo, "expansion", q)
    page, result = parse_page(html), computed_for(demo, q)
    assert_numbers_match(page, result, KEYS)
    x = result["expansion"]
    assert x["target"] is not None and x["win_rate"] is not None
    assert len(x["top_opportunities"]) == 10

    with demo.connect() as conn:
        names = dict(conn.execute(select(customers.c.customer_id, customers.c.name)).all())
    account_links = [(h, t) for h, t in page.links if h.startswith("account.ipynb")]
    # the ten largest open opportunities, largest first: the customer's NAME linking to
    # the account page with the filters kept
    assert len(account_links) == 10
    for (href, text), opp in zip(account_links, x["top_opportunities"], strict=True):
        assert text == names[opp["customer_id"]]
        assert query_of(href) == {
            "preset": "this_quarter",
            "compare": "previous",
            "today": TODAY.isoformat(),
            "customer": opp["customer_id"],
            "came": "expansion",
        }
    amounts = [o["amount"] for o in x["top_opportunities"]]
    assert amounts == sorted(amounts, reverse=True)
    csm_links = [(h, t) for h, t in page.links if h.startswith("csm.ipynb")]
    assert len(csm_links) == 10 and all(not t.startswith("CSM") for _, t in csm_links)
    # actual vs forecast, and the target with its gap, are spelled out
    assert "forecast " in html and "target $" in html


def test_expansion_page_with_filters(demo: Engine) -> None:
    for q in (
        "preset=ytd&compare=yoy&segment=SMB",
        "start=2026-01-01&end=2026-03-31&compare=none",
        "preset=this_quarter&csm=CSM001",
    ):
        q = f"{q}&today={TODAY}"
        html = render_page(demo, "expansion", q)
        page, result = parse_page(html), computed_for(demo, q)
        assert_numbers_match(page, result, KEYS)
        account_links = [h for h, _ in page.links if h.startswith("account.ipynb")]
        assert len(account_links) == len(result["expansion"]["top_opportunities"]) > 0, q
        for href in account_links:
            kept = query_of(href)
            if "segment" in q:
                assert kept["segment"] == "SMB" and kept["preset"] == "ytd"
            elif "csm" in q:
                assert kept["csm"] == "CSM001"
            else:
                assert (kept["start"], kept["end"]) == ("2026-01-01", "2026-03-31")
