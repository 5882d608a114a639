"""Issue 20 (started): every page passes axe-core's WCAG 2.0/2.1 A and AA rules. Here the
pages as the server renders them (the first paint and the reports' HTML: every dashboard
and drill-down, with and without a comparison, at a laptop's and a phone's width); the
live pages, with their widgets, in tests/test_browser.py. Charts are named by what they
show and their headline; colour is never the only signal of a link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.db import make_engine
from ecc.ui.pages import PAGE_MODULES
from ecc.ui.static import render_page
from tests.support.axe import need_axe, violations
from tests.support.builders import demo_sqlite
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, need_chromium

TODAY = date(2026, 11, 24)
WITH = "preset=this_quarter&compare=previous&today=2026-11-24"
WITHOUT = "preset=this_quarter&compare=none&today=2026-11-24"
PAGES = PAGE_MODULES  # every dashboard and drill-down


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = demo_sqlite(tmp_path_factory.mktemp("a11y"), customers=200, seed=7, today=TODAY)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_chromium()
    need_axe()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _drill(engine: Engine) -> str:
    """A customer and its CSM for the account and CSM pages."""
    from sqlalchemy import select

    from ecc.schema import customers

    with engine.connect() as conn:
        row = conn.execute(
            select(customers.c.customer_id, customers.c.csm_id).order_by(customers.c.customer_id)
        ).first()
    assert row is not None
    return f"customer={row.customer_id}&csm={row.csm_id}"


@pytest.mark.parametrize("query", [WITH, WITHOUT], ids=["compared", "not-compared"])
def test_every_page_passes_wcag_aa_at_laptop_and_phone_width(
    demo: Engine, browser: Any, tmp_path: Path, query: str
) -> None:
    drill = _drill(demo)
    found: list[str] = []
    for name in PAGES:
        html = render_page(demo, name, f"{query}&{drill}" if name in ("account", "csm") else query)
        path = tmp_path / f"{name}.html"
        path.write_text(html)
        for width in (1440, 390):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(path.as_uri())
            found += [f"{name} at {width} px: {v}" for v in violations(page)]
            page.close()
    assert found == [], "\n".join(found)


def test_a_chart_is_named_by_what_it_shows_and_its_headline(demo: Engine) -> None:
    risk = render_page(demo, "risk", WITH)
    names = [
        unescape(n)
        for n in re.findall(r'<div class="ecc-chart"><svg role="img" aria-label="([^"]+)"', risk)
    ]
    assert len(names) == 1
    assert re.fullmatch(
        r"ARR at risk of the \d+ most exposed CSMs; highest: .+, \$[\d.]+[KM]?; the "
        r"comparison period's values are marked\.",
        names[0],
    ), names[0]
    # every chart of every dashboard is one named image; a link on its marks is out of the
    # Tab order, and its twin (the same address) is a named link outside the chart
    for name in ("portfolio", "retention", "renewals", "expansion", "performance", "segments"):
        html = render_page(demo, name, WITH)
        charts = re.findall(r'<div class="ecc-chart"><svg( role="img" aria-label="[^"]+")?', html)
        assert charts and all(charts), name
        drawn = re.findall(r'<div class="ecc-chart">.*?</svg></div>', html, re.S)
        assert len(drawn) == len(charts), name
        rest = html
        for svg in drawn:
            rest = rest.replace(svg, "")
            assert "<a " not in svg.replace('<a tabindex="-1" ', ""), name
            for target in re.findall(r'xlink:href="([^"]+)"', svg):
                assert f'href="{target}"' in rest, (name, unescape(target))


def test_a_table_that_scrolls_sideways_is_reachable_by_keyboard(demo: Engine) -> None:
    html = render_page(demo, "performance", WITH)
    assert '<div class="ecc-scroll" tabindex="0"><table class="ecc-table ecc-leaderboard">' in html


def _spoken_money(value: float) -> str:
    """$44.86M said the way the card's sentence says it, written here from the number."""
    v = abs(value)
    if v >= 1_000_000:
        words = f"{v / 1_000_000:.2f} million dollars"
    elif v >= 10_000:
        words = f"{v / 1_000:.1f} thousand dollars"
    else:
        words = f"{v:,.0f} dollars"
    return ("minus " if value < 0 else "") + words


def _first_line(snapshot: str) -> str:
    return snapshot.splitlines()[0].removeprefix("- text: ").strip()


def test_kpi_cards_and_summary_tiles_are_announced_as_one_sentence(
    demo: Engine, browser: Any, tmp_path: Path
) -> None:
    from ecc.metrics import compute_all
    from ecc.periods import Period

    quarter = Period(date(2026, 10, 1), TODAY, "this_quarter")
    want = compute_all(demo, quarter, compare="previous", areas=["portfolio", "retention"])
    arr, before = want["portfolio"]["arr"], want["comparison_values"]["portfolio"]["arr"]
    assert arr != before
    way = "up" if arr > before else "down"
    sentence = (
        f"ARR, {_spoken_money(arr)}, {way} {_spoken_money(abs(arr - before))} vs previous period"
    )
    read: dict[str, str] = {}
    for name in ("portfolio", "summary"):
        path = tmp_path / f"{name}.html"
        path.write_text(render_page(demo, name, WITH))
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(path.as_uri())
        read[name] = page.locator('[data-metric="portfolio.arr"]').first.aria_snapshot()
        # no card is read as "$", "%" or an arrow: each is a sentence; nor a tile's change
        # or its trend line ("from 2.39 million dollars to ...")
        for card in page.locator(".ecc-card").all():
            said = _first_line(card.aria_snapshot())
            assert not re.search(r"[$%▲▼■]", said), said
        for tile in page.locator(".ecc-tile").all():
            said = tile.aria_snapshot()
            assert not re.search(r"[▲▼■]", said), said
            assert not re.search(r"img .*[$%]", said), said
        page.close()
    # the card: the sentence, then its definition behind the "i"
    assert _first_line(read["portfolio"]) == sentence, read["portfolio"]
    # the tile is a link named by the sentence with its state after the title
    tile = read["summary"].splitlines()[0]
    said = (
        rf"\- 'link \"ARR, (improving|worsening|steady), {re.escape(_spoken_money(arr))}, {way} "
        rf"{re.escape(_spoken_money(abs(arr - before)))} vs previous period\. Customers \d+ "
    )
    assert re.match(said, tile), tile


def test_a_chart_without_a_table_beside_it_has_its_numbers_behind_show_data(
    demo: Engine, browser: Any, tmp_path: Path
) -> None:
    drill = _drill(demo)
    path = tmp_path / "account.html"
    path.write_text(render_page(demo, "account", f"{WITH}&{drill}"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    data = page.locator("details.ecc-data")
    assert data.count() == 1
    table = data.locator("table")
    assert not table.is_visible()
    summary = data.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")  # by keyboard alone
    assert table.is_visible()
    rows = table.locator("tbody tr").all_inner_texts()
    # one row per scoring date in the last year, the latest first, each a score
    assert len(rows) > 3
    assert all(re.fullmatch(r"\w{3} \d{1,2}, \d{4}\t\d{1,3}\.\d", r) for r in rows), rows
    page.close()
    # the performance trends: a table each, a column per CSM line
    html = render_page(demo, "performance", WITH)
    assert html.count('<details class="ecc-data">') == 2
    assert "average health of each CSM at each month end" in html
