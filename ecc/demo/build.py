"""The demo's two entry points: write the CSV files, or write and load them.

:func:`generate` runs the whole model in order (CSMs, customers, each customer's
history, the quarter's renewal stages, owners) and writes the ten files;
:func:`build_demo` does that in a temporary folder and loads the files with
:func:`ecc.load.load_directory`, the same path as ``ecc load``.
"""

from __future__ import annotations

import contextlib
import csv
import random
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .csv_out import HEADERS, TABLES, Writers
from .dates import Days
from .owners import assign
from .params import HISTORY_DAYS
from .population import make_csms, make_customers
from .rows import Generator
from .simulate import simulate
from .stages import ensure_quarter_stages
from .targets import targets

if TYPE_CHECKING:
    from sqlalchemy import Engine


def generate(
    directory: Path, *, customers: int = 2000, seed: int = 7, today: date | None = None
) -> dict[str, int]:
    """Write the ten DATA.md CSV files of a synthetic portfolio into ``directory``.

    Deterministic: the same ``(customers, seed, today)`` gives byte-identical files.
    ``today`` (default: the current date) is the last day of the history. Returns the
    number of rows written per table, in load order.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    day0 = (today or date.today()).toordinal()
    rng = random.Random(seed)
    days = Days(day0 - HISTORY_DAYS - 200, day0 + 400)
    csms = make_csms(rng, customers, day0)
    people = make_customers(rng, customers, day0)
    for c in people:
        simulate(rng, c, day0)
    ensure_quarter_stages(rng, people, day0)
    assign(rng, people, csms)
    first_signup = min(c.signup for c in people)

    directory.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(TABLES, 0)
    with contextlib.ExitStack() as stack:
        writers: dict[str, Any] = {}
        for table in TABLES:
            fh = stack.enter_context(
                (directory / f"{table}.csv").open("w", encoding="utf-8", newline="")
            )
            writers[table] = csv.writer(fh, lineterminator="\n")
            writers[table].writerow(HEADERS[table])
        w = Writers(writers, counts, {})
        w.write_many(
            "csms",
            [
                (m.csm_id, m.name, m.email, m.segment, str(m.target_accounts),
                 str(m.target_arr), "true" if m.active else "false")
                for m in csms
            ],
        )  # fmt: skip
        w.write_many(
            "customers",
            [
                (c.customer_id, c.name, c.segment, c.csm_id, days(c.signup),
                 days(c.onboarded) if c.onboarded is not None else "", c.industry, c.region)
                for c in people
            ],
        )  # fmt: skip
        w.write_many(
            "arr_events",
            [
                (w.next_id("EV", 7), c.customer_id, days(d), kind, str(delta), etype)
                for c in people
                for d, kind, delta, etype in c.events
            ],
        )
        gen = Generator(rng, day0, days, csms)
        for c in people:
            gen.customer(c, w)
        gen.internal_tasks(w, first_signup)
        gen.write_renewals(w)
        w.write_many("targets", targets(people, first_signup, day0, days))
    return counts


def build_demo(
    engine: Engine,
    *,
    customers: int = 2000,
    seed: int = 7,
    today: date | None = None,
    progress: bool = False,
) -> dict[str, int]:
    """Generate the demo portfolio into a temporary folder and load it with ``load_directory``.

    Returns the rows loaded per table.
    """
    from ..load import load_directory

    with tempfile.TemporaryDirectory(prefix="ecc-demo-") as tmp:
        folder = Path(tmp)
        generate(folder, customers=customers, seed=seed, today=today)
        return load_directory(engine, folder, progress=progress)
