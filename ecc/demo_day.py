"""A plausible next day of demo data, to see (and measure) what a day of new data does.

:func:`day_rows` makes the rows of the day after the data's latest date: a weekly health
score for every 7th active customer, a meeting, an email answering a customer and a task
for every active CSM, and an upsell of two active customers. :func:`append_day` writes
them into the database directly; :func:`append_day_to_csv` adds them to the CSV files of
a folder and loads the folder (``ecc load``), which is how a load tells a refresh what
changed.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select

from .load import load_directory, mark_data_version
from .metrics.state import data_today
from .schema import activities, arr_events, csms, customers, health_scores

Rows = dict[str, list[dict[str, Any]]]


def day_rows(conn: Connection, seed: int = 7) -> tuple[date, Rows]:
    """The rows of one plausible day after the data's latest date, per table."""
    rng = random.Random(seed)
    latest = data_today(conn)
    if latest is None:
        raise RuntimeError("the database holds no data")
    day = latest + timedelta(days=1)
    tag = f"DAY{day:%Y%m%d}"
    arr = active_arr(conn, day)
    active = sorted(arr)
    # every customer's owner (one scan: an IN list of 90,000 ids exceeds the drivers'
    # parameter limits)
    owner = dict(conn.execute(select(customers.c.customer_id, customers.c.csm_id)).all())
    # health: every 7th active customer (weekly cadence), near its latest score
    scored = active[::7]
    latest_score = last_scores(conn, scored)
    scores = [
        {
            "customer_id": c,
            "scored_on": day,
            "score": max(
                Decimal(0),
                min(Decimal(100), latest_score.get(c, Decimal(70)) + rng.randint(-3, 3)),
            ),
        }
        for c in scored
    ]
    # activities: a meeting, an email answering the customer and a task per active CSM
    book: dict[str, list[str]] = {}
    for c in active:
        book.setdefault(owner[c], []).append(c)
    active_csms = conn.execute(select(csms.c.csm_id).where(csms.c.active)).scalars().all()
    acts: list[dict[str, Any]] = []
    for csm in sorted(active_csms):
        accounts: list[str | None] = [*book.get(csm, [])] or [None]
        for i, (kind, completed, hours) in enumerate(
            [
                ("meeting", True, None),
                ("email", True, round(rng.uniform(0.5, 12), 1)),
                ("task", rng.random() < 0.7, None),
            ]
        ):
            acts.append(
                {
                    "activity_id": f"{tag}-{csm}-{i}",
                    "csm_id": csm,
                    "customer_id": rng.choice(accounts),
                    "kind": kind,
                    "occurred_on": day,
                    "completed": completed,
                    "response_hours": hours,
                }
            )
    # ARR: an upsell of two active customers, about 10% of their ARR
    events = []
    for i, c in enumerate(rng.sample(active, min(2, len(active)))):
        delta = max(Decimal(100), (arr[c] / 1000).quantize(Decimal(1)) * 100)
        events.append(
            {
                "event_id": f"{tag}-EV{i}",
                "customer_id": c,
                "event_date": day,
                "kind": "expansion",
                "arr_delta": delta,
                "expansion_type": "upsell",
            }
        )
    return day, {"health_scores": scores, "activities": acts, "arr_events": events}


def append_day(engine: Engine, seed: int = 7) -> tuple[date, dict[str, int]]:
    """Insert the next day's rows and mark a new data version, in one transaction
    (the refresh cannot tell what changed); the day and the rows added per table."""
    tables = {"health_scores": health_scores, "activities": activities, "arr_events": arr_events}
    with engine.begin() as conn:
        day, rows = day_rows(conn, seed)
        for name, table_rows in rows.items():
            if table_rows:
                conn.execute(insert(tables[name]), table_rows)
        mark_data_version(conn)
    return day, {name: len(r) for name, r in rows.items()}


def append_day_to_csv(engine: Engine, folder: Path, seed: int = 7) -> tuple[date, dict[str, int]]:
    """Add the next day's rows to the CSV files in ``folder`` (the files the database was
    loaded from) and load the folder; the day and the rows added per table."""
    with engine.connect() as conn:
        day, rows = day_rows(conn, seed)
    for name, table_rows in rows.items():
        path = Path(folder) / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        with path.open("a", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            for row in table_rows:
                writer.writerow([_cell(row.get(column)) for column in header])
    load_directory(engine, folder)
    return day, {name: len(r) for name, r in rows.items()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def active_arr(conn: Connection, day: date) -> dict[str, Decimal]:
    """ARR per customer with ARR > 0 on ``day``."""
    total = func.sum(arr_events.c.arr_delta)
    rows = conn.execute(
        select(arr_events.c.customer_id, total)
        .where(arr_events.c.event_date <= day)
        .group_by(arr_events.c.customer_id)
    ).all()
    return {c: Decimal(v) for c, v in rows if v is not None and Decimal(v) > 0}


def last_scores(conn: Connection, wanted: list[str]) -> dict[str, Decimal]:
    """The latest health score of each customer (all customers read, ``wanted`` kept)."""
    latest = (
        select(health_scores.c.customer_id, func.max(health_scores.c.scored_on).label("d"))
        .group_by(health_scores.c.customer_id)
        .subquery()
    )
    rows = conn.execute(
        select(health_scores.c.customer_id, health_scores.c.score).join(
            latest,
            and_(
                health_scores.c.customer_id == latest.c.customer_id,
                health_scores.c.scored_on == latest.c.d,
            ),
        )
    ).all()
    keep = set(wanted)
    return {c: s for c, s in rows if c in keep}
