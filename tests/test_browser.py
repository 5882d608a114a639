"""The dashboards in a real browser: Chromium (Playwright) against a preheated Voilà server.

Each page loads with no console error and no request to another host, its KPI values
equal `ecc metrics` for the same parameters, filters update the page and the URL, the
drill-down path keeps the filters, the back button works, and a 390 px phone screen
has no horizontal scroll. Screenshots land in outputs/screenshots/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ecc.db import make_engine
from ecc.ui.pages import load_all
from tests.support.axe import need_axe, violations
from tests.support.builders import demo_sqlite
from tests.support.pagecheck import computed_for, mismatches
from tests.support.servers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LIVE_KPI,
    SHOTS,
    need_chromium,
    server_log_tail,
    voila_server,
)

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_sqlite(tmp_path_factory.mktemp("browser"), customers=300, seed=9, today=TODAY)


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_chromium()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with voila_server(db_url, log) as base:
        yield base


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    need_axe()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Tab:
    """A page with its console errors and off-host requests recorded."""

    def __init__(self, browser: Any, width: int = 1280) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.external: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)

    def _request(self, r: Any) -> None:
        if not r.url.startswith(("http://127.0.0.1", "blob:", "data:", "about:")):
            self.external.append(r.url)

    def open(self, url: str) -> float:
        started = time.perf_counter()
        self.page.goto(url, wait_until="commit", timeout=90_000)
        # generous: the test server starts a preheated kernel per notebook (about twenty
        # with the other module's server) on two cores, and a page whose kernel is still
        # starting waits for it. The live page: the kernel's widgets, not the first paint
        try:
            self.page.wait_for_selector(LIVE_KPI, timeout=180_000)
        except PlaywrightTimeout:
            said = self.page.evaluate("document.body ? document.body.innerText : ''")
            raise AssertionError(
                f"{url}: no live KPI after 180 s. The page said: {said[:1500]!r}\n"
                f"Console errors: {self.errors}\nThe server's log:\n{server_log_tail(url)}"
            ) from None
        return time.perf_counter() - started

    def html(self) -> str:
        return str(self.page.content())

    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlparse(self.page.url).query).items()}


def expected_for(db_url: str, query: dict[str, str], page: str | None = None) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        return computed_for(engine, query, page)
    finally:
        engine.dispose()


NAV_PAGES = [p.name for p in load_all().values() if p.nav]


def test_the_first_paint_carries_the_numbers_before_any_kernel_runs(
    browser: Any, server: str, db_url: str
) -> None:
    """Issue 16: the page Voilà streams already holds the view's numbers, rendered by the
    server from the cache; in the browser the widgets then take its place."""
    import urllib.request

    query = {"preset": "this_quarter", "compare": "previous"}
    url = f"{server}/voila/render/risk.ipynb?preset=this_quarter&compare=previous"
    with urllib.request.urlopen(url, timeout=180) as response:  # no script runs here
        streamed = response.read().decode()
    start = streamed.index('<div id="ecc-first-paint">')
    paint = streamed[start : streamed.index("<script>", start)]
    assert "data-metric" in paint
    assert mismatches(paint, expected_for(db_url, query, "risk")) == []
    tab = Tab(browser)
    beacons: list[int] = []  # the page tells the server its numbers are on screen
    tab.page.on(
        "response", lambda r: beacons.append(r.status) if "/ecc/painted/" in r.url else None
    )
    tab.open(url)
    assert tab.page.locator("#ecc-first-paint").count() == 0  # replaced by the widgets
    assert beacons == [204]
    assert tab.errors == []
    tab.page.close()


@pytest.mark.parametrize("name", NAV_PAGES)
def test_dashboard_loads_offline_with_the_numbers_of_ecc_metrics(
    browser: Any, server: str, db_url: str, name: str
) -> None:
    tab = Tab(browser)
    tab.open(f"{server}/voila/render/{name}.ipynb")
    tab.page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SHOTS / f"{name}-laptop.png"), full_page=True)
    assert tab.errors == []
    assert tab.external == []
    # the page wrote its (normalised) view into the URL: compute the same thing
    assert tab.query().get("preset") == "this_quarter"
    assert mismatches(tab.html(), expected_for(db_url, tab.query())) == []
    # WCAG 2.0/2.1 A and AA, with the widgets (issue 20)
    assert violations(tab.page) == []
    # a phone: no horizontal scroll
    tab.page.set_viewport_size({"width": 390, "height": 844})
    tab.page.wait_for_timeout(300)
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 390
    tab.page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    assert violations(tab.page) == []
    tab.page.close()


def test_changing_the_preset_updates_numbers_and_url(
    browser: Any, server: str, db_url: str
) -> None:
    tab = Tab(browser)
    tab.open(f"{server}/voila/render/risk.ipynb")
    sel = tab.page.locator("select").first  # Period
    before = tab.page.get_attribute('[data-metric="risk.save_plays.success_rate"]', "data-value")
    sel.select_option(label="Year to date")
    tab.page.wait_for_function("location.search.includes('preset=ytd')", timeout=30_000)
    tab.page.wait_for_function(
        "document.querySelector('.ecc-range').textContent.startsWith('Jan 1')", timeout=30_000
    )
    assert tab.query()["preset"] == "ytd"
    assert mismatches(tab.html(), expected_for(db_url, tab.query())) == []
    after = tab.page.get_attribute('[data-metric="risk.save_plays.success_rate"]', "data-value")
    assert before != after  # a year of closed save plays differs from a quarter's
    # the back button restores the previous view
    tab.page.go_back()
    tab.page.wait_for_function("!location.search.includes('preset=ytd')", timeout=30_000)
    tab.page.wait_for_selector("[data-metric]", timeout=90_000)
    tab.page.wait_for_function(
        "!document.querySelector('.ecc-range').textContent.startsWith('Jan 1')", timeout=30_000
    )
    assert (
        tab.page.get_attribute('[data-metric="risk.save_plays.success_rate"]', "data-value")
        == before
    )
    assert tab.errors == []
    tab.page.close()


def test_drill_down_keeps_the_filters_and_breadcrumbs_lead_back(browser: Any, server: str) -> None:
    tab = Tab(browser)
    tab.open(f"{server}/voila/render/portfolio.ipynb?preset=ytd&compare=yoy")
    # overview -> segment
    tab.page.click("section.ecc-section >> text=SMB")
    tab.page.wait_for_url("**/portfolio.ipynb?*segment=SMB*", timeout=60_000)
    tab.page.wait_for_selector("[data-metric]", timeout=90_000)
    q = tab.query()
    assert (q["preset"], q["compare"], q["segment"]) == ("ytd", "yoy", "SMB")
    # segment -> ARR at risk -> the at-risk list
    tab.page.click('[data-metric="risk.arr_at_risk"] .value a')
    tab.page.wait_for_url("**/accounts.ipynb?*", timeout=60_000)
    tab.page.wait_for_selector("table.ecc-table", timeout=90_000)
    q = tab.query()
    assert (q["preset"], q["compare"], q["segment"], q["list"]) == ("ytd", "yoy", "SMB", "at_risk")
    # list -> account
    tab.page.click("table.ecc-table tbody tr:first-child td:first-child a")
    tab.page.wait_for_url("**/account.ipynb?*", timeout=60_000)
    tab.page.wait_for_selector("[data-metric]", timeout=90_000)
    q = tab.query()
    assert q["customer"] and (q["preset"], q["segment"]) == ("ytd", "SMB")
    # breadcrumb back to the overview keeps the date range and comparison
    tab.page.click(".ecc-crumbs >> text=Overview")
    tab.page.wait_for_url("**/summary.ipynb?*", timeout=60_000)
    q = tab.query()
    assert (q["preset"], q["compare"]) == ("ytd", "yoy") and "segment" not in q
    # and the browser's back button returns to the account
    tab.page.go_back()
    tab.page.wait_for_url("**/account.ipynb?*", timeout=60_000)
    assert tab.external == []
    tab.page.close()


def _tab_to(page: Any, test: str, limit: int = 400) -> None:
    """Press Tab until the focused element passes ``test`` (JavaScript on ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"(() => {{ const el = document.activeElement; return !!el && ({test}); }})()"
        ):
            return
    raise AssertionError(f"no element with {test} within {limit} presses of Tab")


