"""Time to interactive of every dashboard in Chromium, cold and preheated, and the time
from a filter change to updated KPIs.

    .venv/bin/python benchmarks/dashboards.py [--sizes 2000,10000] [--repeat 5] \
        [--write docs/benchmarks-history.md]

Time to interactive = navigation start → the first KPI (``[data-metric]``) visible,
measured in the page (``performance.now()`` at the moment a MutationObserver sees it).
Preheated: ``ecc serve`` with a pool of kernels per notebook, each load waiting until
the pool is full again and its new kernel has settled (``SETTLE`` seconds). Cold:
``ecc serve --no-preheat``. Filter change: the Period dropdown set to another preset →
the period text of the page changed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import emit, parser
from ecc.db import init_schema, make_engine
from ecc.demo import build_demo
from ecc.ui.pages import load_all
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, voila_server

TODAY = date(2026, 11, 24)
WATCH = """
window.__ecc_tti = null;
new MutationObserver((_, obs) => {
  const el = document.querySelector('[data-metric]');
  if (el && el.offsetParent !== null) { window.__ecc_tti = performance.now(); obs.disconnect(); }
}).observe(document, {subtree: true, childList: true});
"""


SETTLE = 10.0


def wait_pool(log: Path, name: str, count: int, timeout: float = 120) -> None:
    """Wait until the log says ``name``'s pool was filled ``count`` times, then let the new
    kernel finish its preheat work (Voilà logs "filled" when the kernel has started, before
    it has run the notebook up to the request): a viewer arriving later finds it ready."""
    deadline = time.monotonic() + timeout
    needle = f"Kernel pool of {name}.ipynb is filled"
    while time.monotonic() < deadline:
        if log.read_text().count(needle) >= count:
            time.sleep(SETTLE)
            return
        time.sleep(0.2)


def measure(browser: Any, url: str) -> float:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(WATCH)
    page.goto(url, wait_until="commit", timeout=120_000)
    page.wait_for_function("window.__ecc_tti !== null", timeout=120_000)
    tti = float(page.evaluate("window.__ecc_tti")) / 1000
    page.close()
    return tti


def filter_change(browser: Any, url: str, repeat: int) -> list[float]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url, wait_until="commit", timeout=120_000)
    page.wait_for_selector("[data-metric]", timeout=120_000)
    out = []
    labels = ["Year to date", "This quarter"]
    for i in range(repeat):
        before = page.evaluate("document.querySelector('.ecc-range').textContent")
        started = time.perf_counter()
        page.locator("select").first.select_option(label=labels[i % 2])
        page.wait_for_function(
            f"document.querySelector('.ecc-range').textContent !== {before!r}", timeout=60_000
        )
        out.append(time.perf_counter() - started)
    page.close()
    return out


def run(
    sizes: list[int], repeat: int, existing: list[tuple[int, str]] | None = None
) -> list[dict[str, Any]]:
    """Measure demo databases of ``sizes`` customers (made here) and ``existing``
    (customers, URL) databases; each is refreshed first, as `ecc serve` keeps it."""
    from playwright.sync_api import sync_playwright

    from ecc.cache.refresh import refresh

    pages = [p.name for p in load_all().values() if p.nav]
    results = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        targets = [(n, f"sqlite:///{Path(tmp) / f'd{n}.sqlite'}", True) for n in sizes]
        targets += [(n, url, False) for n, url in existing or []]
        for n, url, make in targets:
            engine = make_engine(url)
            if make:
                init_schema(engine)
                build_demo(engine, customers=n, seed=7, today=TODAY)
            refresh(engine)
            engine.dispose()
            log = Path(tmp) / f"voila{n}.log"
            with voila_server(url, log, wait_for="workload.ipynb") as base:
                time.sleep(5)
                for name in pages:
                    pre = []
                    for i in range(repeat):
                        wait_pool(log, name, i + 1)
                        pre.append(measure(browser, f"{base}/voila/render/{name}.ipynb"))
                    row = {"customers": n, "page": name, "preheated": statistics.median(pre)}
                    print(row, flush=True)
                    results.append(row)
                fc = filter_change(browser, f"{base}/voila/render/portfolio.ipynb", 2 * repeat)
                results.append(
                    {
                        "customers": n,
                        "page": "filter change (portfolio)",
                        "filter_change": statistics.median(fc),
                    }
                )
            cold_log = Path(tmp) / f"cold{n}.log"
            cold = []
            with _cold_server(url, cold_log) as base:
                for _ in range(repeat):
                    cold.append(measure(browser, f"{base}/voila/render/portfolio.ipynb"))
            results.append(
                {"customers": n, "page": "portfolio, cold kernel", "cold": statistics.median(cold)}
            )
            print(results[-2:], flush=True)
        browser.close()
    return results


def _cold_server(url: str, log: Path) -> Any:
    import os
    import signal
    import subprocess
    from contextlib import contextmanager

    from tests.support.servers import ROOT, free_port

    @contextmanager
    def server() -> Any:
        port = free_port()
        with log.open("w") as fh:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ecc.cli",
                    "serve",
                    "--no-preheat",
                    "--port",
                    str(port),
                    "--db",
                    url,
                    "--notebooks",
                    str(ROOT / "notebooks"),
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            time.sleep(6)
            yield f"http://127.0.0.1:{port}"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    return server()


def markdown(results: list[dict[str, Any]], repeat: int) -> str:
    lines = [
        f"### Dashboards: time to interactive in Chromium ({datetime.now():%Y-%m-%d})",
        "",
        f"Median of {repeat} loads per page (filter change: {2 * repeat} changes), SQLite demo "
        "database, `ecc serve` with one preheated kernel per notebook (two for the landing "
        "page), Chromium headless on the same 2-core machine.",
        "",
        "| customers | page | preheated s | cold s | filter change s |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in results:

        def cell(key: str, r: dict[str, Any] = r) -> str:
            return f"{r[key]:.2f}" if key in r else ""

        lines.append(
            f"| {r['customers']:,} | {r['page']} | {cell('preheated')} | "
            f"{cell('cold')} | {cell('filter_change')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--sizes", default="2000,10000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--db",
        action="append",
        default=[],
        metavar="CUSTOMERS=URL",
        help="also measure an existing database (e.g. 100000=postgresql+psycopg://...)",
    )
    args = ap.parse_args()
    existing = [(int(n), url) for n, url in (d.split("=", 1) for d in args.db)]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = run(sizes, args.repeat, existing)
    md = markdown(results, args.repeat)
    emit(md, args.write)


if __name__ == "__main__":
    main()
