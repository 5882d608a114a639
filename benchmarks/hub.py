"""Dashboards through the front door: login → command center, and one navigation, through
JupyterHub (the shared, preheated dashboards service), side by side with Voilà inside a
per-user single-user server (the alternative the service replaces).

    .venv/bin/python benchmarks/hub.py [--customers 2000] [--repeat 5] \
        [--write docs/benchmarks-history.md]

The whole stack runs as ``ecc hub start`` does it (tests/hubstack.py: free loopback
ports, a temporary folder), on a refreshed demo database, with a pool of one preheated
kernel per dashboard (two for the landing page). Each run is a new browser context:

- login → command center: from submitting the login form to the first KPI visible on
  the landing page (wall clock: the hub's login, the OAuth round trip to the service,
  the page);
- navigation: going to the Risk dashboard, navigation start → first KPI visible
  (measured in the page);
- per-user Voilà: the analyst's own JupyterLab server (started once, timed apart) renders
  the same notebooks with Voilà's server extension, which has no preheated kernels.

Before each service run the pools are allowed to refill, as a viewer arriving a few
seconds after the previous one would find them.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.dashboards import TODAY, WATCH, wait_pool
from benchmarks.run import emit, parser
from ecc.db import init_schema, make_engine
from ecc.demo import build_demo
from tests.support.hubstack import Stack, hub_stack
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS

KPI = "[data-metric]"


def login(context: Any, stack: Stack, name: str) -> tuple[Any, float]:
    """A page logged in as ``name``; seconds from submitting the form to the first KPI
    (for vp/admin) or to JupyterLab (analyst)."""
    page = context.new_page()
    page.goto(f"{stack.url}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", stack.logins[name])
    started = time.perf_counter()
    page.click("[type=submit]")
    page.wait_for_selector(KPI if name != "analyst" else ".jp-LabShell", timeout=180_000)
    return page, time.perf_counter() - started


def tti(page: Any, url: str) -> float:
    """Navigation start → first KPI visible, measured in the page."""
    page.add_init_script(WATCH)
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_function("window.__ecc_tti !== null", timeout=180_000)
    return float(page.evaluate("window.__ecc_tti")) / 1000


def run(customers: int, repeat: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from ecc.cache.refresh import refresh

    out: dict[str, Any] = {"customers": customers, "repeat": repeat}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
        engine = make_engine(url)
        init_schema(engine)
        build_demo(engine, customers=customers, seed=7, today=TODAY)
        refresh(engine)
        engine.dispose()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with hub_stack(url, Path(tmp), pool_size=1) as stack:
            logins, navs = [], []
            for i in range(repeat):
                wait_pool(stack.log, "portfolio", i + 1, timeout=300)
                wait_pool(stack.log, "risk", i + 1, timeout=300)
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page, seconds = login(context, stack, "vp")
                logins.append(seconds)
                navs.append(tti(page, f"{stack.dashboards}voila/render/risk.ipynb"))
                context.close()
                print(f"service run {i + 1}: login {seconds:.2f} s, nav {navs[-1]:.2f} s")
            out["service_login"], out["service_nav"] = logins, navs

            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page, spawn = login(context, stack, "analyst")
            out["singleuser_spawn"] = spawn
            lab = f"{stack.url}/user/analyst/voila/render/notebooks"
            first, navs = [], []
            for i in range(repeat):
                first.append(tti(page, f"{lab}/portfolio.ipynb"))
                navs.append(tti(page, f"{lab}/risk.ipynb"))
                print(f"single-user run {i + 1}: portfolio {first[-1]:.2f} s, nav {navs[-1]:.2f} s")
            out["singleuser_landing"], out["singleuser_nav"] = first, navs
            context.close()
        browser.close()
    return out


def markdown(r: dict[str, Any]) -> str:
    import platform

    med = statistics.median
    now = datetime.now().strftime("%Y-%m-%d")

    def runs(xs: list[float]) -> str:
        return ", ".join(f"{x:.2f}" for x in xs)

    service = (
        f"| hub → dashboards service (preheated) | {med(r['service_login']):.2f} "
        f"| {med(r['service_nav']):.2f} "
        f"| {runs(r['service_login'])} / {runs(r['service_nav'])} |"
    )
    own = (
        f"| hub → Voilà in the user's own server | {r['singleuser_spawn']:.2f} (server start)"
        f" + {med(r['singleuser_landing']):.2f} | {med(r['singleuser_nav']):.2f} "
        f"| {runs(r['singleuser_landing'])} / {runs(r['singleuser_nav'])} |"
    )
    return f"""
### Through the front door: JupyterHub vs Voilà in a single-user server ({now})

Machine: 2 cores, {platform.platform()}, Python {platform.python_version()}; demo of
{r["customers"]:,} customers, refreshed cache, Chromium headless; medians of {r["repeat"]} runs.
Reproduce: `.venv/bin/python benchmarks/hub.py --customers {r["customers"]} --repeat {r["repeat"]}`.

| path | login → command center s | navigation to Risk s | runs (login / navigation) |
|---|---:|---:|---|
{service}
{own}
"""


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    emit(markdown(run(args.customers, args.repeat)), args.write)


if __name__ == "__main__":
    main()