def _focus_ring(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.activeElement).outlineStyle"))


def test_overview_to_an_account_by_keyboard_alone(browser: Any, server: str) -> None:
    tab = Tab(browser)
    tab.open(f"{server}/voila/render/summary.ipynb?preset=this_quarter&compare=previous")
    # the first stop of the keyboard: past the navigation and filters, to the numbers
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("document.activeElement.textContent") == "Skip to the numbers"
    assert _focus_ring(tab.page) != "none"
    tab.page.keyboard.press("Enter")
    assert tab.page.evaluate("document.activeElement.id") == "ecc-numbers"
    # overview -> a segment: the segment filter, chosen with the arrow keys
    _tab_to(tab.page, "el.tagName === 'SELECT' && [...el.options].some(o => o.text === 'SMB')")
    assert _focus_ring(tab.page) != "none"
    tab.page.keyboard.press("ArrowDown")  # All segments -> Enterprise
    tab.page.wait_for_url("**/summary.ipynb?*segment=Enterprise*", timeout=60_000)
    # segment -> the ARR at risk tile -> Risk, for Enterprise
    _tab_to(tab.page, "el.matches('a.ecc-tile[data-metric=\"risk.arr_at_risk\"]')")
    assert _focus_ring(tab.page) != "none"
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**/risk.ipynb?*segment=Enterprise*", timeout=60_000)
    tab.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    # risk -> the at-risk list
    _tab_to(tab.page, "el.matches('#rendered_cells [data-metric=\"risk.arr_at_risk\"] .value a')")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**/accounts.ipynb?*list=at_risk*", timeout=60_000)
    tab.page.wait_for_selector("#rendered_cells table.ecc-table", timeout=180_000)
    # the list -> its first account
    _tab_to(
        tab.page, "el.matches('#rendered_cells table.ecc-table tbody a[href*=\"account.ipynb\"]')"
    )
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**/account.ipynb?*", timeout=60_000)
    tab.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    q = tab.query()
    assert q["customer"] and (q["segment"], q["list"]) == ("Enterprise", "at_risk")
    crumbs = tab.page.inner_text("#rendered_cells .ecc-crumbs")
    assert "Segment: Enterprise" in crumbs and "Accounts at risk" in crumbs
    assert tab.errors == []
    tab.page.close()


