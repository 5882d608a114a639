"""Benchmark the library: demo generation, loading and the full metric set.

    .venv/bin/python benchmarks/run.py [--sizes 1000,10000,100000] [--repeat 5] \
        [--databases sqlite,postgresql] [--write docs/benchmarks-history.md]

For each size: generate the demo CSVs once (timed), then per database: load them
(timed; the first load into an empty database and a reload replacing the data), and
compute every metric for this quarter compared with the previous period (median of
``--repeat`` runs, after one warm-up). PostgreSQL runs use a database of their own,
``ecc_bench``, on ECC_BENCH_POSTGRES_URL (default: the local server).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ecc.db import init_schema, make_engine
from ecc.demo import generate
from ecc.load import load_directory
from ecc.metrics import compute_all
from ecc.periods import preset_period

TODAY = date(2026, 11, 24)
PG_URL = os.environ.get(
    "ECC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def median_of(
    repeat: int, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[float, list[float]]:
    fn(*args, **kwargs)  # warm-up
    runs = [timed(fn, *args, **kwargs) for _ in range(repeat)]
    return statistics.median(runs), runs


def pg_database() -> str:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "ecc_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "ecc_bench"'))
    admin.dispose()
    return make_url(PG_URL).set(database="ecc_bench").render_as_string(hide_password=False)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {pg}"
    )


def run(sizes: list[int], repeat: int, databases: list[str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    period = preset_period("this_quarter", TODAY)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            t_gen = timed(generate, folder, customers=n, seed=7, today=TODAY)
            rows = sum(1 for p in folder.glob("*.csv") for _ in p.open()) - 10
            for db in databases:
                url = f"sqlite:///{folder / 'bench.sqlite'}" if db == "sqlite" else pg_database()
                engine = make_engine(url)
                init_schema(engine)
                t_load = timed(load_directory, engine, folder)
                t_reload = timed(load_directory, engine, folder)
                med, runs = median_of(repeat, compute_all, engine, period, compare="previous")
                engine.dispose()
                row = {
                    "customers": n,
                    "database": db,
                    "rows": rows,
                    "generate_s": round(t_gen, 2),
                    "load_s": round(t_load, 2),
                    "reload_s": round(t_reload, 2),
                    "demo_s": round(t_gen + t_load, 2),
                    "metrics_median_s": round(med, 3),
                    "metrics_runs_s": [round(r, 3) for r in runs],
                }
                print(json.dumps(row), flush=True)
                results.append(row)
    return results


def markdown(results: list[dict[str, Any]], repeat: int) -> str:
    lines = [
        f"### Library: demo, load and the full metric set ({datetime.now():%Y-%m-%d})",
        "",
        f"Machine: {machine()}.",
        "",
        "`demo` = generate the CSVs + load them into an empty database (what `ecc demo` does); "
        "`reload` = `ecc load` replacing existing data; `metrics` = every area of "
        f"`ecc metrics --preset this_quarter --compare previous` (today {TODAY}), median of "
        f"{repeat} runs after a warm-up.",
        "",
        "| customers | database | source rows | generate s | load s | reload s | demo s "
        "| metrics median s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['customers']:,} | {r['database']} | {r['rows']:,} | {r['generate_s']} | "
            f"{r['load_s']} | {r['reload_s']} | {r['demo_s']} | {r['metrics_median_s']} |"
        )
    return "\n".join(lines) + "\n"


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line: its docstring as help, and ``--write FILE``."""
    ap = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--write", type=Path, default=None, help="append the markdown tables to this file"
    )
    return ap


def emit(md: str, write: Path | None) -> None:
    """Print the results' markdown and append it to ``write`` when given."""
    print(md)
    if write:
        with write.open("a") as fh:
            fh.write("\n" + md)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--databases", default="sqlite,postgresql")
    args = ap.parse_args()
    results = run([int(s) for s in args.sizes.split(",")], args.repeat, args.databases.split(","))
    emit(markdown(results, args.repeat), args.write)


if __name__ == "__main__":
    main()
