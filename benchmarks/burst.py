"""Monday morning: N signed-in viewers open the landing page at the same moment, through
the hub, against a static baseline page opened the same way in the same run.

    .venv/bin/python benchmarks/burst.py [--customers 2000] [--sizes 1,5,10,25,50] \
        [--mix-sizes 25] [--protocol-sizes 50,200] [--runs 1] [--db URL] \
        [--write docs/benchmarks-history.md] [--rows docs/burst-2k.json] [--plot docs/burst-2k.png]
    .venv/bin/python benchmarks/burst.py --replot docs/burst-2k.json --plot docs/burst-2k.png

The stack runs as ``make demo`` runs it (``ecc hub start`` with the default pools:
two preheated kernels for the landing page; tests/hubstack.py: free loopback ports, a
temporary folder) on a refreshed demo database. One viewer signs in as ``vp``;
every browser context of a burst starts with those cookies (signed in, as people who
signed in earlier in the day are), and all N navigations start together.

- **time to KPI**: from the burst's start to the first visible ``[data-metric]`` of each
  page (wall clock in this process); p50, p95, max; a page without one within
  ``TIMEOUT`` seconds is a failure;
- **static baseline**: the same N contexts opening a page of 50 KPI elements and an SVG
  chart served by a plain HTTP server — the browsers' own cost on this machine, which
  grows with N; **server delay** = p95(command center) - p95(baseline);
- **kernels** and **stack memory** (total PSS of the hub, proxy, services and kernels)
  after each burst, then once the viewers have closed their tabs and the pools have
  refilled (at most ``LEAVE`` seconds later), and before the first burst (idle).

Between bursts the pools refill (the log says so) and settle. ``--rows`` keeps each
burst's figures (JSON, one object a line, written as they come); ``--plot`` draws them:
the times against N (first KPI p50 and p95, widgets live p95, the baseline's p95) and
the stack's memory after each burst. ``--replot ROWS`` draws an earlier run's rows.

``--mix-sizes`` (default 25) adds the session mix: each of N viewers opens the landing
page, then two other dashboards (the next as soon as the previous shows its numbers),
then changes the last page's period once its widgets are live; against the static page
opened three times the same way. ``--db URL`` uses a demo database already built (a
100,000-customer one takes minutes to generate) instead of generating one.

``--protocol-sizes`` (default 50,200) adds bursts of viewers without a browser (HTTP
and websocket, nothing rendered): the seconds to the numbers in the page, and to a live
page (complete, its kernel answering ``kernel_info`` on the websocket).
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import emit, machine, parser
from ecc.db import init_schema, make_engine
from ecc.demo import build_demo
from ecc.ui.first_paint import BROWSER_COOKIE
from ecc.ui.pools import DEFAULT_POOL_SIZE, LANDING_PAGE
from tests.support.hubstack import Stack, hub_stack
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, free_port

TODAY = date(2026, 11, 24)
TIMEOUT = 300.0
KPI = "[data-metric]"
#: A KPI of the widgets (the page is live: filters, exports, drill-down).
LIVE = "#rendered_cells [data-metric]"
SETTLE = 15.0
#: How long after the viewers leave the stack should be back to idle (issue 16: 2 min).
LEAVE = 120.0


def baseline_page(folder: Path) -> Path:
    """A static page of 50 KPI elements and an SVG chart (no script)."""
    kpis = "".join(
        f"<div class='k'><span>KPI {i}</span><b data-metric='m{i}' data-value='{i}'>"
        f"${i}.0M</b></div>"
        for i in range(50)
    )
    bars = "".join(
        f"<rect x='{i * 20}' y='{200 - 7 * i}' width='16' height='{7 * i}' fill='#2563eb'/>"
        for i in range(25)
    )
    page = folder / "index.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>baseline</title>"
        "<style>.k{display:inline-block;margin:8px;font:14px sans-serif}</style></head>"
        f"<body><h1>Baseline</h1>{kpis}<svg width='520' height='210'>{bars}</svg></body></html>"
    )
    return page


def stack_processes(hub_dir: Path) -> list[psutil.Process]:
    """The stack's processes: those started with its hub folder in their environment,
    and everything below them (proxy, services, kernels)."""
    marker = f"ECC_HUB_DIR={hub_dir}"
    roots = []
    for proc in psutil.process_iter():
        try:
            if any(f"{k}={v}" == marker for k, v in proc.environ().items()):
                roots.append(proc)
        except (psutil.Error, OSError):
            continue
    found: dict[int, psutil.Process] = {p.pid: p for p in roots}
    for root in roots:
        try:
            for child in root.children(recursive=True):
                found[child.pid] = child
        except psutil.Error:
            continue
    return list(found.values())


def footprint(hub_dir: Path) -> tuple[int, float]:
    """(kernels, memory in GB) of the stack now. Memory is the sum of the processes'
    proportional set sizes (PSS): a page shared by several processes (the libraries a
    forked kernel shares with the process it was forked from) counts once in all, as it
    does in the machine's memory; a sum of RSS would count it in every process."""
    kernels, pss = 0, 0
    for proc in stack_processes(hub_dir):
        try:
            pss += proc.memory_full_info().pss
            if "ipykernel" in " ".join(proc.cmdline()):
                kernels += 1
        except psutil.Error:
            continue
    return kernels, pss / 1e9


