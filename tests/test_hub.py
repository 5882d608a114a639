"""The front door (FR-3) with the real thing: JupyterHub, configurable-http-proxy, the
dashboards service (preheated Voilà behind the hub's OAuth) and the share-links
service on loopback, started once for the module by ``ecc hub start``; Chromium
(Playwright) logs in as each role; plain HTTP and websocket clients probe the service
as a security boundary.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.web import create_signed_value
from tornado.websocket import websocket_connect

from ecc.db import make_engine
from ecc.share.links import create_link
from tests.support.axe import need_axe, violations
from tests.support.builders import demo_sqlite
from tests.support.hubstack import Stack, hub_stack, need_proxy
from tests.support.pagecheck import computed_for, mismatches
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, LIVE_KPI, SHOTS, need_chromium

# one stack for the module: with `-n 2 --dist loadgroup` all of it runs on one worker
pytestmark = pytest.mark.slow  # in the "servers" xdist group (conftest.py)
TODAY = date(2026, 11, 24)
SMTP_PASSWORD = "mail-s3cr3t"
KERNEL_WS = re.compile(r"/api/kernels/([0-9a-f-]{36})/channels")


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_sqlite(tmp_path_factory.mktemp("hubdb"), customers=300, seed=9, today=TODAY)


@pytest.fixture(scope="module")
def stack(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    need_chromium()
    need_proxy()
    # a mail server's password in the hub's environment: the services get it, the
    # dashboards' kernels must not (security finding 8)
    env = {
        "ECC_SMTP_URL": f"smtp://ops:{SMTP_PASSWORD}@127.0.0.1:9",
        "ECC_ORG_DOMAINS": "example.com",  # subscriptions to these addresses need no approval
    }
    folder = tmp_path_factory.mktemp("hub")
    with hub_stack(db_url, folder, extra_users={"dora": "sales"}, extra_env=env) as s:
        yield s


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visitor:
    """One person's browser (its own cookies), with console errors recorded."""

    def __init__(self, browser: Any, stack: Stack) -> None:
        self.stack = stack
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.kernels: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("websocket", self._websocket)
        self.pending: dict[Any, float] = {}  # requests sent and not yet answered
        self.page.on("request", lambda r: self.pending.__setitem__(r, time.monotonic()))
        self.page.on("requestfinished", lambda r: self.pending.pop(r, None))
        self.page.on("requestfailed", lambda r: self.pending.pop(r, None))

    def wait_for(self, selector: str, timeout: float) -> None:
        """Wait ``timeout`` seconds for ``selector``; if it never shows, fail with what the
        page says, the requests still unanswered and the end of the stack's log."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_selector(selector, timeout=timeout * 1000)
        except PlaywrightTimeout:
            now = time.monotonic()
            said = self.page.evaluate("document.body ? document.body.innerText : ''")
            waiting = [f"{now - t:.0f} s {r.method} {r.url}" for r, t in self.pending.items()]
            log = self.stack.log.read_text(errors="replace").splitlines()[-60:]
            raise AssertionError(
                f"no {selector} on {self.page.url} after {timeout:.0f} s. The page said: "
                f"{said[:1000]!r}\nUnanswered requests: {waiting[:20]}\n"
                f"Console errors: {self.errors}\nThe stack's log:\n" + "\n".join(log)
            ) from None

    def _websocket(self, ws: Any) -> None:
        m = KERNEL_WS.search(ws.url)
        if m:
            self.kernels.append(m.group(1))

    def login(self, name: str, password: str | None = None) -> Any:
        """Submit the login form; the response of the page it ends on."""
        self.page.goto(f"{self.stack.url}/hub/login")
        self.page.fill("input[name=username]", name)
        self.page.fill("input[name=password]", password or self.stack.logins[name])
        with self.page.expect_navigation(timeout=180_000) as nav:
            self.page.click("[type=submit]")
        return nav.value

    def opens(self, name: str, url: str, shown: str) -> None:
        """Sign in as ``name``, wait for the landing page's numbers, open ``url`` and wait
        for ``shown`` (a selector) on it."""
        self.login(name)
        self.page.wait_for_selector(LIVE_KPI, timeout=180_000)
        self.page.goto(url, wait_until="commit")
        self.page.wait_for_selector(shown, timeout=180_000)

    def cookie(self, name: str) -> str | None:
        return next((c["value"] for c in self.context.cookies() if c["name"] == name), None)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(browser: Any, stack: Stack) -> Iterator[Visitor]:
    v = Visitor(browser, stack)
    yield v
    v.close()


def expected_for(db_url: str, url: str) -> dict[str, Any]:
    query = {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}
    engine = make_engine(db_url)
    try:
        return computed_for(engine, query)
    finally:
        engine.dispose()


def fetch(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, str, str]:
    """(status, Location, body) without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    data = b"" if method == "POST" else None
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with opener.open(req, timeout=120) as r:
            return r.status, r.headers.get("Location", ""), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        with e:  # its socket closed now, not whenever it is collected
            return e.code, e.headers.get("Location", ""), e.read().decode(errors="replace")


