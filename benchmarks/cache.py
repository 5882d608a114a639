"""Benchmark the pre-aggregation cache (FR-2): refresh time and memory, and cache reads.

    .venv/bin/python benchmarks/cache.py [--sizes 1000,10000,100000] [--repeat 20]
        [--databases sqlite,postgresql] [--reuse-url URL] [--redis-url URL]
        [--write docs/benchmarks-history.md]

For each size: generate the demo CSVs once (today 2026-11-24), then per database load
them into a fresh database (SQLite: a temporary folder; PostgreSQL: ``ecc_bench``, made
by ``benchmarks/run.py``'s ``pg_database()``) and measure:

1. the first refresh (every month-end snapshot and the whole cache), ``refresh --full``,
   then an incremental refresh after one day of new data (a weekly health score for every
   7th active customer, a few activities per active CSM, two expansions; dated the day
   after the data's latest date, marked with ``mark_data_version``). Each refresh runs in
   a child process: its time around ``refresh()`` and its peak RSS (``VmHWM`` of
   ``/proc/self/status``; ``ru_maxrss`` is no good here, as it keeps the parent's RSS
   at the fork), which includes Python with the library imported (the "baseline");
2. per dashboard in the navigation, its default view (this quarter vs the previous
   period, all segments, ``today`` = the data's latest date): ``metrics_for`` read from the
   cache table (median of ``--repeat`` reads on one open connection after a warm-up),
   the same through Redis (``ECC_REDIS_URL``; the warm-up read fills it), and computed
   without the cache (``use_cache=False``, median of 3 after a warm-up), and all the data
   of the page as the app gathers it (``build_context``, which adds the view's validation
   and ``Page.extra``, computed on every load, to the cached metrics). The reads are
   measured after the full refresh; after the incremental refresh every page's default
   view is checked again to come from the cache.

``--reuse-url URL`` benchmarks an already loaded database instead (no generation, no
load; ``--sizes`` and ``--databases`` are ignored). Beware: it appends the day of data
of step 1 to that database, and its "first" refresh is an ordinary ``refresh`` (it is
``skipped`` when the cache is already up to date).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.run import PG_URL, TODAY, emit, machine, median_of, parser, pg_database, timed
from ecc.cache import metrics_for, store
from ecc.cache.redis_layer import layer_for
from ecc.db import init_schema, make_engine
from ecc.demo import generate
from ecc.demo_day import append_day, append_day_to_csv
from ecc.load import load_directory
from ecc.metrics.state import Scope, data_today
from ecc.periods import preset_period
from ecc.schema import customers
from ecc.ui.pages import Page, build_context, load_all
from ecc.ui.view import View, validate

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/8"
COMPUTED_REPEAT = 3

#: Run in a child process: one refresh, its seconds and the child's peak RSS as JSON.
#: The peak is VmHWM, the high-water mark of the child's own memory: ``ru_maxrss`` would
#: include the parent's RSS at the fork, carried over the exec.
CHILD = """
import json, sys, time
from ecc.cache.refresh import refresh
from ecc.db import make_engine

def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

engine = make_engine(sys.argv[1])
with engine.connect() as conn:
    pass