async def burst(
    browser: Any, state: dict[str, Any] | None, url: str, n: int, live: str | None = None
) -> tuple[list[float], list[float]]:
    """N contexts open ``url`` together: seconds to the first visible KPI of each (inf:
    failed), and to the first visible ``live`` element (the widgets), when given."""
    contexts, pages = await open_tabs(browser, state, n)
    started = time.perf_counter()

    async def one(page: Any) -> tuple[float, float]:
        first = alive = float("inf")
        try:
            await page.goto(url, wait_until="commit", timeout=TIMEOUT * 1000)
            await page.wait_for_selector(KPI, state="visible", timeout=TIMEOUT * 1000)
            first = time.perf_counter() - started
            if live is not None:
                await page.wait_for_selector(live, state="visible", timeout=TIMEOUT * 1000)
                alive = time.perf_counter() - started
        except Exception:
            pass
        return first, alive

    results = await asyncio.gather(*(one(p) for p in pages))
    await close_tabs(contexts, pages)
    return [r[0] for r in results], [r[1] for r in results]


async def open_tabs(
    browser: Any, state: dict[str, Any] | None, n: int
) -> tuple[list[Any], list[Any]]:
    """N fresh browser contexts (each a viewer, signed in when ``state`` is given), a tab
    in each, at laptop size."""
    contexts = [
        await browser.new_context(storage_state=state, viewport={"width": 1440, "height": 900})
        for _ in range(n)
    ]
    return contexts, [await c.new_page() for c in contexts]


async def close_tabs(contexts: list[Any], pages: list[Any]) -> None:
    for page in pages:  # as a person closes a tab: the page's unload handlers run
        await page.close(run_before_unload=True)
    for c in contexts:
        await c.close()


#: The session mix: the landing page, then two other dashboards, then a filter change.
MIX = (LANDING_PAGE, "retention", "risk")
#: The filter change: the period of the last page, to year to date (in the URL once shown).
CHANGE = ("Year to date", "location.search.includes('preset=ytd')")


async def session_mix(
    browser: Any, state: dict[str, Any] | None, urls: list[str], n: int, change: bool
) -> dict[str, list[float]]:
    """N viewers at once, each opening ``urls`` one after another in their tab (the next
    as soon as the previous shows its numbers): the seconds from each navigation to its
    first visible KPI. With ``change``, each then waits for the last page's widgets
    ("live", seconds from that page's navigation) and changes its period once
    ("filter": seconds from the choice to the page showing the new period, its URL
    written after the numbers). Failures are inf."""
    contexts, pages = await open_tabs(browser, state, n)
    keys = [f"page{i + 1}" for i in range(len(urls))] + (["live", "filter"] if change else [])

    async def one(page: Any) -> dict[str, float]:
        out = dict.fromkeys(keys, float("inf"))
        try:
            for key, url in zip(keys, urls, strict=False):  # then live, filter
                began = time.perf_counter()
                await page.goto(url, wait_until="commit", timeout=TIMEOUT * 1000)
                await page.wait_for_selector(KPI, state="visible", timeout=TIMEOUT * 1000)
                out[key] = time.perf_counter() - began
            if change:
                await page.wait_for_selector(LIVE, state="visible", timeout=TIMEOUT * 1000)
                out["live"] = time.perf_counter() - began
                period = page.locator("#rendered_cells select").first
                chose = time.perf_counter()
                await period.select_option(label=CHANGE[0], timeout=TIMEOUT * 1000)
                await page.wait_for_function(CHANGE[1], timeout=TIMEOUT * 1000, polling=20)
                out["filter"] = time.perf_counter() - chose
        except Exception:
            pass
        return out

    results = await asyncio.gather(*(one(p) for p in pages))
    await close_tabs(contexts, pages)
    return {k: [r[k] for r in results] for k in keys}


