"""Time `ecc report`: one dashboard's PDF and the whole board pack.

    .venv/bin/python benchmarks/reports.py [--customers 2000] [--repeat 3]
        [--parallel 1,2,3] [--db URL] [--write docs/benchmarks-history.md]

On a demo database (refreshed, as `ecc serve` keeps it): per ``--parallel`` value (how
many notebook kernels run at once), the median of ``--repeat`` runs of the board pack
(eight dashboards, HTML + PDF + Excel) and of one dashboard's PDF, with the split between
running the notebooks, printing the PDF and writing the workbook.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import emit, machine, parser
from ecc.cache.refresh import refresh
from ecc.db import init_schema, make_engine
from ecc.demo import build_demo
from ecc.filters import Filters
from ecc.reports.build import make_report
from ecc.reports.params import BOARD_PACK

TODAY = date(2026, 11, 24)


def run(url: str, parallel: list[int], repeat: int) -> list[dict[str, Any]]:
    engine = make_engine(url)
    refresh(engine)
    results = []
    for label, names, formats in (
        ("one dashboard (portfolio), PDF", ["portfolio"], ("pdf",)),
        (
            "board pack (8 dashboards), HTML + PDF + Excel",
            list(BOARD_PACK),
            ("html", "pdf", "xlsx"),
        ),
    ):
        for p in parallel:
            timings: list[dict[str, float]] = []
            for _ in range(repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    r = make_report(
                        engine, names, Filters(), out=Path(tmp), formats=formats, parallel=p
                    )
                    timings.append(r.timings)
            row = {"report": label, "parallel": p}
            for key in ("total", "notebooks", "pdf", "xlsx"):
                values = [t[key] for t in timings if key in t]
                if values:
                    row[key] = statistics.median(values)
            print(row, flush=True)
            results.append(row)
    engine.dispose()
    return results


def markdown(results: list[dict[str, Any]], repeat: int, customers: str) -> str:
    lines = [
        f"### Reports: `ecc report` ({datetime.now():%Y-%m-%d})",
        "",
        f"Machine: {machine()}.",
        "",
        f"{customers}; median of {repeat} runs; `parallel` = notebook kernels run at once "
        "(papermill), then one Chromium prints the PDF and openpyxl writes the workbook.",
        "",
        "| report | parallel | total s | notebooks s | PDF s | Excel s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:

        def cell(key: str, r: dict[str, Any] = r) -> str:
            return f"{r[key]:.1f}" if key in r else ""

        lines.append(
            f"| {r['report']} | {r['parallel']} | {cell('total')} | {cell('notebooks')} | "
            f"{cell('pdf')} | {cell('xlsx')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parallel", default="1,2,3")
    ap.add_argument("--db", default=None, help="an existing database instead of a new demo")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            url, what = args.db, f"Database {args.db}"
        else:
            url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
            engine = make_engine(url)
            init_schema(engine)
            build_demo(engine, customers=args.customers, seed=7, today=TODAY)
            engine.dispose()
            what = f"SQLite demo of {args.customers:,} customers"
        results = run(url, [int(p) for p in args.parallel.split(",")], args.repeat)
    md = markdown(results, args.repeat, what)
    emit(md, args.write)


if __name__ == "__main__":
    main()