def websocket_status(url: str, headers: dict[str, str] | None = None) -> int:
    """The HTTP status a websocket handshake gets (101 when it opens)."""

    async def attempt() -> int:
        try:
            conn = await websocket_connect(HTTPRequest(url, headers=headers or {}))
        except HTTPClientError as e:
            return e.code
        conn.close()
        return 101

    # in a thread of its own: Playwright's sync API keeps an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, attempt()).result()


def lands_on_the_command_center(v: Visitor, db_url: str, name: str) -> None:
    started = time.perf_counter()
    v.login(name)
    v.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    seconds = time.perf_counter() - started
    assert urlparse(v.page.url).path == "/services/dashboards/voila/render/summary.ipynb"
    v.page.wait_for_timeout(300)
    html = str(v.page.content())
    assert 'data-metric="portfolio.arr"' in html
    assert mismatches(html, expected_for(db_url, v.page.url)) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    v.page.screenshot(path=str(SHOTS / f"hub-{name}-landing.png"))
    assert v.errors == []
    print(f"{name}: login -> command center with numbers in {seconds:.1f} s")


def test_a_vp_logs_in_and_lands_on_the_command_center_with_numbers(
    visitor: Visitor, db_url: str
) -> None:
    lands_on_the_command_center(visitor, db_url, "vp")
    # and may not manage users
    assert visitor.page.goto(f"{visitor.stack.url}/hub/admin").status == 403


def test_signed_in_every_drill_down_passes_wcag_aa_with_its_widgets(
    visitor: Visitor, db_url: str
) -> None:
    """Issue 20, signed in through the hub: the drill-downs and the lists (the dashboards
    are checked live in test_browser.py), and the landing page and a dashboard without a
    comparison, at a laptop's and a phone's width, with the widgets attached."""
    from sqlalchemy import select

    from ecc.schema import customers

    need_axe()
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(customers.c.customer_id, customers.c.csm_id)).first()
    finally:
        engine.dispose()
    assert row is not None
    visitor.login("vp")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    base = f"{visitor.stack.url}/services/dashboards/voila/render"
    views = [
        "accounts.ipynb?list=at_risk",
        f"account.ipynb?customer={row.customer_id}",
        f"csm.ipynb?csm={row.csm_id}",
        "renewal_list.ipynb?list=late",
        "save_play_list.ipynb",
        "alerts.ipynb",
        "summary.ipynb?compare=none",
        "risk.ipynb?compare=none",
    ]
    found: list[str] = []
    for view in views:
        visitor.page.set_viewport_size({"width": 1440, "height": 900})
        visitor.page.goto(f"{base}/{view}", wait_until="commit", timeout=90_000)
        visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
        found += [f"{view} at 1440 px: {v}" for v in violations(visitor.page)]
        visitor.page.set_viewport_size({"width": 390, "height": 844})
        found += [f"{view} at 390 px: {v}" for v in violations(visitor.page)]
    assert found == [], "\n".join(found)
    assert visitor.errors == []


