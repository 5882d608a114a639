"""Issue 16, beyond one machine: two dashboards replicas behind HAProxy, through the hub.

One replica is killed while viewers are opening pages. Pages on the other replica carry
on; pages on the killed one — live ones whose kernel is gone, and ones cut off while
loading — load again from the replica that is left, so every viewer ends with a live
page. The tier starts the killed replica again and ends the kernels it left behind.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Any

import psutil
import pytest

from ecc.errors import ConfigError
from ecc.hub.replicas import (
    REPLICAS,
    STICKY_COOKIE,
    haproxy_binary,
    haproxy_config,
    replica_env,
    replicas_wanted,
)
from tests.support.builders import demo_sqlite
from tests.support.hubstack import Stack, hub_stack, need_proxy, submit_login
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, IN_CI, LIVE_KPI, need_chromium

TODAY = date(2026, 11, 24)
#: In the page: it was loaded again (by its own script, from a replica that answers).
RELOADED = "performance.getEntriesByType('navigation')[0].type === 'reload'"


def need_haproxy() -> str:
    binary = haproxy_binary()
    if binary is None:
        message = "the replica tests need HAProxy (make install as root installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return binary


def test_the_balancer_configuration_is_valid_and_sticky(tmp_path: Path) -> None:
    binary = need_haproxy()
    config = tmp_path / "h.cfg"
    config.write_text(haproxy_config("127.0.0.1", 18867, [18001, 18002]))
    checked = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = config.read_text()
    assert f"cookie {STICKY_COOKIE} insert" in text and "option redispatch" in text
    assert "server r0 127.0.0.1:18001 check" in text and "cookie r1" in text


@pytest.mark.parametrize("value", ["0", "17", "two", "-1"])
def test_a_bad_number_of_replicas_is_named_with_its_fix(value: str) -> None:
    with pytest.raises(ConfigError, match=rf"{REPLICAS}='{re.escape(value)}'.*1 to 16"):
        replicas_wanted({REPLICAS: value})


def test_replicas_share_the_budget_and_one_refreshes() -> None:
    env = {"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:8867", "ECC_REFRESH_EVERY": "15"}
    first, second = (replica_env(env, i, 9000 + i, 2) for i in range(2))
    assert first["JUPYTERHUB_SERVICE_URL"] == "http://127.0.0.1:9000"
    assert first["ECC_REFRESH_EVERY"] == "15" and second["ECC_REFRESH_EVERY"] == "0"
    assert int(first["ECC_MAX_KERNELS"]) >= 4
    assert replica_env({**env, "ECC_MAX_KERNELS": "9"}, 1, 9001, 2)["ECC_MAX_KERNELS"] == "9"


# ------------------------------------------------------------------ the real thing
@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    need_chromium()
    need_proxy()
    need_haproxy()
    folder = tmp_path_factory.mktemp("replicas")
    db = demo_sqlite(folder, customers=300, seed=9, today=TODAY)
    (folder / "stack").mkdir()
    with hub_stack(db, folder / "stack", extra_env={REPLICAS: "2"}) as s:
        yield s


def backends(stack: Stack) -> dict[str, int]:
    """Replica name (r0, r1) -> its port, from the balancer's configuration."""
    text = (stack.hub_dir / "dashboards-haproxy.cfg").read_text()
    return {name: int(port) for name, port in re.findall(r"server (r\d) 127.0.0.1:(\d+)", text)}


def running(proc: psutil.Process) -> bool:
    """Still running: a process that ended but whose parent has not collected it (a
    zombie, holding nothing but its number) has ended."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def listener(port: int, timeout: float = 0) -> psutil.Process:
    """The process listening on ``port`` (waiting up to ``timeout`` seconds for one)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = {
            c.pid
            for c in psutil.net_connections("tcp")
            if c.laddr and c.laddr.port == port and c.status == "LISTEN" and c.pid
        }
        if len(pids) == 1:
            return psutil.Process(pids.pop())
        if time.monotonic() >= deadline:
            raise AssertionError(f"{len(pids)} processes listen on port {port}")
        time.sleep(0.5)