def test_a_bad_url_parameter_shows_a_message_and_the_default_view(
    browser: Any, server: str
) -> None:
    tab = Tab(browser)
    tab.open(f"{server}/voila/render/portfolio.ipynb?segment=Retail&preset=ytd")
    msg = tab.page.text_content(".ecc-message") or ""
    assert "unknown segment 'Retail'" in msg
    assert "Traceback" not in tab.html()
    # the address settles on the valid part of the request (the waiting kernel may show
    # the default view's address for a moment under load)
    tab.page.wait_for_function(
        "new URLSearchParams(location.search).get('preset') === 'ytd'"
        " && !new URLSearchParams(location.search).has('segment')",
        timeout=90_000,  # as long as the other waits on a live page: the suite runs beside it
    )
    assert tab.query().get("preset") == "ytd" and "segment" not in tab.query()
    tab.page.close()


def test_the_address_cannot_pick_another_template_or_an_unbounded_range(
    browser: Any, server: str
) -> None:
    """Security finding 6: `?template=lab` would start a cold kernel per request outside
    the pools and load the stock template's CDN files; a range of centuries would tie up
    the database. Both are refused: the project's template, and a message."""
    tab = Tab(browser)
    tab.open(f"{server}/voila/render/portfolio.ipynb?template=lab&theme=dark")
    html = tab.html()
    assert "/voila/templates/ecc/static/ecc.css" in html
    assert "/voila/templates/lab/" not in html and tab.external == []
    tab.open(f"{server}/voila/render/portfolio.ipynb?start=0001-01-02&end=9999-12-31")
    msg = tab.page.text_content(".ecc-message") or ""
    assert "choose at most 10 years" in msg
    tab.page.close()


def test_the_server_refuses_other_hosts_and_posts_without_its_cookie(server: str) -> None:
    """Security finding 15: `ecc serve` has no login, so a page from another site must
    not reach it — neither by DNS rebinding (a foreign Host) nor by a cross-site post."""
    import urllib.error
    import urllib.request

    def status(url: str, headers: dict[str, str], method: str = "GET") -> int:
        data = b"" if method == "POST" else None
        req = urllib.request.Request(url, headers=headers, method=method, data=data)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            with e:  # its socket closed now, not whenever it is collected
                return int(e.code)

    port = server.rsplit(":", 1)[1]
    page = f"{server}/voila/render/portfolio.ipynb"
    assert status(page, {"Host": f"rebound.example:{port}"}) == 403
    assert status(f"{server}/voila/tree", {"Host": f"localhost:{port}"}) in (200, 302, 404)
    kernel = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert status(f"{server}/voila/api/shutdown/{kernel}", {}, "POST") == 403