def test_a_vp_shares_the_view_on_screen_and_a_stranger_opens_just_that(
    visitor: Visitor, browser: Any, db_url: str
) -> None:
    """Issue 19, part 1: the Share button, signed in, by keyboard; the link opens without a
    session and shows the same numbers, and nothing else."""
    need_axe()
    visitor.login("vp")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    view = "risk.ipynb?preset=this_quarter&compare=previous&segment=SMB"
    visitor.page.goto(f"{visitor.stack.dashboards}voila/render/{view}", wait_until="commit")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    share = visitor.page.get_by_role("button", name="Share")
    share.focus()
    visitor.page.keyboard.press("Enter")
    visitor.page.get_by_role("radio", name="Live: this view recomputed when opened").check()
    visitor.page.get_by_label("Note").fill("Numbers for <b>Monday</b>")
    assert violations(visitor.page) == []  # the open form, too
    visitor.page.get_by_role("button", name="Create link").click()
    link = visitor.page.wait_for_selector("a.ecc-share-link", timeout=60_000)
    assert link is not None
    url = link.get_attribute("href") or ""
    assert url.startswith(f"{visitor.stack.url}/services/links/view/")
    # a stranger: no session, no cookie; the view, read-only, with the same numbers
    stranger = Visitor(browser, visitor.stack)
    try:
        response = stranger.page.goto(url)
        assert response.status == 200
        html = str(stranger.page.content())
        query = view.split("?", 1)[1]
        assert mismatches(html, expected_for(db_url, f"?{query}")) == []
        assert "Shared by vp" in stranger.page.inner_text(".ecc-shared")
        assert "Numbers for <b>Monday</b>" in stranger.page.inner_text(".ecc-shared")
        assert stranger.page.locator("a").count() == 0  # nowhere else to go
        assert stranger.page.locator("nav, select, input, button").count() == 0
        assert stranger.context.cookies() == []
        # WCAG AA too (axe injected past the page's no-script policy, in a context of its own)
        checker = browser.new_context(bypass_csp=True)
        try:
            page = checker.new_page()
            page.goto(url)
            assert violations(page) == []
        finally:
            checker.close()
        # other filters through it: refused
        assert fetch(url + "?segment=Enterprise")[0] == 403
    finally:
        stranger.close()
    assert visitor.errors == []


def test_the_shared_links_page_lists_ones_own_links_and_an_admin_manages_all(
    browser: Any, stack: Stack, db_url: str
) -> None:
    """Issue 19, part 1: a vp sees and withdraws their own links on the Shared links page;
    an admin sees everyone's; the role comes from the hub, not the address."""
    from ecc.share.views import share_view

    engine = make_engine(db_url)
    try:
        mine = share_view(engine, "risk", "preset=ytd&segment=SMB", kind="live", created_by="vp")
        theirs = share_view(engine, "segments", "preset=ytd", kind="frozen", created_by="admin")
    finally:
        engine.dispose()
    page_url = f"{stack.dashboards}voila/render/shared_links.ipynb"
    vp = Visitor(browser, stack)
    try:
        vp.login("vp")
        vp.page.wait_for_selector(LIVE_KPI, timeout=180_000)
        # an address claiming the admin role changes nothing: the hub names the role
        vp.page.goto(f"{page_url}?viewer_role=admin", wait_until="commit")
        vp.page.wait_for_selector(f".ecc-link-{mine.link_id}", timeout=180_000)
        assert vp.page.locator(f".ecc-link-{theirs.link_id}").count() == 0
        listing = vp.page.inner_text(".ecc-shared-links")
        assert "Risk · Year to date, vs previous period, segment SMB" in listing
        button = vp.page.locator(f".ecc-link-{mine.link_id} button")
        button.focus()
        vp.page.keyboard.press("Enter")
        vp.page.wait_for_selector(".ecc-done", timeout=60_000)
        assert "Withdrawn by vp" in vp.page.inner_text(".ecc-done")
        vp.page.wait_for_function(
            f"!document.querySelector('.ecc-link-{mine.link_id}')", timeout=60_000
        )
        assert "withdrawn" in vp.page.inner_text(".ecc-shared-links table")
        assert violations(vp.page) == []
        assert vp.errors == []
    finally:
        vp.close()
    links = f"{stack.url}/services/links/view/"
    assert fetch(links + mine.token)[0] == 403
    admin = Visitor(browser, stack)
    try:
        admin.opens("admin", page_url, f".ecc-link-{theirs.link_id}")
        text_ = admin.page.inner_text(".ecc-shared-links table")
        assert "Every link shared" in admin.page.inner_text(".ecc-shared-links")
        assert "vp" in text_ and "admin" in text_  # both makers
        admin.page.locator(f".ecc-link-{theirs.link_id} button").click()
        admin.page.wait_for_selector(".ecc-done", timeout=60_000)
    finally:
        admin.close()
    assert fetch(links + theirs.token)[0] == 403