async def protocol_burst(
    state: dict[str, Any], dashboards: str, url: str, n: int
) -> tuple[list[float], list[float]]:
    """N viewers without a browser (HTTP and websocket, nothing rendered) open ``url``
    together: seconds to the numbers in the page (its first ``data-metric``), and to a
    live page (the page complete and its kernel answering on the websocket). Each posts
    its first paint's token as soon as the numbers arrive, as the page's script does
    once they are on screen, and shuts its kernel down at the end, as a closed tab does."""
    import httpx
    import websockets

    jar = httpx.Cookies()
    for cookie in state["cookies"]:
        jar.set(cookie["name"], cookie["value"], domain=cookie["domain"], path=cookie["path"])
    started = time.perf_counter()

    async def one() -> tuple[float, float]:
        first = alive = float("inf")
        async with httpx.AsyncClient(cookies=jar, timeout=TIMEOUT) as client:
            try:
                seen = ""
                async with client.stream("GET", url) as response:
                    async for chunk in response.aiter_text():
                        seen += chunk
                        if first == float("inf") and 'data-metric="' in seen:
                            first = time.perf_counter() - started
                            beacon = re.search(r'data-ecc-painted="([^"]+)"', seen)
                            if beacon is not None:
                                await client.post(urljoin(url, beacon.group(1)))
                kernel = re.search(r'"kernelId": "([0-9a-f-]+)"', seen)
                if kernel is None:
                    return first, alive
                channels = urljoin(dashboards, f"api/kernels/{kernel.group(1)}/channels")
                cookies = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
                async with websockets.connect(
                    "ws" + channels.removeprefix("http"), additional_headers={"Cookie": cookies}
                ) as ws:
                    asked = uuid.uuid4().hex
                    await ws.send(json.dumps(kernel_info_request(asked)))
                    while (
                        json.loads(await ws.recv()).get("parent_header", {}).get("msg_id") != asked
                    ):
                        pass
                alive = time.perf_counter() - started
                xsrf = next((str(c.value) for c in client.cookies.jar if c.name == "_xsrf"), "")
                await client.post(
                    urljoin(dashboards, f"voila/api/shutdown/{kernel.group(1)}"),
                    headers={"X-XSRFToken": xsrf},
                )
            except Exception:
                pass
        return first, alive

    results = await asyncio.gather(*(one() for _ in range(n)))
    return [r[0] for r in results], [r[1] for r in results]


