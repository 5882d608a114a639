"""Customer states kept from one refresh to the next (issue 4, incremental refresh).

A refresh keeps the customer state (ARR and health per customer) of the dates it read;
the next one reads a still-valid kept state back, and builds a later date's state from
the latest kept state or month-end snapshot before it plus the rows since. Whatever was
brought forward must equal the state computed from the source tables, and the cache
must equal a full refresh's.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from ecc.alerts.evaluate import EVALUATED_THROUGH
from ecc.alerts.rules import evaluate
from ecc.cache.plan import refresh_plan
from ecc.cache.refresh import refresh
from ecc.cache.states import States, patched_select
from ecc.demo import generate
from ecc.demo_day import append_day_to_csv
from ecc.load import data_version, load_directory
from ecc.metrics.scope import Scope
from ecc.metrics.state import state_select
from ecc.metrics.workload import loads
from ecc.schema import ecc_meta, kept_state_rows
from ecc.schema import kept_states as kept_states_table
from tests.support.carry import _edit_csv, _equals_a_full_refresh

TODAY = date(2026, 11, 24)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "csv"
    generate(out, customers=120, seed=11, today=TODAY)
    return out


@pytest.fixture
def loaded(engine: Engine, folder: Path) -> Engine:
    load_directory(engine, folder)
    assert refresh(engine).status == "succeeded"
    assert refresh(engine).status == "skipped"  # the idle refresh: tomorrow ahead
    return engine


def _state(conn: Connection, q: Any) -> dict[str, tuple[Decimal, Decimal | None]]:
    sub = q.subquery("s")
    return {r.customer_id: (r.arr, r.score) for r in conn.execute(select(sub))}


def _kept(conn: Connection) -> dict[date, str]:
    return dict(
        conn.execute(select(kept_states_table.c.as_of, kept_states_table.c.data_version)).all()
    )


def test_a_state_brought_forward_equals_the_state_from_the_source(loaded: Engine) -> None:
    with loaded.connect() as conn:
        kept = sorted(_kept(conn))
        assert len(kept) > 2
        # the same day, the next (as a refresh does), and further (the query allows it)
        cases = [(base, base + timedelta(days=g)) for base in kept for g in (0, 1, 9)]
        for base, d in cases:
            source = _state(conn, state_select(d, Scope(), active_only=False, name="src"))
            patched = _state(conn, patched_select(d, base))
            assert patched == source, f"kept {base} brought forward to {d}"
            assert any(arr > 0 for arr, _ in source.values())


def test_a_day_of_new_data_brings_yesterdays_state_forward(loaded: Engine, folder: Path) -> None:
    with loaded.connect() as conn:
        before = _kept(conn)
    assert TODAY in before  # the latest day's state is kept for tomorrow
    day, _ = append_day_to_csv(loaded, folder)
    report = refresh(loaded)
    assert report.status == "succeeded" and report.states > 0
    with loaded.connect() as conn:
        after = _kept(conn)
        version = data_version(conn)
        rows = conn.execute(
            select(kept_state_rows.c.customer_id).where(kept_state_rows.c.as_of == day)
        ).all()
    assert after.get(day) == version and rows
    # states computed ahead by the idle refresh (e.g. a year back) were kept as they were
    assert [d for d, v in after.items() if v != version and d < day]
    _equals_a_full_refresh(loaded)


def test_a_changed_past_score_invalidates_the_states_from_its_day(
    loaded: Engine, folder: Path
) -> None:
    with loaded.connect() as conn:
        kept = sorted(_kept(conn))
    assert len(kept) > 2
    middle = kept[len(kept) // 2]
    changed: list[date] = []

    def change(rows: list[dict[str, str]]) -> None:
        row = max(
            (r for r in rows if date.fromisoformat(r["scored_on"]) <= middle),
            key=lambda r: r["scored_on"],
        )
        row["score"] = "3" if float(row["score"]) > 50 else "97"
        changed.append(date.fromisoformat(row["scored_on"]))

    _edit_csv(folder, "health_scores", change)
    load_directory(loaded, folder)
    with loaded.connect() as conn:
        valid = States(conn, data_version(conn) or "", load=True).valid
    # the states before the changed day are still valid, none on or after it
    assert valid == {d for d in kept if d < changed[0]}
    assert valid and len(valid) < len(kept)
    report = refresh(loaded)
    assert report.status == "succeeded"
    _equals_a_full_refresh(loaded)


def test_alerts_evaluated_inside_a_refresh_fire_as_from_the_source(loaded: Engine) -> None:
    """A refresh evaluates the alert rules on its own read, with its shared results, its
    memo of customer states and the kept states at hand: the same alerts must fire."""
    since, until = TODAY - timedelta(days=120), TODAY
    with loaded.connect() as conn:
        plain = evaluate(conn, since, until)
        with loaded.connect() as other:
            states = States(other, data_version(other) or "", load=True)
        with refresh_plan(conn, states=states) as (plan, _):
            loads(plan, conn, until, Scope())  # what the refresh shares
            inside = evaluate(conn, since, until, plan=plan)
        assert states.from_kept > 0  # a kept state was read back or brought forward
    assert plain  # the demo fires alerts in these months, of several rules
    assert len({f.rule for f in plain}) > 1
    assert inside == plain


def test_a_refresh_records_the_alerts_of_the_new_day(loaded: Engine, folder: Path) -> None:
    day, _ = append_day_to_csv(loaded, folder)
    assert refresh(loaded).status == "succeeded"
    with loaded.connect() as conn:
        through = conn.execute(
            select(ecc_meta.c.value).where(ecc_meta.c.key == EVALUATED_THROUGH)
        ).scalar()
    assert through == day.isoformat()


def test_the_dashboards_servers_refresher_also_computes_tomorrow_ahead(
    engine: Engine, folder: Path, db_url: str
) -> None:
    """``ecc serve`` and the hub's dashboards service refresh in a child ``ecc refresh``:
    the refresh that finds nothing new computes tomorrow's requests ahead there, not in
    the process serving the pages."""
    import time

    from ecc.cache.refresh import PREPARED
    from ecc.schema import refresh_runs
    from ecc.ui.serve import refresher

    load_directory(engine, folder)
    scheduler = refresher(db_url, 60)  # runs at once, then hourly
    try:
        deadline = time.monotonic() + 180
        status: list[str] = []
        while time.monotonic() < deadline and "succeeded" not in status:
            time.sleep(0.5)
            with engine.connect() as conn:
                status = list(conn.execute(select(refresh_runs.c.status)).scalars())
        assert "succeeded" in status
        job = scheduler.get_jobs()[0]
        job.func()  # the next run: nothing new, so it works ahead
    finally:
        scheduler.shutdown(wait=True)
    with engine.connect() as conn:
        runs = list(conn.execute(select(refresh_runs.c.status)).scalars())
        prepared = conn.execute(select(ecc_meta.c.value).where(ecc_meta.c.key == PREPARED)).scalar()
    assert runs == ["succeeded", "skipped"]
    assert prepared is not None and TODAY.isoformat() in prepared