def test_export_buttons_make_the_files_in_the_background(
    browser: Any, server: str, db_url: str, tmp_path: Any
) -> None:
    import base64
    import subprocess

    tab = Tab(browser)
    tab.open(f"{server}/voila/render/risk.ipynb?preset=ytd&segment=SMB")
    # by keyboard alone (issue 20): Tab to the button, a visible focus ring, Enter
    _tab_to(tab.page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'PDF'")
    assert _focus_ring(tab.page) != "none"
    tab.page.keyboard.press("Enter")
    # a progress line while the file is made, and the page answers meanwhile
    tab.page.wait_for_selector(".ecc-progress", timeout=10_000)
    assert tab.page.locator('[data-metric="risk.arr_at_risk"]').count() == 1
    link = tab.page.wait_for_selector(
        "a.ecc-download[href^='data:application/pdf']", timeout=90_000
    )
    assert link is not None
    name = link.get_attribute("download") or ""
    assert name.startswith("risk-ytd-2026-11-24-vs-previous-SMB") and name.endswith(".pdf")
    pdf = tmp_path / name
    pdf.write_bytes(base64.b64decode((link.get_attribute("href") or "").split(",", 1)[1]))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Jan 1, 2026 – Nov 24, 2026" in text and "segment SMB" in text
    _tab_to(tab.page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Excel'")
    tab.page.keyboard.press("Space")
    tab.page.wait_for_selector(
        "a.ecc-download[href^='data:application/vnd.openxmlformats']", timeout=90_000
    )
    assert tab.page.locator("a.ecc-download").count() == 2  # both files for this view
    assert tab.errors == [] and tab.external == []
    tab.page.close()


def test_a_viewer_sets_their_alert_mail_in_the_alerts_center(
    browser: Any, server: str, db_url: str
) -> None:
    """Issue 19, part 4: immediate / daily / weekly / off, for oneself, in the alerts
    center; kept for the person the page names."""
    from sqlalchemy import select

    from ecc.schema import alert_subscribers

    tab = Tab(browser)
    tab.open(f"{server}/voila/render/alerts.ipynb?viewer=vp.carol")
    tab.page.get_by_label("Your address").fill("carol@example.com")
    tab.page.locator(".ecc-alert-mail select").select_option(label="A weekly digest")
    tab.page.get_by_role("button", name="Save alert mail").click()
    said = tab.page.wait_for_selector(".ecc-alert-mail .ecc-done", timeout=30_000)
    assert said is not None and "carol@example.com: a weekly digest" in (said.inner_text() or "")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(alert_subscribers).where(alert_subscribers.c.name == "vp.carol")
            ).one()
    finally:
        engine.dispose()
    assert (row.email, row.cadence) == ("carol@example.com", "weekly")
    assert violations(tab.page) == []
    assert tab.errors == []
    tab.page.close()


def test_acknowledging_alerts_records_the_viewer_and_the_time(
    browser: Any, server: str, db_url: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from ecc.alerts.store import Fired, record
    from ecc.schema import customers, executive_alerts

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            who = conn.execute(select(customers.c.customer_id).limit(3)).scalars().all()
            ids: list[int] = []
            for back in range(30):  # three alerts of their own, the newest of the quarter
                if len(ids) == 3:
                    break
                ids += record(
                    conn,
                    [
                        Fired(
                            "major_expansion_closed",
                            "info",
                            "customer",
                            who[len(ids)],
                            TODAY - timedelta(days=back),
                            f"Browser test alert {len(ids) + 1}",
                        )
                    ],
                )
        tab = Tab(browser)
        tab.open(f"{server}/voila/render/alerts.ipynb?viewer=vp.alice")
        rows = [tab.page.locator(f".ecc-alert-{i}") for i in ids]
        rows[0].wait_for(timeout=30_000)
        for i in ids[:2]:  # by keyboard alone (issue 20): Tab to each box, Space to tick it
            _tab_to(tab.page, f"el.type === 'checkbox' && !!el.closest('.ecc-alert-{i}')")
            assert _focus_ring(tab.page) != "none"
            tab.page.keyboard.press("Space")
        before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        _tab_to(tab.page, "el.tagName === 'BUTTON' && el.textContent.includes('selected (2)')")
        tab.page.keyboard.press("Enter")
        tab.page.wait_for_selector(".ecc-done", timeout=30_000)
        after = datetime.now(UTC).replace(tzinfo=None)
        assert "Acknowledged 2 alerts as vp.alice" in (tab.page.text_content(".ecc-done") or "")
        a = executive_alerts.c
        with engine.connect() as conn:
            got = {
                r.alert_id: (r.acknowledged_by, r.acknowledged_at)
                for r in conn.execute(
                    select(a.alert_id, a.acknowledged_by, a.acknowledged_at).where(
                        a.acknowledged_at.is_not(None)
                    )
                )
            }
        assert set(got) == set(ids[:2])  # exactly those two
        assert all(by == "vp.alice" and before <= at <= after for by, at in got.values())
        # the page shows them acknowledged, in place; the third is still open
        for row in rows[:2]:
            assert "Acknowledged by vp.alice" in (row.text_content() or "")
        assert "Not acknowledged" in (rows[2].text_content() or "")
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.page.screenshot(path=str(SHOTS / "alerts-acknowledged.png"), full_page=True)
        # a page filter re-renders in place and goes into the URL (the viewer stays in it);
        # the acknowledged alerts have left the unacknowledged list
        tab.page.get_by_label("Severity").select_option(label="Info")
        tab.page.wait_for_function("location.search.includes('severity=info')", timeout=30_000)
        tab.page.wait_for_function(f"!document.querySelector('.ecc-alert-{ids[0]}')")
        assert tab.query()["viewer"] == "vp.alice"
        assert rows[2].count() == 1 and rows[1].count() == 0
        assert tab.errors == [] and tab.external == []
        tab.page.close()
    finally:
        engine.dispose()
