"""Issue 16: a kernel whose page is gone without saying so (a crashed browser, a lost
network: no unload post) is shut down within two minutes, while the preheated pools and
open pages keep theirs."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import pytest

from tests.builders import demo_sqlite
from tests.servers import CHROMIUM, CHROMIUM_ARGS, need_chromium, voila_server

pytestmark = [pytest.mark.slow]
KERNEL_WS = re.compile(r"/api/kernels/([0-9a-f-]{36})/channels")
#: Culling after 90 s idle without a connection, checked every 15 s; some slack.
WITHIN = 150.0


def kernel_running(kernel_id: str) -> bool:
    needle = f"kernel-{kernel_id}.json".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    return True
            except OSError:
                continue
    return False


def test_the_kernel_of_a_page_that_vanished_is_reclaimed(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    need_chromium()
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    with voila_server(db, tmp_path / "serve.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        kernels: list[str] = []
        gone = browser.new_context()
        page = gone.new_page()
        page.on("websocket", lambda ws: kernels.extend(KERNEL_WS.findall(ws.url)))
        page.goto(f"{base}/voila/render/risk.ipynb")
        page.wait_for_selector("[data-metric]", timeout=120_000)
        stays = browser.new_context()
        open_page = stays.new_page()
        kept: list[str] = []
        open_page.on("websocket", lambda ws: kept.extend(KERNEL_WS.findall(ws.url)))
        open_page.goto(f"{base}/voila/render/retention.ipynb")
        open_page.wait_for_selector("[data-metric]", timeout=120_000)
        assert kernels and kept and kernel_running(kernels[0]) and kernel_running(kept[0])
        gone.close()  # the browser goes away without its pages' unload handlers
        started = time.monotonic()
        while kernel_running(kernels[0]) and time.monotonic() - started < WITHIN:
            time.sleep(2)
        assert not kernel_running(kernels[0]), f"still running after {WITHIN:.0f} s"
        # the page still open keeps its kernel, and still answers a filter change
        assert kernel_running(kept[0])
        before = open_page.inner_text(".ecc-range")
        open_page.locator("select").first.select_option(label="Year to date")
        open_page.wait_for_function(
            f"document.querySelector('.ecc-range').textContent !== {before!r}", timeout=60_000
        )
        browser.close()
