"""Month-end snapshots: per customer ARR, health and owner at each closed month end.

The source data has no ownership history: ``customers.csm_id`` is the current owner.
A snapshot keeps, for every customer active at a month end, its ARR and health score
then and the owner and segment it had when the month was first snapshotted, so that
this history does not change when an account changes owner later.

Metric queries read ARR and health at a month end from the snapshot instead of
recomputing them (trends, TTM retention and cohorts ask for many month ends). The
numbers are the same: a snapshot stores exactly ARR_c(d) and the health at d of the
source tables. A month is rebuilt when its source rows change — each snapshotted month
records a fingerprint of the ledger and score rows up to its end — and the rebuild
keeps the recorded owners. Ownership in the metrics stays the current
``customers.csm_id``, as METRICS.md defines it; the preserved owners are history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, extract, func, insert, or_, select

from .clock import utcnow
from .load import data_version
from .metrics.scope import Scope
from .metrics.state import first_data_date, state_select
from .periods import add_months, month_end, month_start
from .schema import arr_events, ecc_meta, health_scores, month_end_snapshots, snapshot_months
from .snapshot_dates import VERIFIED

SNAP = month_end_snapshots


def closed_month_ends(first: date, today: date) -> list[date]:
    """Every month end on or after ``first``'s month and before ``today``."""
    out: list[date] = []
    m = month_end(first)
    while m < today:
        out.append(m)
        m = month_end(add_months(month_start(m), 1))
    return out


def _month_aggregates(conn: Connection) -> dict[tuple[int, int], tuple[Any, ...]]:
    """Per (year, month): count and sum of ledger deltas, count and sum of scores."""
    out: dict[tuple[int, int], list[Any]] = {}
    for table, day, value in (
        (arr_events, arr_events.c.event_date, arr_events.c.arr_delta),
        (health_scores, health_scores.c.scored_on, health_scores.c.score),
    ):
        y, m = extract("year", day), extract("month", day)
        q = select(y.label("y"), m.label("m"), func.count(), func.sum(value)).group_by(y, m)
        for row in conn.execute(q.select_from(table)):
            out.setdefault((int(row[0]), int(row[1])), []).extend(
                [table.name, int(row[2]), str(row[3])]
            )
    return {k: tuple(v) for k, v in out.items()}


def fingerprints(conn: Connection, month_ends: list[date]) -> dict[date, str]:
    """A fingerprint per month end of every ledger and score row dated up to it."""
    aggregates = _month_aggregates(conn)
    h = hashlib.sha256()
    earlier = sorted(k for k in aggregates if month_ends and k < _ym(month_ends[0]))
    for k in earlier:
        h.update(repr((k, aggregates[k])).encode())
    out: dict[date, str] = {}
    for m in month_ends:
        k = _ym(m)
        h.update(repr((k, aggregates.get(k))).encode())
        out[m] = h.copy().hexdigest()[:32]
    return out


def _ym(d: date) -> tuple[int, int]:
    return (d.year, d.month)


def _state_rows(conn: Connection, d: date) -> Iterator[dict[str, Any]]:
    q = state_select(d, Scope(), active_only=False, name="snap").offset(0).subquery("snap")
    rows = select(q.c.customer_id, q.c.arr, q.c.score, q.c.csm_id, q.c.segment).where(
        or_(q.c.arr > 0, q.c.score.is_not(None))  # the portfolio, and every scored customer
    )
    for row in conn.execute(rows):
        yield {
            "month_end": d,
            "customer_id": row.customer_id,
            "arr": row.arr,
            "score": row.score,
            "csm_id": row.csm_id,
            "segment": row.segment,
        }


def _build(conn: Connection, d: date, fingerprint: str, now: datetime) -> None:
    """(Re)build one month end in the caller's transaction, keeping recorded owners."""
    kept = {
        r.customer_id: (r.csm_id, r.segment)
        for r in conn.execute(
            select(SNAP.c.customer_id, SNAP.c.csm_id, SNAP.c.segment).where(SNAP.c.month_end == d)
        )
    }
    conn.execute(SNAP.delete().where(SNAP.c.month_end == d))
    batch: list[dict[str, Any]] = []
    for row in _state_rows(conn, d):
        owner = kept.get(row["customer_id"])
        if owner is not None:
            row["csm_id"], row["segment"] = owner
        batch.append(row)
        if len(batch) >= 5000:
            conn.execute(insert(SNAP), batch)
            batch = []
    if batch:
        conn.execute(insert(SNAP), batch)
    existed = conn.execute(
        select(snapshot_months.c.taken_at).where(snapshot_months.c.month_end == d)
    ).scalar()
    conn.execute(snapshot_months.delete().where(snapshot_months.c.month_end == d))
    conn.execute(
        insert(snapshot_months).values(
            month_end=d,
            fingerprint=fingerprint,
            taken_at=existed or now,
            rebuilt_at=now if existed else None,
        )
    )


@contextmanager
def _transaction(conn: Connection) -> Iterator[Connection]:
    """One transaction that sees one state of the data (REPEATABLE READ on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        yield conn


def update_snapshots(engine: Engine, today: date, *, rebuild: bool = False) -> int:
    """Snapshot every closed month end not yet taken or whose source rows changed.

    Runs in one transaction: readers see the snapshots before or after, never a part.
    ``rebuild`` rebuilds every month (owners recorded earlier are still kept). Returns
    the number of month ends built.
    """

    now = utcnow()
    with engine.connect() as conn, _transaction(conn) as conn:
        first = first_data_date(conn)
        if first is None:
            return 0
        ends = closed_month_ends(first, today)
        taken = dict(
            conn.execute(select(snapshot_months.c.month_end, snapshot_months.c.fingerprint)).all()
        )
        if not rebuild and _unchanged_since_verified(conn, ends, taken):
            return 0
        prints = fingerprints(conn, ends)
        # months past the data (after a load of shorter history) are dropped
        stale = [m for m in taken if m not in prints]
        if stale:
            conn.execute(SNAP.delete().where(SNAP.c.month_end.in_(stale)))
            conn.execute(snapshot_months.delete().where(snapshot_months.c.month_end.in_(stale)))
        todo = [m for m in ends if rebuild or taken.get(m) != prints[m]]
        for m in todo:
            _build(conn, m, prints[m], now)
        conn.execute(ecc_meta.delete().where(ecc_meta.c.key == VERIFIED))
        version = data_version(conn)
        if version is not None:
            conn.execute(insert(ecc_meta).values(key=VERIFIED, value=version))
    return len(todo)


def _unchanged_since_verified(conn: Connection, ends: list[date], taken: dict[date, str]) -> bool:
    """True (and the snapshots marked verified for the data now loaded) when the loads
    since the last verification changed no ledger or score row dated up to the last
    closed month end and no month closed since: then no fingerprint can have changed."""
    from .changes import changes_since

    verified = conn.execute(select(ecc_meta.c.value).where(ecc_meta.c.key == VERIFIED)).scalar()
    version = data_version(conn)
    if verified is None or version is None or sorted(taken) != ends or not ends:
        return False
    changes = changes_since(conn, verified, version)
    if changes is None:
        return False
    if any(changes.get(t, date.max) <= ends[-1] for t in ("arr_events", "health_scores")):
        return False
    conn.execute(ecc_meta.delete().where(ecc_meta.c.key == VERIFIED))
    conn.execute(insert(ecc_meta).values(key=VERIFIED, value=version))
    return True
