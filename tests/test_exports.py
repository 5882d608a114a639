"""Issue 18, part 6: an Excel export holds everything on screen and more — every row of a
long list the page cuts (the accounts list, a CSM's book, an account's activities and
tickets) — and describes its filters in words: the CSM by name, never by id, and the
page's own filters (the alerts' severity and status, the list shown)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, func, select

from ecc.demo import build_demo
from ecc.reports.build import export_page
from ecc.schema import activities, csms, customers
from ecc.ui.static import render_page
from ecc.ui.view import parse_query

TODAY = date(2026, 11, 24)
BASE = "preset=this_quarter&compare=previous&today=2026-11-24"


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def sheets(path: Path) -> dict[str, list[list[Any]]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def about(book: dict[str, list[list[Any]]]) -> dict[str, str]:
    return {row[0]: row[1] for row in book["About"]}


def account_links(html: str) -> int:
    return len(re.findall(r'href="account\.ipynb\?[^"]*customer=', html))


def test_the_accounts_list_export_holds_every_row_the_page_cuts(
    demo: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecc.ui.pages.accounts as page

    monkeypatch.setattr(page, "LIST_LIMIT", 5)  # the page shows 5 rows of a long list
    query = f"{BASE}&list=all"
    html = render_page(demo, "accounts", query)
    assert account_links(html) == 5
    book = sheets(export_page(demo, "accounts", parse_query(query), "xlsx", tmp_path))
    rows = book["accounts.rows"][1:]
    total = next(r[2] for r in book["KPIs"][1:] if r[1] == "accounts.total")
    assert len(rows) == total > 100  # all of them
    assert len({r[0] for r in rows}) == len(rows)  # each account once
    assert about(book)["Filters"] == "list All active accounts"


def test_a_csm_book_export_holds_the_whole_book_and_names_the_csm(
    demo: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecc.ui.pages.csm as page

    monkeypatch.setattr(page, "LIST_LIMIT", 3)
    with demo.connect() as conn:
        cid, name, size = conn.execute(
            select(csms.c.csm_id, csms.c.name, func.count())
            .join(customers, customers.c.csm_id == csms.c.csm_id)
            .group_by(csms.c.csm_id, csms.c.name)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    query = f"{BASE}&csm={cid}"
    assert account_links(render_page(demo, "csm", query)) == 3
    book = sheets(export_page(demo, "csm", parse_query(query), "xlsx", tmp_path))
    rows = book["book.rows"][1:]
    total = next(r[2] for r in book["KPIs"][1:] if r[1] == "book.total")
    assert len(rows) == total > 3
    assert about(book)["Filters"] == f"CSM {name}"
    assert cid not in about(book)["Filters"]
    assert size >= total  # the book: the CSM's active customers


def test_an_account_export_holds_all_its_activities(
    demo: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecc.ui.pages.account as page

    monkeypatch.setattr(page, "RECENT", 2)
    with demo.connect() as conn:
        customer, n = conn.execute(
            select(activities.c.customer_id, func.count())
            .where(activities.c.occurred_on <= TODAY)
            .group_by(activities.c.customer_id)
            .order_by(func.count().desc(), activities.c.customer_id)
            .limit(1)
        ).one()
        name = conn.execute(
            select(customers.c.name).where(customers.c.customer_id == customer)
        ).scalar_one()
    query = f"{BASE}&customer={customer}"
    book = sheets(export_page(demo, "account", parse_query(query), "xlsx", tmp_path))
    assert n > 2 and len(book["account.activities"]) - 1 == n
    assert about(book)["Filters"] == f"account {name}"


def test_the_alerts_export_says_its_own_filters(demo: Engine, tmp_path: Path) -> None:
    from ecc.alerts.evaluate import run_range

    assert run_range(demo, date(2026, 10, 1), TODAY).new
    query = f"{BASE}&severity=high&status=all"
    book = sheets(export_page(demo, "alerts", parse_query(query), "xlsx", tmp_path))
    assert about(book)["Filters"] == "severity high, open and acknowledged alerts"
    open_only = sheets(
        export_page(demo, "alerts", parse_query(f"{BASE}&segment=SMB"), "xlsx", tmp_path)
    )
    assert about(open_only)["Filters"] == "segment SMB, open alerts only"
