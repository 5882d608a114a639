"""The renewals page (US-004) shows the numbers `ecc metrics` gives for the same view,
names customers and links them to their account page with the filters kept."""

from __future__ import annotations

import json
import re
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
from ecc.ui.pages.renewals import sort_key
from ecc.ui.static import render_page
from ecc.ui.view import parse_query, validate

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


def test_renewals_page_matches_ecc_metrics_and_links_customers(demo: Engine) -> None:
    q = f"preset=this_quarter&compare=previous&today={TODAY}"
    html = render_page(demo, "renewals", q)
    page, result = parse(html), expected(demo, q)
    assert_numbers_match(page, result)
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
        page, result = parse(html), expected(demo, q)
        assert_numbers_match(page, result)
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
