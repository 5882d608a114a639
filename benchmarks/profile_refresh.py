"""Where a refresh spends its time: SQL seconds per calling function, and Python's.

    .venv/bin/python benchmarks/profile_refresh.py URL [--full] [--top 25]

Runs one refresh of the database at URL (as ``ecc refresh`` would, ``--full`` as
``ecc refresh --full``) with every statement timed and charged to the innermost
function of ``ecc`` that issued it, and prints the functions by SQL seconds, then the
statements that took longest, then the refresh's own report. Beware: it refreshes
that database's cache. The second connection's statements are timed too;
they overlap the first connection's, so the SQL seconds can add up to more than the
wall time.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event

from ecc.cache.refresh import refresh
from ecc.db import make_engine

ROOT = str(Path(__file__).resolve().parents[1] / "ecc")


def caller() -> str:
    """The innermost frames of ``ecc`` on the stack (below this module), outermost last."""
    names = []
    for frame in reversed(traceback.extract_stack()[:-3]):
        if frame.filename.startswith(ROOT):
            rel = frame.filename[len(ROOT) + 1 : -3].replace("/", ".")
            names.append(f"{rel}.{frame.name}")
            if len(names) == 3:
                break
    return " < ".join(names) or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    engine = make_engine(args.url)
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    slow: list[tuple[float, str, str]] = []
    local = threading.local()
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        local.started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seconds = time.perf_counter() - local.started
        where = caller()
        with lock:
            totals[where][0] += seconds
            totals[where][1] += 1
            slow.append((seconds, where, " ".join(statement.split())[:160]))

    started = time.perf_counter()
    report = refresh(engine, full=args.full)
    wall = time.perf_counter() - started
    sql = sum(t for t, _ in totals.values())
    print(f"wall {wall:.1f} s, SQL {sql:.1f} s over {sum(int(n) for _, n in totals.values())}")
    print(f"\n{'SQL s':>7} {'n':>5}  function (innermost < callers)")
    for where, (seconds, n) in sorted(totals.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{seconds:7.2f} {int(n):5d}  {where}")
    print("\nlongest statements")
    for seconds, where, statement in sorted(slow, reverse=True)[: args.top]:
        print(f"{seconds:7.2f}  {where}\n         {statement}")
    print(f"\n{report}")
    engine.dispose()


if __name__ == "__main__":
    main()