class Viewer:
    """One person's browser: signed in, without a replica of their own yet."""

    def __init__(self, browser: Any, state: dict[str, Any]) -> None:
        cookies = [c for c in state["cookies"] if c["name"] != STICKY_COOKIE]
        self.context = browser.new_context(storage_state={**state, "cookies": cookies})
        self.page = self.context.new_page()
        self.loads = 0
        self.said: list[str] = []  # console messages, for a failure's report
        self.page.on("domcontentloaded", self._loaded)
        self.page.on("console", lambda m: self.said.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.said.append(f"error: {e}"))

    def _loaded(self, _: Any) -> None:
        self.loads += 1

    def reloaded(self) -> bool:
        return bool(self.page.evaluate(RELOADED))

    def live(self) -> bool:
        return bool(self.page.locator(LIVE_KPI).count())

    def report(self) -> str:
        return (
            f"{self.page.url} replica={self.replica()} loads={self.loads} live={self.live()} "
            f"reloaded={self.reloaded()} "
            f"complete={self.page.evaluate('!!window.ecc_complete')} said={self.said[-5:]}"
        )

    def replica(self) -> str | None:
        cookies = self.context.cookies()
        return next((c["value"] for c in cookies if c["name"] == STICKY_COOKIE), None)


@pytest.mark.slow
def test_killing_a_replica_during_a_burst_fails_no_page_load(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    landing = stack.dashboards + "voila/render/portfolio.ipynb"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            signing = browser.new_context()
            page = signing.new_page()
            submit_login(page, stack, "vp")
            page.wait_for_selector("[data-metric]", timeout=180_000)
            state: dict[str, Any] = dict(signing.storage_state())
            signing.close()

            # four viewers settle in, spread over both replicas by the balancer
            settled = [Viewer(browser, state) for _ in range(4)]
            for v in settled:
                v.page.goto(landing, wait_until="commit", timeout=120_000)
            for v in settled:
                v.page.wait_for_selector(LIVE_KPI, timeout=180_000)
            assert {v.replica() for v in settled} == {"r0", "r1"}

            ports = backends(stack)
            doomed = listener(ports["r1"])
            family = doomed.children(recursive=True)
            assert any("ipykernel" in " ".join(k.cmdline()) for k in family)
            on_r1 = [v for v in settled if v.replica() == "r1"]

            # a burst of six arrives; when they have their numbers, still loading the
            # rest (the live page comes after everyone's numbers), r1 dies
            burst = [Viewer(browser, state) for _ in range(6)]
            for v in burst:
                v.page.goto(landing, wait_until="commit", timeout=120_000)
            for v in burst:
                v.page.wait_for_selector("[data-metric]", timeout=120_000)
            cut = [v for v in burst if v.replica() == "r1"]
            os.kill(doomed.pid, signal.SIGKILL)

            # the live pages of r1 and the pages r1 was still sending load again...
            deadline = time.monotonic() + 240
            for v in on_r1 + cut:
                left = max(1.0, deadline - time.monotonic()) * 1000
                with suppress(Exception):  # reported below, with every viewer's state
                    v.page.wait_for_function(RELOADED, timeout=left)
            # ...and every viewer ends with a live page: of the replica that is left, or of
            # r1 started again (the tier restarts a lost replica; a reload may land there)
            everyone = settled + burst
            for v in everyone:
                left = max(1.0, deadline - time.monotonic()) * 1000
                with suppress(Exception):
                    v.page.wait_for_selector(LIVE_KPI, timeout=left)
            reports = "\n".join(v.report() for v in everyone)
            assert all(v.live() for v in everyone), reports
            assert all(v.reloaded() for v in on_r1 + cut), reports
            assert all(not v.reloaded() for v in everyone if v not in on_r1 + cut), reports
        finally:
            browser.close()

    # the kernels the killed replica left are ended, and it is started again
    ended = time.monotonic() + 60
    while (alive := [p for p in family if running(p)]) and time.monotonic() < ended:
        time.sleep(0.5)
    assert alive == [], [p.cmdline() for p in alive]
    log = (stack.hub_dir / "hub.log").read_text(errors="replace")  # services' output
    assert "dashboards: replica 1 exited (-9)" in log
    restarted = listener(ports["r1"], timeout=180)
    assert restarted.pid != doomed.pid