baseline = hwm_kb()
started = time.perf_counter()
report = refresh(engine, full=sys.argv[2] == "full")
seconds = time.perf_counter() - started
peak = hwm_kb()
engine.dispose()
print(json.dumps({
    "status": report.status, "requests": report.requests, "rows": report.rows,
    "snapshots": report.snapshots, "seconds": seconds, "peak_kb": peak,
    "reused": report.reused, "prepared": report.prepared,
    "intermediates": getattr(report, "intermediates", 0),
    "swap_seconds": report.seconds,
    "baseline_kb": baseline, "data_as_of": str(report.data_as_of),
}))
"""


@dataclass
class Refresh:
    status: str
    requests: int
    rows: int
    snapshots: int
    seconds: float
    peak_mb: float
    baseline_mb: float
    data_as_of: str
    reused: int = 0
    prepared: int = 0
    intermediates: int = 0
    swap_seconds: float = 0.0  # from the start to the cache swap (before leaderboard, alerts)


@dataclass
class Read:
    page: str
    areas: tuple[str, ...]
    table_ms: float
    redis_ms: float | None
    computed_ms: float
    page_ms: float  # build_context: the view validated, metrics_for and Page.extra


@dataclass
class Result:
    customers: int
    database: str
    load_s: float | None = None
    first: Refresh | None = None
    full: Refresh | None = None
    idle: Refresh | None = None  # the refresh with nothing new: prepares tomorrow
    incremental: Refresh | None = None
    day_load_s: float | None = None  # loading the CSVs with the day added
    verified: str = ""  # incremental vs full, key by key
    appended: dict[str, int] = field(default_factory=dict)
    reads: list[Read] = field(default_factory=list)
    read_today: date | None = None


# ---------------------------------------------------------------- refreshes


def run_refresh(url: str, *, full: bool) -> Refresh:
    """One refresh in a child process (without Redis, so every run does the same work)."""
    env = {k: v for k, v in os.environ.items() if k != "ECC_REDIS_URL"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, url, "full" if full else "incremental"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"refresh of {url} failed:\n{proc.stderr[-3000:]}")
    got: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return Refresh(
        status=got["status"],
        requests=got["requests"],
        rows=got["rows"],
        snapshots=got["snapshots"],
        seconds=got["seconds"],
        peak_mb=got["peak_kb"] / 1024,
        baseline_mb=got["baseline_kb"] / 1024,
        data_as_of=got["data_as_of"],
        reused=got["reused"],
        prepared=got["prepared"],
        intermediates=got["intermediates"],
        swap_seconds=got["swap_seconds"],
    )


# ---------------------------------------------------------------- a day of new data


# ---------------------------------------------------------------- reads


def redis_available(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def nav_pages() -> list[Page]:
    """The pages of the navigation bar (drill-down pages are not in it)."""
    return [page for page in load_all().values() if page.nav]


def read_ms(
    conn: Connection,
    repeat: int,
    expected: str,
    label: str,
    **kwargs: Any,
) -> float:
    """Median milliseconds of ``metrics_for`` after one warm-up; every timed read must
    come from ``expected``."""
    sources: list[str] = []

    def read() -> None:
        sources.append(metrics_for(conn, **kwargs).source)

    med, _ = median_of(repeat, read)
    timed_sources = set(sources[1:])
    if timed_sources != {expected}:
        raise AssertionError(
            f"{label}: expected every read from {expected!r}, got {sources} "
            f"(warm-up first) for {kwargs.get('areas')}"
        )
    return med * 1000


def measure_reads(engine: Engine, repeat: int, redis_url: str | None) -> tuple[date, list[Read]]:
    scope = Scope()
    out: list[Read] = []
    with engine.connect() as conn:
        today = data_today(conn)
        assert today is not None
        period = preset_period("this_quarter", today)
        _, default = validate(conn, View())  # what a dashboard opens with
        if (default.period, default.compare, default.scope) != (period, "previous", scope):
            raise AssertionError(f"the default view is not this quarter vs previous: {default}")
        db_url = conn.engine.url.render_as_string(hide_password=True)
        for page in nav_pages():
            name, areas = page.name, page.areas
            req: dict[str, Any] = {
                "period": period,
                "compare": "previous",
                "scope": scope,
                "areas": areas,
            }
            table = read_ms(conn, repeat, "cache", f"{name} (table)", **req)
            redis_ms: float | None = None
            if redis_url:
                os.environ["ECC_REDIS_URL"] = redis_url
                try:
                    redis_ms = read_ms(conn, repeat, "redis", f"{name} (Redis)", **req)
                finally:
                    layer = layer_for(db_url)
                    if layer is not None:
                        layer.invalidate()
                    del os.environ["ECC_REDIS_URL"]
            computed = read_ms(
                conn, COMPUTED_REPEAT, "computed", f"{name} (computed)", use_cache=False, **req
            )
            whole = median_of(repeat, build_context, conn, page, View())[0] * 1000
            out.append(Read(name, areas, table, redis_ms, computed, whole))
            print(
                f"  {name}: table {table:.2f} ms, Redis "
                f"{'-' if redis_ms is None else f'{redis_ms:.2f}'} ms, computed {computed:.0f} ms, "
                f"page {whole:.1f} ms",
                flush=True,
            )
    return today, out


def check_served_from_cache(engine: Engine) -> None:
    """After a refresh, every page's default view must be a cache hit."""
    with engine.connect() as conn:
        today = data_today(conn)
        assert today is not None
        period = preset_period("this_quarter", today)
        for page in nav_pages():
            name, areas = page.name, page.areas
            got = metrics_for(conn, period, compare="previous", scope=Scope(), areas=areas)
            if got.source != "cache":
                raise AssertionError(
                    f"after the incremental refresh, {name}'s default view (today {today}) "
                    f"came from {got.source!r}, not the cache"
                )


# ---------------------------------------------------------------- one database