def test_outside_recipients_wait_until_an_admin_approves_on_the_subscriptions_page(
    browser: Any, stack: Stack, db_url: str
) -> None:
    """Issue 19, part 2: a vp's subscription to an address outside the organisation waits;
    the vp cannot approve it; an admin sees it among everyone's and approves it by
    keyboard; the scheduler then sends it."""
    from sqlalchemy import select

    from ecc.schedule.subscriptions import check, schedules, subscribe
    from ecc.schema import subscriptions

    engine = make_engine(db_url)
    try:
        plan = check(
            page="risk",
            query="preset=ytd&compare=previous",
            formats=["pdf"],
            cadence="weekly",
            timezone="Europe/London",
            recipients="vp@example.com, board@partner.org",
        )
        sub_id = subscribe(engine, plan, owner="vp")
        page_url = f"{stack.dashboards}voila/render/subscriptions.ipynb"
        row = f".ecc-sub-{sub_id}"
        vp = Visitor(browser, stack)
        try:
            vp.opens("vp", page_url, f"{row} .ecc-act-edit")
            assert "waiting for an admin's approval" in vp.page.inner_text(row)
            assert vp.page.locator(f"{row} .ecc-act-approve").count() == 0
            assert vp.page.locator(f"{row} .ecc-act-pause").count() == 0
        finally:
            vp.close()
        assert f"sub-{sub_id}" not in {s.name for s in schedules(engine)}  # sends nothing
        admin = Visitor(browser, stack)
        try:
            admin.login("admin")
            admin.page.wait_for_selector(LIVE_KPI, timeout=180_000)
            admin.page.goto(page_url, wait_until="commit")
            approve = admin.page.wait_for_selector(f"{row} .ecc-act-approve", timeout=180_000)
            assert approve is not None
            assert "Every subscription" in admin.page.inner_text(".ecc-subscriptions")
            approve.focus()
            admin.page.keyboard.press("Enter")
            admin.page.wait_for_selector(f"{row} .ecc-act-pause", timeout=60_000)
            assert violations(admin.page) == []
            assert admin.errors == []
        finally:
            admin.close()
        with engine.connect() as conn:
            got = conn.execute(select(subscriptions).where(subscriptions.c.sub_id == sub_id)).one()
        assert (got.state, got.approved_by) == ("active", "admin")
        assert f"sub-{sub_id}" in {s.name for s in schedules(engine)}
    finally:
        engine.dispose()


