"""Issue 16: a kernel whose page is gone without saying so (a crashed browser, a lost
network: no unload post) is shut down within half a minute, while the preheated pools
and open pages keep theirs."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import BrowserContext, Page

from tests.support.builders import demo_sqlite
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, LIVE_KPI, need_chromium, voila_server

pytestmark = [pytest.mark.slow]
KERNEL_WS = re.compile(r"/api/kernels/([0-9a-f-]{36})/channels")
#: Shut down 20 s after its page's last connection closed (ecc.ui.kernels); some slack.
WITHIN = 45.0


def kernel_process(kernel_id: str) -> psutil.Process:
    """The kernel's process, found by its connection file on the command line."""
    needle = f"kernel-{kernel_id}.json"
    for proc in psutil.process_iter(["cmdline"]):
        if any(needle in part for part in proc.info["cmdline"] or ()):
            return proc
    raise AssertionError(f"no process runs kernel {kernel_id}")


def open_live(context: BrowserContext, url: str) -> tuple[Page, str]:
    """Open URL until the kernel's widgets show; return the page and its kernel's id."""
    page = context.new_page()
    with page.expect_websocket(lambda ws: bool(KERNEL_WS.search(ws.url)), timeout=180_000) as ws:
        page.goto(url)
    page.wait_for_selector(LIVE_KPI, timeout=180_000)
    return page, KERNEL_WS.findall(ws.value.url)[0]


def test_the_kernel_of_a_page_that_vanished_is_reclaimed(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    need_chromium()
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    with voila_server(db, tmp_path / "serve.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        gone = browser.new_context()
        _, gone_kernel = open_live(gone, f"{base}/voila/render/risk.ipynb")
        open_page, kept_kernel = open_live(
            browser.new_context(), f"{base}/voila/render/retention.ipynb"
        )
        assert gone_kernel != kept_kernel
        reclaimed, kept = kernel_process(gone_kernel), kernel_process(kept_kernel)
        gone.close()  # the browser goes away without its pages' unload handlers
        # waits on the process's exit, not on a timer
        reclaimed.wait(timeout=WITHIN)
        # the page still open keeps its kernel, and still answers a filter change
        assert kept.is_running()
        before = open_page.inner_text(".ecc-range")
        open_page.locator("select").first.select_option(label="Year to date")
        open_page.wait_for_function(
            f"document.querySelector('.ecc-range').textContent !== {before!r}", timeout=60_000
        )
        browser.close()