def cache_payloads(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {k: payload for k, (payload, _) in store.payloads(conn).items()}


def bench_database(
    url: str,
    result: Result,
    repeat: int,
    redis_url: str | None,
    folder: Path | None,
    *,
    load: bool,
    verify: bool,
) -> Result:
    """``folder``: the CSV files the database is (``load`` False) or is to be loaded from;
    the day of new data is added to them and loaded, so the refresh knows what changed.
    Without a folder the day is inserted directly (and the refresh recomputes all)."""
    engine = make_engine(url)
    try:
        if folder is not None and load:
            init_schema(engine)
            result.load_s = timed(load_directory, engine, folder)
            print(f"  loaded in {result.load_s:.1f} s", flush=True)
        result.first = run_refresh(url, full=False)
        print(f"  first refresh: {result.first}", flush=True)
        result.full = run_refresh(url, full=True)
        print(f"  full refresh: {result.full}", flush=True)
        result.idle = run_refresh(url, full=False)
        print(f"  idle refresh (prepares tomorrow): {result.idle}", flush=True)
        result.read_today, result.reads = measure_reads(engine, repeat, redis_url)
        started = time.perf_counter()
        if folder is not None:
            day, result.appended = append_day_to_csv(engine, folder)
        else:
            day, result.appended = append_day(engine)
        result.day_load_s = time.perf_counter() - started
        print(f"  appended {day}: {result.appended} in {result.day_load_s:.1f} s", flush=True)
        result.incremental = run_refresh(url, full=False)
        print(f"  incremental refresh: {result.incremental}", flush=True)
        check_served_from_cache(engine)
        if verify:
            incremental = cache_payloads(engine)
            again = run_refresh(url, full=True)
            full = cache_payloads(engine)
            differ = sorted(
                k for k in set(incremental) | set(full) if incremental.get(k) != full.get(k)
            )
            result.verified = (
                f"{len(full):,} cache rows equal to a full refresh's"
                if not differ
                else f"{len(differ)} of {len(full):,} cache rows differ, e.g. {differ[:3]}"
            )
            print(f"  verified ({again.seconds:.1f} s full): {result.verified}", flush=True)
    finally:
        engine.dispose()
    return result


def pg_bench_in_use() -> bool:
    """True when another session is connected to ``ecc_bench`` (another benchmark)."""
    admin = create_engine(PG_URL)
    try:
        with admin.connect() as conn:
            n = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = 'ecc_bench' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        admin.dispose()
    return bool(n)


def run(
    sizes: list[int], repeat: int, databases: list[str], redis_url: str | None, verify: bool
) -> list[Result]:
    results: list[Result] = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "csv"
            folder.mkdir()
            t_gen = timed(generate, folder, customers=n, seed=7, today=TODAY)
            print(f"{n:,} customers: CSVs generated in {t_gen:.1f} s", flush=True)
            for db in databases:
                print(f"{n:,} customers, {db}:", flush=True)
                if db == "sqlite":
                    url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
                elif db == "postgresql":
                    if pg_bench_in_use():
                        raise SystemExit("ecc_bench is in use by another session; not dropping it")
                    url = pg_database()
                else:
                    raise SystemExit(f"unknown database {db!r}; use sqlite or postgresql")
                # each database gets its own copy: the day of new data is added to it
                copy = Path(tmp) / f"csv-{db}"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(folder, copy)
                results.append(
                    bench_database(
                        url, Result(n, db), repeat, redis_url, copy, load=True, verify=verify
                    )
                )
    return results


def run_reuse(
    url: str, repeat: int, redis_url: str | None, folder: Path | None, verify: bool
) -> list[Result]:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(customers)).scalar_one()
    name = engine.dialect.name
    engine.dispose()
    print(f"{url}: {n:,} customers, {name}", flush=True)
    return [
        bench_database(url, Result(n, name), repeat, redis_url, folder, load=False, verify=verify)
    ]


# ---------------------------------------------------------------- markdown


def _cell(r: Refresh | None) -> tuple[str, str]:
    if r is None:
        return "", ""
    if r.status == "succeeded":
        # whole refresh (to the cache swap)
        s = f"{r.seconds:.2f} ({r.swap_seconds:.2f})" if r.swap_seconds else f"{r.seconds:.2f}"
    else:
        s = f"{r.status} ({r.seconds:.2f})"
    return s, f"{r.peak_mb:.0f}"