def kernel_info_request(msg_id: str) -> dict[str, Any]:
    """A Jupyter ``kernel_info_request`` on the shell channel (JSON websocket form)."""
    return {
        "header": {
            "msg_id": msg_id,
            "msg_type": "kernel_info_request",
            "session": msg_id,
            "username": "",
            "date": datetime.now().isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {},
        "channel": "shell",
        "buffers": [],
    }


async def sign_in(browser: Any, stack: Stack) -> dict[str, Any]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{stack.url}/hub/login")
    await page.fill("input[name=username]", "vp")
    await page.fill("input[name=password]", stack.logins["vp"])
    await page.click("[type=submit]")
    await page.wait_for_selector(KPI, timeout=TIMEOUT * 1000)
    state: dict[str, Any] = await context.storage_state()
    # each viewer is a browser of its own: the sign-in's browser id is not shared
    state["cookies"] = [c for c in state["cookies"] if c["name"] != BROWSER_COOKIE]
    await page.close(run_before_unload=True)
    await context.close()
    return state


def stats(times: list[float]) -> dict[str, float]:
    ok = sorted(t for t in times if t != float("inf"))
    if not ok:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan"), "failed": len(times)}
    p95 = ok[min(len(ok) - 1, max(0, round(0.95 * len(ok)) - 1))]
    return {
        "p50": statistics.median(ok),
        "p95": p95,
        "max": ok[-1],
        "failed": len(times) - len(ok),
    }


def wait_refilled(stack: Stack, timeout: float = 600) -> None:
    """Until the log shows no pool being filled for a while: the pools are full again."""
    deadline = time.monotonic() + timeout
    last = stack.log.stat().st_size
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(1)
        size = stack.log.stat().st_size
        if size != last:
            last, quiet_since = size, time.monotonic()
        elif time.monotonic() - quiet_since >= SETTLE:
            return


def back_to_idle(stack: Stack, idle_kernels: int) -> tuple[int, float]:
    """The stack's footprint once the viewers have left: the pools refilled and no more
    kernels than when idle, or ``LEAVE`` seconds after they left."""
    left_at = time.monotonic()
    wait_refilled(stack)
    while footprint(stack.hub_dir)[0] > idle_kernels and time.monotonic() - left_at < LEAVE:
        time.sleep(2)
    return footprint(stack.hub_dir)


async def run(
    customers: int,
    sizes: list[int],
    runs: int,
    keep: Path | None = None,
    protocol_sizes: tuple[int, ...] = (),
    mix_sizes: tuple[int, ...] = (),
    database: str | None = None,
) -> list[dict[str, Any]]:
    from playwright.async_api import async_playwright

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ecc-burst-") as tmp:
        folder = Path(tmp)
        db = database or f"sqlite:///{folder / 'ecc.sqlite'}"
        if database is None:
            engine = make_engine(db)
            init_schema(engine)
            build_demo(engine, customers=customers, seed=7, today=TODAY)
            engine.dispose()
        subprocess.run([sys.executable, "-m", "ecc.cli", "refresh", "--db", db], check=True)
        static = folder / "static"
        static.mkdir()
        baseline_page(static)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=static,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        baseline_url = f"http://127.0.0.1:{port}/index.html"
        (folder / "stack").mkdir()
        try:
            with hub_stack(db, folder / "stack", pool_size=DEFAULT_POOL_SIZE) as stack:
                async with async_playwright() as p:
                    browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    state = await sign_in(browser, stack)
                    wait_refilled(stack)
                    idle = footprint(stack.hub_dir)
                    landing = stack.dashboards + f"voila/render/{LANDING_PAGE}.ipynb"

                    def record(n: int, r: int, client: str, figures: dict[str, Any]) -> None:
                        after = footprint(stack.hub_dir)
                        left = back_to_idle(stack, idle[0])
                        row = {
                            "n": n,
                            "run": r + 1,
                            "client": client,
                            **figures,
                            "kernels_after": after[0],
                            "gb_after": after[1],
                            "kernels_left": left[0],
                            "gb_left": left[1],
                            "idle": idle,
                        }
                        rows.append(row)
                        print(row, flush=True)
                        if keep is not None:
                            with keep.open("a") as fh:
                                fh.write(json.dumps(row) + "\n")

                    for n in sizes:
                        for r in range(runs):
                            base = stats((await burst(browser, None, baseline_url, n))[0])
                            times = await burst(browser, state, landing, n, LIVE)
                            cc = stats(times[0])
                            figures = {"cc": cc, "live": stats(times[1]), "base": base}
                            record(n, r, "browser", {**figures, "delay": cc["p95"] - base["p95"]})
                    pages = [f"{stack.dashboards}voila/render/{name}.ipynb" for name in MIX]
                    bases = [f"{baseline_url}?visit={i + 1}" for i in range(len(MIX))]
                    for n in mix_sizes:
                        for r in range(runs):
                            plain = await session_mix(browser, None, bases, n, change=False)
                            visits = await session_mix(browser, state, pages, n, change=True)
                            record(n, r, "mix", mix_figures(visits, plain))
                    for n in protocol_sizes:
                        for r in range(runs):
                            times = await protocol_burst(state, stack.dashboards, landing, n)
                            record(
                                n, r, "protocol", {"cc": stats(times[0]), "live": stats(times[1])}
                            )
                    await browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    return rows


def mix_figures(times: dict[str, list[float]], base: dict[str, list[float]]) -> dict[str, Any]:
    """A session mix's figures: each page's and the baseline's, each page's server delay
    (p95 minus the baseline's p95 for the same visit), the last page's widgets, and the
    filter change."""
    pages = {key: stats(values) for key, values in times.items()}
    bases = {key: stats(values) for key, values in base.items()}
    delays = {key: pages[key]["p95"] - bases[key]["p95"] for key in bases}
    return {"pages": pages, "bases": bases, "delays": delays}


def browser_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("client", "browser") == "browser"]


