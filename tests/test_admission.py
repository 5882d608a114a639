"""Issue 16: viewers' kernels start a few at a time, in order of arrival, within a
budget; a waiting viewer knows their place (ecc/ui/admission.py)."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import urllib.error
import urllib.request
from datetime import date
from html import escape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import psutil
import pytest

from ecc.db import make_engine
from ecc.errors import ConfigError
from ecc.ui.admission import (
    KERNEL_BYTES,
    RESERVE_BYTES,
    Admission,
    default_budget,
    default_concurrency,
    from_environment,
)
from ecc.ui.kernels import NICENESS
from ecc.ui.pools import LANDING_PAGE
from tests.support.builders import demo_sqlite
from tests.support.pagecheck import computed_for, mismatches
from tests.support.servers import ROOT, voila_server


def test_one_start_at_a_time_first_come_first_served() -> None:
    async def scenario() -> None:
        admission = Admission(concurrency=1, budget=10)
        first, second, third = (admission.join() for _ in range(3))
        assert (first.admitted, second.admitted, third.admitted) == (True, False, False)
        assert (second.ahead, third.ahead) == (0, 1)
        first.leave()  # its kernel is up
        assert second.admitted and not third.admitted and third.ahead == 0
        assert second.changed.is_set() and third.changed.is_set()  # both are told
        second.leave()
        third.leave()
        assert admission.starting == 0 and admission.waiting == 0

    asyncio.run(scenario())


def test_a_viewer_who_leaves_the_line_moves_the_others_up() -> None:
    async def scenario() -> None:
        admission = Admission(concurrency=1, budget=10)
        tickets = [admission.join() for _ in range(4)]
        tickets[1].leave()  # gone before their turn
        assert [t.ahead for t in tickets[2:]] == [0, 1]
        tickets[0].leave()
        assert tickets[2].admitted and not tickets[1].admitted

    asyncio.run(scenario())


def test_no_start_while_the_budget_of_kernels_is_used() -> None:
    async def scenario() -> None:
        kernels = [3]
        admission = Admission(concurrency=2, budget=4)
        admission.running = lambda: kernels[0]
        first, second = admission.join(), admission.join()
        assert first.admitted and not second.admitted
        assert second.place == (0, True)  # next, and waiting for a free kernel
        kernels[0] = 4  # its kernel runs (the manager lists it from its start)
        first.leave()
        await second.wait(0.01)  # re-checked: still full
        assert not second.admitted
        kernels[0] = 3  # a tab was closed and its kernel reclaimed
        await second.wait(0.01)
        assert second.admitted and second.place == (0, True)

    asyncio.run(scenario())


def test_defaults_leave_a_core_and_fit_the_free_memory() -> None:
    assert [default_concurrency(n) for n in (1, 2, 4)] == [1, 1, 3]
    assert default_budget(RESERVE_BYTES + 10 * KERNEL_BYTES) == 10
    assert default_budget(2**30) == 4  # never fewer than four
    admission = from_environment({"ECC_KERNEL_STARTS": "3", "ECC_MAX_KERNELS": "40"})
    assert (admission.concurrency, admission.budget) == (3, 40)


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_a_bad_setting_is_named_with_its_fix(value: str) -> None:
    with pytest.raises(ConfigError, match=r"ECC_MAX_KERNELS=.*whole number of at least 1"):
        from_environment({"ECC_MAX_KERNELS": value})


# ---------------------------------------------------------------- through a real server
def read_until(response: http.client.HTTPResponse, needle: str, seen: str = "") -> str:
    """The stream read until ``needle`` shows (a socket timeout fails the test)."""
    while needle not in seen:
        chunk = response.read1(65536)
        if not chunk:
            raise AssertionError(f"the page ended without {needle!r}: …{seen[-300:]}")
        seen += chunk.decode()
    return seen


def report_painted(base: str, seen: str) -> None:
    """What the page's script does once the first paint is on screen (a browser posts
    it by itself): the server counts that viewer's numbers as shown."""
    beacon = re.search(r'data-ecc-painted="([^"]+)"', seen)
    assert beacon is not None, "the first paint carries no token"
    request = urllib.request.Request(urljoin(base, beacon.group(1)), method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 204
    with pytest.raises(urllib.error.HTTPError) as again:  # good once
        urllib.request.urlopen(request, timeout=30)
    assert again.value.code == 404
    again.value.close()


def open_page(base: str, path: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
    conn.request("GET", path)
    response = conn.getresponse()
    assert response.status == 200
    return conn, response


@pytest.mark.slow
def test_a_viewer_waiting_for_a_kernel_has_the_numbers_and_their_place(
    tmp_path: Path,
) -> None:
    """Every kernel the budget allows is in use (ECC_MAX_KERNELS=2: the landing page's
    two preheated ones): the next viewers get the page's numbers at once, from the cache,
    and their place in the line; one who leaves before their turn starts nothing."""
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    env = {"ECC_MAX_KERNELS": "2"}
    with voila_server(db, tmp_path / "serve.log", pool_size=0, env=env) as base:
        page = f"/voila/render/{LANDING_PAGE}.ipynb?preset=this_quarter&compare=previous"
        preheated = [open_page(base, page) for _ in range(2)]  # the two waiting kernels
        painted = [read_until(response, "data-metric") for _, response in preheated]
        # each browser gets an id it keeps across pages (a crowd, not one person's clicks)
        cookies = [
            [
                c
                for c in response.headers.get_all("Set-Cookie") or []
                if c.startswith("ecc-browser=")
            ]
            for _, response in preheated
        ]
        assert all(len(c) == 1 and "HttpOnly" in c[0] for c in cookies), cookies
        assert cookies[0] != cookies[1]
        for text in painted:  # both have the numbers on screen: now their kernels
            report_painted(base, text)
        taken = [
            read_until(response, '"kernelId"', text)
            for (_, response), text in zip(preheated, painted, strict=True)
        ]
        third, third_stream = open_page(base, page)  # no kernel left; the budget is used
        seen = read_until(third_stream, "data-metric")
        report_painted(base, seen)
        seen = read_until(third_stream, "ecc_wait(0, true)", seen)  # next, when one is free
        assert "data-metric" in seen
        query = {"preset": "this_quarter", "compare": "previous"}
        engine = make_engine(db)
        try:
            assert mismatches(seen, computed_for(engine, query, LANDING_PAGE)) == []
        finally:
            engine.dispose()
        fourth, fourth_stream = open_page(base, page)
        seen = read_until(fourth_stream, "data-metric")
        report_painted(base, seen)
        seen = read_until(fourth_stream, "ecc_wait(1, true)", seen)  # behind the third
        # an address naming no notebook takes no place in the line: Voilà's 404 at once
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/voila/render/nope.ipynb", timeout=30)
        assert missing.value.code == 404
        missing.value.close()  # its socket closed now, not whenever it is collected
        third.close()  # the third viewer leaves before their turn
        read_until(fourth_stream, "ecc_wait(0, true)", seen)
        fourth.close()
        for (conn, response), text in zip(preheated, taken, strict=True):
            read_until(response, "</html>", text)  # those two got a kernel at once
            conn.close()
        # every kernel runs below the server's CPU priority
        assert [k.nice() for k in kernels_of(base)] == [NICENESS] * 2


def kernels_of(base: str) -> list[psutil.Process]:
    """The kernel processes of the server listening at ``base``."""
    port = urlsplit(base).port
    (server,) = {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.laddr.port == port and c.status == "LISTEN"
    }
    return [
        p
        for p in psutil.Process(server).children(recursive=True)
        if any("ipykernel" in part for part in p.cmdline())
    ]


@pytest.mark.slow
def test_a_page_nobody_has_opened_shows_its_numbers_without_a_kernel(tmp_path: Path) -> None:
    """No kernel of the page has ever run (it keeps no preheated ones) and none can start
    (ECC_MAX_KERNELS=2: the landing page's two preheated kernels): its viewer still gets
    its numbers at once, under its own title, with the head taken from the landing
    page's, and their place in the line."""
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    env = {"ECC_MAX_KERNELS": "2"}
    with voila_server(db, tmp_path / "serve.log", pool_size=0, env=env) as base:
        conn, response = open_page(base, "/voila/render/retention.ipynb?preset=last_quarter")
        seen = read_until(response, "data-metric")
        assert "<title>ARR retention · Executive Command Center</title>" in seen
        engine = make_engine(db)
        try:
            expected = computed_for(engine, {"preset": "last_quarter"}, "retention")
            assert mismatches(seen, expected) == []
        finally:
            engine.dispose()
        report_painted(base, seen)
        read_until(response, "ecc_wait(0, true)", seen)  # next, when a kernel is free
        conn.close()


@pytest.mark.slow
def test_every_page_s_head_sent_before_its_kernel_is_the_one_voila_renders(
    tmp_path: Path,
) -> None:
    """Each page's first response sends a head derived from the landing page's (only the
    title differs) before Voilà renders its own; the server compares the two when
    Voilà's arrives and says so in its log when they differ."""
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    log = tmp_path / "serve.log"
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 12
    with voila_server(db, log, pool_size=0) as base:
        for name in notebooks:
            conn, response = open_page(base, f"/voila/render/{name}")
            try:
                # what the server sends before a kernel: the head, the first paint, its script
                seen = read_until(response, "window.ecc_wait = function")
                meta = json.loads((ROOT / "notebooks" / name).read_text())["metadata"]
                assert f"<title>{escape(meta['title'], quote=False)}</title>" in seen
                if re.search(r'data-ecc-painted="([^"]+)"', seen) is not None:
                    report_painted(base, seen)
                read_until(response, '"kernelId"', seen)  # Voilà's own head was compared
            finally:
                conn.close()
    said = log.read_text() + log.with_suffix(".voila.log").read_text()
    assert "the head of" not in said