def test_a_vp_subscribes_to_the_view_on_screen_and_manages_it_on_the_subscriptions_page(
    visitor: Visitor, db_url: str, tmp_path: Path
) -> None:
    """Issue 19, part 2: Subscribe on a dashboard, signed in; the subscription is the view
    on screen; its owner pauses and edits it on the Subscriptions page; the scheduler mails
    it with the view's numbers."""
    from sqlalchemy import select

    from ecc.schedule.subscriptions import schedules
    from ecc.schema import subscriptions

    need_axe()
    visitor.login("vp")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    visitor.page.set_viewport_size({"width": 390, "height": 844})  # on a phone
    view = "renewals.ipynb?preset=ytd&compare=previous&segment=SMB"
    visitor.page.goto(f"{visitor.stack.dashboards}voila/render/{view}", wait_until="commit")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    visitor.page.get_by_role("button", name="Subscribe", exact=True).click()
    visitor.page.get_by_role("checkbox", name="Excel").check()
    visitor.page.get_by_role("radio", name="The 1st of the month at 07:00").check()
    visitor.page.get_by_label("Send to").fill("vp@example.com")
    assert violations(visitor.page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor.page.screenshot(path=str(SHOTS / "hub-subscribe-390.png"), full_page=True)
    visitor.page.get_by_role("button", name="Subscribe to this view").click()
    done = visitor.page.wait_for_selector(".ecc-done", timeout=60_000)
    assert done is not None and "Subscribed (number" in (done.inner_text() or "")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(subscriptions).where(
                    subscriptions.c.owner == "vp", subscriptions.c.page == "renewals"
                )
            ).one()
        assert (row.page, row.formats, row.cron, row.state) == (
            "renewals",
            "pdf,xlsx",
            "0 7 1 * *",
            "active",
        )
        assert "segment=SMB" in row.params and "preset=ytd" in row.params
        assert f"sub-{row.sub_id}" in {s.name for s in schedules(engine)}
        # the Subscriptions page: pause it by keyboard
        visitor.page.goto(
            f"{visitor.stack.dashboards}voila/render/subscriptions.ipynb", wait_until="commit"
        )
        pause = visitor.page.wait_for_selector(f".ecc-sub-{row.sub_id} .ecc-act-pause")
        assert pause is not None
        pause.focus()
        visitor.page.keyboard.press("Enter")
        visitor.page.wait_for_selector(f".ecc-sub-{row.sub_id} .ecc-act-resume")
        assert f"sub-{row.sub_id}" not in {s.name for s in schedules(engine)}
        assert violations(visitor.page) == []
        # edit it there: the form opens under it, filled in; PDF only, every Monday
        visitor.page.click(f".ecc-sub-{row.sub_id} .ecc-act-edit")
        form = visitor.page.locator(".ecc-subscriptions .ecc-share-form")
        form.get_by_role("radio", name="The 1st of the month at 07:00").wait_for()
        assert form.get_by_role("radio", name="The 1st of the month at 07:00").is_checked()
        assert form.get_by_label("Send to").input_value() == "vp@example.com"
        assert violations(visitor.page) == []
        form.get_by_role("checkbox", name="Excel").uncheck()
        form.get_by_role("radio", name="Every Monday at 07:00").check()
        form.get_by_label("Send to").fill("vp@example.com, cro@example.com")
        visitor.page.screenshot(path=str(SHOTS / "hub-subscription-edit-390.png"), full_page=True)
        form.get_by_role("button", name="Save changes").click()
        visitor.page.wait_for_selector(f"text=Subscription {row.sub_id} saved (paused)")
        with engine.connect() as conn:
            edited = conn.execute(
                select(subscriptions).where(subscriptions.c.sub_id == row.sub_id)
            ).one()
        assert (edited.formats, edited.cron, edited.recipients, edited.state) == (
            "pdf",
            "0 7 * * 1",
            "vp@example.com,cro@example.com",
            "paused",
        )
        visitor.page.click(f".ecc-sub-{row.sub_id} .ecc-act-resume")
        visitor.page.wait_for_selector(f".ecc-sub-{row.sub_id} .ecc-act-pause")
    finally:
        engine.dispose()
    assert visitor.errors == []
    # the scheduler mails what was subscribed to in the browser: its PDF holds the
    # numbers `ecc metrics` gives for that view
    mailed_pdf_holds_the_view_s_numbers(db_url, row.sub_id, tmp_path)


