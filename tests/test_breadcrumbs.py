"""The account page's breadcrumbs tell the way the viewer came: the list or dashboard
that linked to it, with the filters kept; words from the URL are never shown."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine

from ecc.demo import build_demo
from ecc.ui.static import render_page

TODAY = date(2026, 11, 24)
VIEW = "preset=this_quarter&today=2026-11-24&segment=SMB"


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=80, seed=2, today=TODAY)
    return engine


def _crumbs(html: str) -> list[tuple[str, str | None]]:
    trail = re.search(r'<div class="ecc-crumbs">(.*?)</div>', html)
    assert trail is not None
    out: list[tuple[str, str | None]] = []
    for part in trail.group(1).split(" › "):
        m = re.match(r'<a href="([^"]*)"[^>]*>(.*?)</a>', part)
        out.append((m.group(2), m.group(1).replace("&amp;", "&")) if m else (part, None))
    return out


def _first_account_link(html: str) -> str:
    m = re.search(r'href="(account\.ipynb\?[^"]*)"', html)
    assert m is not None
    return m.group(1).replace("&amp;", "&")


@pytest.mark.parametrize(
    ("page", "query", "crumb", "to"),
    [
        ("renewals", VIEW, "Renewals", "renewals.ipynb?"),
        ("risk", VIEW, "Risk", "risk.ipynb?"),
        ("accounts", VIEW + "&list=critical", "Critical accounts", "accounts.ipynb?"),
        ("accounts", VIEW + "&list=all", "All accounts", "accounts.ipynb?"),
    ],
)
def test_the_middle_crumb_names_where_the_link_came_from(
    demo: Engine, page: str, query: str, crumb: str, to: str
) -> None:
    link = _first_account_link(render_page(demo, page, query))
    crumbs = _crumbs(render_page(demo, "account", link.split("?", 1)[1]))
    assert [c[0] for c in crumbs[:2]] == ["Overview", "Segment: SMB"]
    label, href = crumbs[2]
    assert label == crumb and href is not None and href.startswith(to)
    assert "segment=SMB" in href and "preset=this_quarter" in href
    assert crumbs[-1][1] is None  # the account itself


def test_an_unknown_origin_falls_back_to_the_at_risk_list(demo: Engine) -> None:
    link = _first_account_link(render_page(demo, "risk", VIEW))
    query = link.split("?", 1)[1].replace("came=risk", "came=%3Cscript%3Eevil")
    html = render_page(demo, "account", query)
    assert _crumbs(html)[2][0] == "Accounts at risk"
    assert "evil" not in html.split('<div class="ecc-crumbs">')[1].split("</div>")[0]


def test_the_account_page_lists_the_tickets_opened_up_to_the_end_day(engine: Engine) -> None:
    """On both databases (a ticket's time compared with the day after the end)."""
    from ecc.drilldown import account_detail
    from tests.support.builders import seed

    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "c1"}],
        arr_events=[
            {"customer_id": "c1", "event_date": "2025-01-01", "kind": "new", "arr_delta": "100"}
        ],
        support_tickets=[
            {"ticket_id": "t_end", "customer_id": "c1", "opened_at": "2026-11-24T23:59:59"},
            {"ticket_id": "t_next", "customer_id": "c1", "opened_at": "2026-11-25T00:00:00"},
            {"ticket_id": "t_before", "customer_id": "c1", "opened_at": "2026-11-01T08:00:00"},
        ],
    )
    with engine.connect() as conn:
        detail = account_detail(conn, "c1", TODAY)
    assert [t["ticket_id"] for t in detail["tickets"]] == ["t_end", "t_before"]