def markdown(rows: list[dict[str, Any]], customers: int, runs: int) -> str:
    idle = rows[0]["idle"] if rows else (0, 0.0)
    lines = [
        f"### Burst: N viewers open the landing page at once ({datetime.now():%Y-%m-%d})",
        "",
        f"`benchmarks/burst.py --customers {customers} --runs {runs}` on {machine()}; "
        f"through the hub, signed in as vp; idle stack before the first burst: "
        f"{idle[0]} kernels, {idle[1]:.2f} GB.",
        "",
        "| N | run | p50 | p95 | max | failed | baseline p95 | server delay (p95) "
        "| live p50 | live p95 | not live | kernels after | stack GB (PSS) after "
        "| GB once refilled |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in browser_rows(rows):
        cc, base, live = row["cc"], row["base"], row["live"]
        lines.append(
            f"| {row['n']} | {row['run']} | {cc['p50']:.1f} s | {cc['p95']:.1f} s "
            f"| {cc['max']:.1f} s | {cc['failed']} | {base['p95']:.1f} s | {row['delay']:.1f} s "
            f"| {live['p50']:.1f} s | {live['p95']:.1f} s | {live['failed']} "
            f"| {row['kernels_after']} | {row['gb_after']:.1f} | {row['gb_left']:.1f} |"
        )
    if runs > 1:
        lines += [
            "",
            "Medians of the runs:",
            "",
            "| N | first KPI p95 | baseline p95 | server delay (p95) | live p95 | failed |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for n in sorted({r["n"] for r in browser_rows(rows)}):
            of_n = [r for r in browser_rows(rows) if r["n"] == n]

            def median(pick: Any, of: list[dict[str, Any]] = of_n) -> float:
                return float(statistics.median(pick(r) for r in of))

            lines.append(
                f"| {n} | {median(lambda r: r['cc']['p95']):.1f} s "
                f"| {median(lambda r: r['base']['p95']):.1f} s "
                f"| {median(lambda r: r['delay']):.1f} s "
                f"| {median(lambda r: r['live']['p95']):.1f} s "
                f"| {sum(r['cc']['failed'] for r in of_n)} |"
            )
    lines += mix_markdown([r for r in rows if r.get("client") == "mix"])
    protocol = [r for r in rows if r.get("client") == "protocol"]
    if protocol:
        lines += [
            "",
            "Viewers without a browser (HTTP and websocket, nothing rendered): seconds to "
            "the numbers in the page, and to a live page (complete, its kernel answering).",
            "",
            "| N | run | numbers p50 | numbers p95 | failed | live p50 | live p95 | live max "
            "| not live | kernels after | stack GB after | GB once left |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in protocol:
            cc, live = row["cc"], row["live"]
            lines.append(
                f"| {row['n']} | {row['run']} | {cc['p50']:.2f} s | {cc['p95']:.2f} s "
                f"| {cc['failed']} | {live['p50']:.1f} s | {live['p95']:.1f} s "
                f"| {live['max']:.1f} s | {live['failed']} | {row['kernels_after']} "
                f"| {row['gb_after']:.1f} | {row['gb_left']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def mix_markdown(mix: list[dict[str, Any]]) -> list[str]:
    """The session mix's table, and the medians of its runs."""
    if not mix:
        return []
    names = " → ".join(MIX)
    lines = [
        "",
        f"Session mix ({names}, the next page as soon as the previous one shows its "
        "numbers; then, once the last page's widgets are live, the period changed to year "
        "to date): per page, p95 seconds from its navigation to its first visible KPI and "
        "the server delay against the static baseline opened the same way; the filter "
        "change from the choice to the page showing the new period.",
        "",
        "| N | run | "
        + " | ".join(f"{m} p95 | delay" for m in MIX)
        + " | live p95 | filter p50 | filter p95 | filter max | failed | stack GB after |",
        "|---:|---:|" + "---:|---:|" * len(MIX) + "---:|---:|---:|---:|---:|---:|",
    ]
    keys = [f"page{i + 1}" for i in range(len(MIX))]
    for row in mix:
        pages, delays = row["pages"], row["delays"]
        failed = sum(pages[k]["failed"] for k in (*keys, "live", "filter"))
        lines.append(
            f"| {row['n']} | {row['run']} | "
            + " | ".join(f"{pages[k]['p95']:.1f} s | {delays[k]:.1f} s" for k in keys)
            + f" | {pages['live']['p95']:.1f} s | {pages['filter']['p50']:.2f} s "
            f"| {pages['filter']['p95']:.2f} s | {pages['filter']['max']:.2f} s | {failed} "
            f"| {row['gb_after']:.1f} |"
        )
    for n in sorted({r["n"] for r in mix}):
        of_n = [r for r in mix if r["n"] == n]
        if len(of_n) < 2:
            continue
        worst = statistics.median(max(r["delays"][k] for k in keys) for r in of_n)
        change = statistics.median(r["pages"]["filter"]["p95"] for r in of_n)
        lines += [
            "",
            f"Medians of {len(of_n)} runs at N = {n}: the slowest page's server delay "
            f"{worst:.1f} s; filter change p95 {change:.2f} s.",
        ]
    return lines


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Times and memory against N, as a PNG (Altair, drawn by vl-convert)."""
    import altair as alt
    import pandas as pd
    import vl_convert as vlc

    # several runs of one N: the median of each series
    times = pd.DataFrame(
        [
            {"viewers": r["n"], "series": name, "seconds": value}
            for r in browser_rows(rows)
            for name, value in (
                ("first KPI p50", r["cc"]["p50"]),
                ("first KPI p95", r["cc"]["p95"]),
                ("widgets live p95", r["live"]["p95"]),
                ("static baseline p95", r["base"]["p95"]),
            )
            if value == value and value != float("inf")  # drop NaN and failures
        ]
    )
    times = times.groupby(["viewers", "series"], as_index=False).agg(seconds=("seconds", "median"))
    memory = pd.DataFrame([{"viewers": r["n"], "GB": r["gb_after"]} for r in browser_rows(rows)])
    memory = memory.groupby("viewers", as_index=False).agg(GB=("GB", "median"))
    x = alt.X("viewers:Q", title="viewers opening the landing page at once")
    left = (
        alt.Chart(times, title="Seconds to the numbers (median of runs)")
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("seconds:Q", title="seconds (log)", scale=alt.Scale(type="log")),
            color="series:N",
        )
        .properties(width=380, height=260)
    )
    right = (
        alt.Chart(memory, title="Stack memory after the burst (PSS)")
        .mark_line(point=alt.OverlayMarkDef(color="#444"), color="#444")
        .encode(x=x, y=alt.Y("GB:Q", title="GB", scale=alt.Scale(zero=True)))
        .properties(width=260, height=260)
    )
    chart = alt.hconcat(left, right).resolve_scale(color="independent")
    chart = chart.configure(background="white")
    path.write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--sizes", default="1,5,10,25,50")
    ap.add_argument(
        "--protocol-sizes", default="50,200", help="viewers without a browser (empty: none)"
    )
    ap.add_argument("--mix-sizes", default="25", help="viewers of the session mix (empty: none)")
    ap.add_argument("--db", default=None, help="a demo database to use as it is (refreshed first)")
    ap.add_argument("--rows", type=Path, default=None, help="keep each burst's figures here")
    ap.add_argument("--plot", type=Path, default=None, help="draw the figures as this PNG")
    ap.add_argument("--replot", type=Path, default=None, help="draw these rows; run nothing")
    args = ap.parse_args()
    if args.replot is not None:
        rows = [json.loads(line) for line in args.replot.read_text().splitlines() if line]
    else:
        sizes = [int(s) for s in str(args.sizes).split(",") if s]
        protocol = tuple(int(s) for s in str(args.protocol_sizes).split(",") if s)
        mix = tuple(int(s) for s in str(args.mix_sizes).split(",") if s)
        rows = asyncio.run(run(args.customers, sizes, args.runs, args.rows, protocol, mix, args.db))
        emit(markdown(rows, args.customers, args.runs), args.write)
    if args.plot is not None:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