def mailed_pdf_holds_the_view_s_numbers(db_url: str, sub_id: int, folder: Path) -> None:
    import json
    import subprocess
    import sys

    from ecc import formatting as fmt
    from tests.support.scheduler import attached_pdf_text, env_for
    from tests.support.smtp_sink import SmtpSink

    ecc = [sys.executable, "-m", "ecc.cli"]
    with SmtpSink() as sink:
        run = subprocess.run(
            [*ecc, "scheduler", "--run-now", f"sub-{sub_id}", "--db", db_url,
             "--out", str(folder / f"sub-{sub_id}")],
            capture_output=True, text=True, timeout=300, env=env_for(sink),
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (got,) = sink.received
    assert sorted(got.recipients) == ["cro@example.com", "vp@example.com"]
    assert len(list(got.message.iter_attachments())) == 1  # PDF only, as edited
    text = attached_pdf_text(got.message, folder / f"sub-{sub_id}.pdf")
    metrics = json.loads(
        subprocess.run(
            [*ecc, "metrics", "--preset", "ytd", "--compare", "previous", "--segment", "SMB",
             "--db", db_url],
            capture_output=True, text=True, check=True, timeout=300,
        ).stdout
    )  # fmt: skip
    renewals = metrics["renewals"]
    assert "segment SMB" in text
    for shown in (
        fmt.money(renewals["stages"]["at_risk"]["arr"]),
        fmt.money(renewals["stages"]["renewed"]["arr"]),
        fmt.pct(renewals["renewal_rate"]),
    ):
        assert shown in text, shown


def test_the_page_knows_who_is_looking_and_no_one_can_pose_as_another(
    visitor: Visitor,
) -> None:
    visitor.login("vp")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    alerts = visitor.stack.dashboards + "voila/render/alerts.ipynb"
    visitor.page.goto(alerts, wait_until="commit")
    # the hub's name for the person reaches the page (who acknowledges an alert)
    visitor.page.wait_for_selector("text=as vp", state="attached", timeout=180_000)
    response = visitor.page.goto(alerts + "?viewer=ceo")
    assert response.status == 403
    assert "you are signed in as vp" in visitor.page.inner_text("body")


def test_an_admin_lands_on_the_command_center_and_manages_users(
    visitor: Visitor, db_url: str
) -> None:
    lands_on_the_command_center(visitor, db_url, "admin")
    response = visitor.page.goto(f"{visitor.stack.url}/hub/authorize")
    assert response.status == 200  # NativeAuthenticator's sign-up approvals
    assert "dora" in visitor.page.inner_text("body")
    users = visitor.context.request.get(
        f"{visitor.stack.url}/hub/api/users",
        headers={"X-XSRFToken": visitor.cookie("_xsrf") or "", "Referer": visitor.stack.url},
    )
    assert users.status == 200
    assert {u["name"] for u in users.json()} >= {"vp", "admin", "analyst", "dora"}


def test_an_analyst_lands_in_jupyterlab_and_gets_403_from_the_dashboards(
    visitor: Visitor,
) -> None:
    visitor.login("analyst")
    visitor.page.wait_for_url("**/user/analyst/lab**", timeout=120_000)
    # 13 s alone; JupyterLab's first load (several MB of scripts) has taken over two
    # minutes in CI while the other worker ran a database-heavy test on the same two cores
    visitor.wait_for(".jp-LabShell", timeout=300)
    # their own copy of the notebooks
    visitor.page.locator(".jp-DirListing-itemText", has_text="notebooks").first.wait_for(
        timeout=60_000
    )
    visitor.page.screenshot(path=str(SHOTS / "hub-analyst-lab.png"))
    # the notebooks run in their own server, with the ecc library and the database
    lab = f"{visitor.stack.url}/user/analyst/voila/render/notebooks/risk.ipynb"
    visitor.page.goto(lab, wait_until="commit")
    visitor.page.wait_for_selector("[data-metric]", timeout=180_000)
    response = visitor.page.goto(visitor.stack.dashboards + "voila/render/portfolio.ipynb")
    assert response.status == 403
    assert "data-metric" not in visitor.page.content()
    # the analyst's own cookies, sent to the service's API and websocket: refused
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in visitor.context.cookies())
    kernel = str(uuid.uuid4())
    status, _, _ = fetch(
        f"{visitor.stack.dashboards}api/kernels/{kernel}",
        {"Cookie": cookies, "Sec-Fetch-Mode": "cors"},
    )
    assert status == 403
    ws = visitor.stack.dashboards.replace("http", "ws", 1) + f"api/kernels/{kernel}/channels"
    assert websocket_status(ws, {"Cookie": cookies}) == 403


