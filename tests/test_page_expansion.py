"""The expansion page (US-005) shows the numbers `ecc metrics` gives for the same view,
names customers and links them to their account page with the filters kept."""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select

from ecc.demo import build_demo
from ecc.formatting import get
from ecc.metrics import compute_all
from ecc.schema import customers
from ecc.ui.static import render_page
from ecc.ui.view import parse_query, validate

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


class _Page(HTMLParser):
    """data-metric -> data-value pairs and every link (href, text) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-metric") is not None and "data-value" in a:
            self.metrics[str(a["data-metric"])] = a["data-value"] or ""
        if tag == "a" and a.get("href"):
            self._href, self._text = a["href"], []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


def parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def expected(engine: Engine, query: str) -> dict[str, Any]:
    with engine.connect() as conn:
        _, req = validate(conn, parse_query(query))
        return compute_all(conn, req.period, compare=req.compare, scope=req.scope)


def assert_numbers_match(page: _Page, result: dict[str, Any]) -> None:
    assert set(KEYS) <= set(page.metrics), set(KEYS) - set(page.metrics)
    for key, raw in page.metrics.items():
        want = get(result, *key.split("."))
        got = None if raw == "" else json.loads(raw)
        if want is None:
            assert got is None, key
        else:
            assert got == pytest.approx(want), key


def query_of(href: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(href).query).items()}


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_expansion_page_matches_ecc_metrics_and_links_customers(demo: Engine) -> None:
    q = f"preset=this_quarter&compare=previous&today={TODAY}"
    html = render_page(demo, "expansion", q)
    page, result = parse(html), expected(demo, q)
    assert_numbers_match(page, result)
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
        page, result = parse(html), expected(demo, q)
        assert_numbers_match(page, result)
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