def markdown(results: list[Result], repeat: int, redis_url: str | None, reuse: str | None) -> str:
    baselines = [r.baseline_mb for res in results for r in (res.first, res.full) if r]
    baseline = f"{statistics.median(baselines):.0f}" if baselines else "?"
    today = {res.read_today for res in results}
    source = (
        f"an existing database ({make_url(reuse).render_as_string(hide_password=True)})"
        if reuse
        else f"the demo (seed 7, today {TODAY}) loaded into a fresh database"
    )
    lines = [
        f"### Pre-aggregation cache (benchmarks/cache.py) ({datetime.now():%Y-%m-%d})",
        "",
        f"Machine: {machine()}.",
        "",
        f"Data: {source}. Refreshes run in a child process each: seconds around "
        "`refresh()`, and the child's peak RSS in MB (about "
        f"{baseline} MB of it is Python with the library imported, before the refresh). "
        "`first` = the first refresh of the database (every month-end snapshot and the "
        "whole cache); seconds are the whole `refresh()` and, in brackets, to the cache swap "
        "(dashboards show the new data from then; the leaderboard record and the alert "
        "rules follow); `full` = `ecc refresh --full`; `incremental` = `ecc refresh` after "
        "one day of new data (a health score for every 7th active customer, 3 activities "
        "per active CSM, 2 expansions; `ecc.demo_day`), added to the CSV files and loaded "
        "(`day load`), so the load records what changed; `idle` = `ecc refresh` with "
        "nothing new, which computes tomorrow's requests ahead on today's data "
        "(`prepared`: how many area results it computed); `reused` = area results the "
        "incremental refresh carried over + intermediate results it loaded; `snap.` = "
        "the month-end snapshots it built; `incremental = full`: the cache "
        "after the incremental refresh compared key by key with a full refresh's.",
        "",
        "| customers | database | cache rows | first s | first MB | full s | full MB "
        "| idle s (prepared) | day load s | incremental s | incremental MB | reused | snap. "
        "| incremental = full |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for res in results:
        fs, fm = _cell(res.first)
        us, um = _cell(res.full)
        is_, im = _cell(res.incremental)
        rows = res.full.rows if res.full else 0
        snaps = res.incremental.snapshots if res.incremental else ""
        idle = f"{res.idle.seconds:.2f} ({res.idle.prepared})" if res.idle else ""
        day = f"{res.day_load_s:.1f}" if res.day_load_s is not None else ""
        reused = (
            f"{res.incremental.reused} + {res.incremental.intermediates}" if res.incremental else ""
        )
        lines.append(
            f"| {res.customers:,} | {res.database} | {rows:,} | {fs} | {fm} | {us} | {um} "
            f"| {idle} | {day} | {is_} | {im} | {reused} | {snaps} | {res.verified or '-'} |"
        )
    redis_note = (
        f"`Redis` = the same through Redis ({redis_url}; the warm-up read fills it)"
        if redis_url
        else "Redis was not measured"
    )
    lines += [
        "",
        "Reads: each dashboard's default view (this quarter vs the previous period, all "
        f"segments, today {', '.join(str(t) for t in sorted(today, key=str))}), "
        "`metrics_for(conn, ..., areas=page.areas)` on one open connection after the full "
        f"refresh. `table` = from the cache table, median of {repeat} reads after a "
        f"warm-up; {redis_note}; `computed` = the same request computed without the cache "
        f"(`use_cache=False`), median of {COMPUTED_REPEAT} after a warm-up; `page` = all the "
        "data of the page's default view as the app gathers it (`build_context`: the view "
        "validated, `metrics_for` from the cache table and `Page.extra`, which is computed "
        f"on every load), median of {repeat} after a warm-up.",
        "",
        "| customers | database | page | areas | table ms | Redis ms | computed ms | page ms |",
        "|---:|---|---|---|---:|---:|---:|---:|",
    ]
    for res in results:
        for rd in res.reads:
            redis_ms = "" if rd.redis_ms is None else f"{rd.redis_ms:.2f}"
            lines.append(
                f"| {res.customers:,} | {res.database} | {rd.page} | {', '.join(rd.areas)} "
                f"| {rd.table_ms:.2f} | {redis_ms} | {rd.computed_ms:.1f} | {rd.page_ms:.1f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument(
        "--reuse-url", default=None, help="benchmark this loaded database instead of the demo"
    )
    ap.add_argument(
        "--redis-url",
        default=REDIS_URL,
        help="Redis for the read-through measurements ('' to skip them)",
    )
    ap.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="with --reuse-url: the CSV folder that database was loaded from (the day of "
        "new data is added to these files and loaded)",
    )
    ap.add_argument(
        "--verify",
        action="store_true",
        help="after the incremental refresh, run a full one and compare the cache key by key",
    )
    args = ap.parse_args()
    os.environ.pop("ECC_REDIS_URL", None)
    redis_url: str | None = args.redis_url or None
    if redis_url and not redis_available(redis_url):
        print(f"Redis at {redis_url} is not answering; reads through Redis are skipped")
        redis_url = None
    if args.reuse_url:
        results = run_reuse(args.reuse_url, args.repeat, redis_url, args.csv, args.verify)
    else:
        results = run(
            [int(s) for s in args.sizes.split(",")],
            args.repeat,
            args.databases.split(","),
            redis_url,
            args.verify,
        )
    md = markdown(results, args.repeat, redis_url, args.reuse_url)
    emit(md, args.write)


if __name__ == "__main__":
    main()