def test_a_user_of_another_group_is_refused_with_the_reason(visitor: Visitor) -> None:
    response = visitor.login("dora")
    assert response.status == 403
    text = visitor.page.inner_text("body")
    assert "none of the command center's roles" in text and "sales" in text
    visitor.page.screenshot(path=str(SHOTS / "hub-refused.png"))
    assert visitor.cookie("jupyterhub-hub-login") is None  # no session
    response = visitor.page.goto(visitor.stack.dashboards)
    assert "/hub/login" in visitor.page.url  # still asked to sign in


def test_an_unknown_user_is_refused(visitor: Visitor) -> None:
    visitor.login("mallory", "a-guess-1234567")
    assert "Invalid username or password" in visitor.page.inner_text("body")
    assert visitor.cookie("jupyterhub-hub-login") is None


def test_no_session_reaches_nothing_of_the_service(stack: Stack, visitor: Visitor) -> None:
    # a real kernel of the service, seen by a VP's page
    visitor.login("vp")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    assert visitor.kernels, "the page opened no kernel websocket"
    kernel = visitor.kernels[0]
    base = stack.dashboards
    page = fetch(base + "voila/render/portfolio.ipynb")
    assert page[0] == 302 and page[1].startswith("/hub/api/oauth2/authorize")
    assert "data-metric" not in page[2]
    assert fetch(base)[0] == 302
    for path in (
        "voila/templates/ecc/static/ecc.css",
        "voila/static/voila.js",
        "voila/labextensions/@voila-dashboards/widgets-manager8/package.json",
        f"api/kernels/{kernel}",
        "voila/tree",
    ):
        status, _, body = fetch(base + path, {"Sec-Fetch-Mode": "no-cors"})
        assert status == 403, path
        assert "Sign in first" in body
    assert fetch(base + f"voila/api/shutdown/{kernel}", method="POST")[0] == 403
    ws = base.replace("http", "ws", 1)
    assert websocket_status(ws + f"api/kernels/{kernel}/channels") == 403
    # the kernels' own request channel is not reachable through the hub at all
    assert websocket_status(ws + f"voila/query/{kernel}") == 403
    # the VP's session still works (nothing above shut their kernel down)
    assert fetch(f"{base}api/kernels/{kernel}", {"Cookie": _cookies(visitor)})[0] == 200


def _cookies(v: Visitor) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in v.context.cookies())


def test_forged_and_foreign_cookies_are_refused(stack: Stack, visitor: Visitor) -> None:
    visitor.login("vp")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    cookie = visitor.cookie("service-dashboards")
    assert cookie
    base = stack.dashboards
    page = base + "voila/render/portfolio.ipynb"
    assert fetch(page, {"Cookie": f"service-dashboards={cookie}"})[0] == 200  # the real one
    tampered = cookie[:-6] + ("AAAAAA" if not cookie.endswith("AAAAAA") else "BBBBBB")
    signed_elsewhere = create_signed_value(
        "not-the-service-secret", "service-dashboards", "a-token-of-our-own"
    ).decode()
    hub_cookies = "; ".join(
        f"{c['name']}={c['value']}"
        for c in visitor.context.cookies()
        if c["name"] != "service-dashboards"
    )
    for forged in (
        f"service-dashboards={tampered}",
        f"service-dashboards={signed_elsewhere}",
        hub_cookies,  # the hub's own session cookies are not the service's
    ):
        status, location, body = fetch(page, {"Cookie": forged})
        assert status == 302 and location.startswith("/hub/api/oauth2/authorize"), forged
        assert "data-metric" not in body
        assert (
            fetch(base + "voila/static/voila.js", {"Cookie": forged, "Sec-Fetch-Mode": "no-cors"})[
                0
            ]
            == 403
        )
    assert fetch(page, {"Authorization": "token " + uuid.uuid4().hex})[0] == 302
    assert (
        fetch(page, {"Authorization": "token " + uuid.uuid4().hex, "Sec-Fetch-Mode": "cors"})[0]
        == 403
    )


def test_a_share_link_works_without_login_and_opens_nothing_else(
    stack: Stack, db_url: str, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECC_HUB_DIR", str(stack.hub_dir))  # the links service's signing key
    report = tmp_path / "board-pack.html"
    report.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Board pack</title></head>"
        "<body><h1>Board pack</h1><p data-metric='risk.arr_at_risk' data-value='1.0'>$1</p>"
        "</body></html>"
    )
    engine = make_engine(db_url)
    try:
        link = create_link(engine, report, days=1)
    finally:
        engine.dispose()
    links = f"{stack.url}/services/links/"
    stranger = Visitor(browser, stack)
    try:
        response = stranger.page.goto(f"{links}share/{link.token}")
        assert response.status == 200
        assert stranger.page.inner_text("h1") == "Board pack"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert stranger.context.cookies() == []  # no session was given
        # nothing else: other paths of the links service, and the dashboards
        for path in ("", "share/", "voila/render/portfolio.ipynb", "api/kernels"):
            assert fetch(links + path)[0] == 404, path
        stranger.page.goto(stack.dashboards + "voila/render/portfolio.ipynb")
        assert "/hub/login" in stranger.page.url
        assert "data-metric" not in stranger.page.content()
    finally:
        stranger.close()


def test_logging_out_of_the_hub_ends_the_dashboards_session(stack: Stack, visitor: Visitor) -> None:
    visitor.login("vp")
    visitor.page.wait_for_selector(LIVE_KPI, timeout=180_000)
    service_cookie = visitor.cookie("service-dashboards")
    visitor.page.goto(f"{stack.url}/hub/logout")
    visitor.page.goto(stack.dashboards + "voila/render/risk.ipynb")
    assert "/hub/login" in visitor.page.url
    # the old service cookie, replayed, no longer opens anything
    status, _, body = fetch(
        stack.dashboards + "voila/render/risk.ipynb",
        {"Cookie": f"service-dashboards={service_cookie}"},
    )
    assert status == 302 and "data-metric" not in body


def test_dashboards_kernels_get_no_token_and_no_secret(stack: Stack) -> None:
    """Security finding 8: the kernels that render VPs' pages see the data's address and
    nothing of the hub's tokens, the mail server's settings or other secrets."""
    import psutil

    service = next(
        p
        for p in psutil.process_iter(["environ"])
        if (p.info["environ"] or {}).get("ECC_SERVICE") == "dashboards"
        and (p.info["environ"] or {}).get("ECC_HUB_DIR") == str(stack.hub_dir)
    )
    assert service.environ().get("ECC_SMTP_URL")  # the service itself had them
    kernels = [c for c in service.children(recursive=True) if "ipykernel" in " ".join(c.cmdline())]
    assert len(kernels) >= 2  # the landing page's pool at least
    for kernel in kernels:
        env = kernel.environ()
        assert env["ECC_DATABASE_URL"].startswith("sqlite:///")
        leaked = [k for k in env if "TOKEN" in k or "SECRET" in k or k == "ECC_SMTP_URL"]
        assert leaked == [], leaked
        assert not any(SMTP_PASSWORD in v for v in env.values())


def test_the_query_channel_opens_only_for_the_kernel_with_its_proof(stack: Stack) -> None:
    """Security finding 4: a local process that reads a preheated kernel's id from the
    process list cannot take the next viewer's request from it."""
    import psutil

    from ecc.ui.query_channel import proof

    ids = [
        m.group(1)
        for p in psutil.process_iter(["cmdline"])
        for m in [re.search(r"kernel-([0-9a-f-]{36})\.json", " ".join(p.info["cmdline"] or []))]
        if m
    ]
    assert ids, "no preheated kernel found"
    base = f"ws://127.0.0.1:{stack.dashboards_port}/services/dashboards/voila/query/"
    for kernel_id in ids[:3]:
        assert websocket_status(base + kernel_id) == 403
        wrong = proof(b"not-the-key", kernel_id)
        assert websocket_status(f"{base}{kernel_id}?proof={wrong}") == 403
