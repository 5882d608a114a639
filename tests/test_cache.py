"""The dashboard_metrics cache and its refresh (issue 4): same numbers as a computation,
atomic replacement, one refresh at a time, failures that keep the previous cache."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from ecc.cache import metrics_for, store
from ecc.cache.lock import RefreshBusy, refresh_lock
from ecc.cache.refresh import RefreshFailed, plan, refresh
from ecc.demo import build_demo
from ecc.load import data_version, mark_data_version
from ecc.metrics import compute as compute_mod
from ecc.metrics import compute_all
from ecc.metrics.scope import Scope
from ecc.periods import preset_period
from ecc.schema import dashboard_metrics, leaderboard_history, refresh_runs
from tests.conftest import IN_CI
from tests.support.servers import free_port

TODAY = date(2026, 11, 24)
REDIS_URL = os.environ.get("ECC_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=120, seed=5, today=TODAY)
    return engine


def _redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        if IN_CI:
            raise RuntimeError(f"CI needs Redis at {REDIS_URL}: {exc}") from exc
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set ECC_TEST_REDIS_URL)")
    return REDIS_URL


@pytest.fixture(params=["table", "redis"])
def layer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "redis":
        monkeypatch.setenv("ECC_REDIS_URL", _redis_or_skip())
    else:
        monkeypatch.delenv("ECC_REDIS_URL", raising=False)
    return str(request.param)


def _rows_by_key(engine: Engine) -> dict[tuple[str, str], tuple[str, Any]]:
    with engine.connect() as conn:
        return store.payloads(conn, stale=True)


# ---------------------------------------------------------------- same numbers


def test_every_cached_request_equals_a_computation_from_the_source_tables(
    demo: Engine, layer: str
) -> None:
    report = refresh(demo)
    jobs = plan(TODAY)
    assert report.status == "succeeded" and report.requests == len(jobs) == 60
    assert report.snapshots > 30  # the demo's 3.5 years of closed months
    for job in jobs:
        got = metrics_for(demo, job.period, compare=job.compare, scope=job.scope)
        assert got.source == "cache"
        direct = compute_all(
            demo, job.period, compare=job.compare, scope=job.scope, snapshots=False
        )
        assert list(got.data) == list(direct)  # same keys in the same order
        for key in direct:
            assert got.data[key] == direct[key], (job.key, key)
        if layer == "redis":  # the second read comes from Redis, the same again
            again = metrics_for(demo, job.period, compare=job.compare, scope=job.scope)
            assert again.source == "redis" and again.data == direct


def test_with_redis_down_pages_read_the_table_and_refreshes_succeed(
    demo: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # ECC_REDIS_URL names a port nothing listens on: every Redis call fails
    monkeypatch.setenv("ECC_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    report = refresh(demo)  # its Redis invalidation fails quietly
    assert report.status == "succeeded"
    period = preset_period("this_quarter", TODAY)
    with caplog.at_level("WARNING", logger="ecc.cache"):
        got = metrics_for(demo, period, compare="previous")
        again = metrics_for(demo, period, compare="previous")
    assert got.source == again.source == "cache"
    direct = compute_all(demo, period, compare="previous", snapshots=False)
    assert got.data == again.data == direct
    assert any("redis" in r.getMessage().lower() for r in caplog.records)


def test_a_request_for_some_areas_reads_just_those(demo: Engine) -> None:
    refresh(demo)
    period = preset_period("ytd", TODAY)
    got = metrics_for(demo, period, compare="yoy", areas=["risk", "csms"])
    assert got.source == "cache"
    assert list(got.data) == [
        "period",
        "comparison",
        "filters",
        "risk",
        "csms",
        "comparison_values",
    ]
    assert got.data == compute_all(demo, period, compare="yoy", areas=["risk", "csms"])


def test_a_miss_computes_and_redis_keeps_it(demo: Engine, layer: str) -> None:
    refresh(demo)
    with demo.connect() as conn:
        csm = conn.execute(text("SELECT min(csm_id) FROM customers")).scalar_one()
    period = preset_period("this_month", TODAY)
    first = metrics_for(demo, period, compare="previous", scope=Scope(csm_id=csm))
    assert first.source == "computed"
    second = metrics_for(demo, period, compare="previous", scope=Scope(csm_id=csm))
    assert second.source == ("redis" if layer == "redis" else "computed")
    assert (
        second.data
        == first.data
        == compute_all(demo, period, compare="previous", scope=Scope(csm_id=csm))
    )


def test_data_loaded_after_the_refresh_is_never_served_from_the_cache(
    demo: Engine, layer: str
) -> None:
    refresh(demo)
    period = preset_period("this_quarter", TODAY)
    before = metrics_for(demo, period, compare="previous")
    assert before.source in ("cache", "redis")
    with demo.begin() as conn:  # a reload that changes one number, as `ecc load` would
        conn.execute(
            text(
                "UPDATE csms SET target_accounts = target_accounts + 7 WHERE csm_id = "
                "(SELECT min(csm_id) FROM csms WHERE active)"
            )
        )
        mark_data_version(conn)
    after = metrics_for(demo, period, compare="previous")
    assert after.source == "computed"
    assert after.data == compute_all(demo, period, compare="previous", snapshots=False)
    assert after.data["workload"] != before.data["workload"]
    refresh(demo)  # the next refresh serves the new numbers from the cache
    again = metrics_for(demo, period, compare="previous")
    assert again.source == "cache" and again.data == after.data


# ---------------------------------------------------------------- the refresh job


def test_a_refresh_with_nothing_new_keeps_the_cache(demo: Engine) -> None:
    refresh(demo)
    before = _rows_by_key(demo)
    second = refresh(demo)
    assert second.status == "skipped" and second.rows == 0
    assert _rows_by_key(demo) == before
    full = refresh(demo, full=True)
    assert full.status == "succeeded" and full.rows == len(before)


def test_a_failed_refresh_keeps_the_previous_cache_and_records_why(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh(demo)
    before = _rows_by_key(demo)

    def broken(ctx: Any) -> Any:
        raise ZeroDivisionError("simulated failure in the renewals family")

    monkeypatch.setitem(compute_mod.ALL_AREAS, "renewals", broken)
    with pytest.raises(RefreshFailed, match=r"previous cache is kept.*simulated failure"):
        refresh(demo, full=True)
    assert _rows_by_key(demo) == before
    with demo.connect() as conn:
        last = conn.execute(
            select(refresh_runs).order_by(refresh_runs.c.run_id.desc()).limit(1)
        ).one()
    assert last.status == "failed" and "simulated failure" in last.error
    period = preset_period("this_quarter", TODAY)
    assert metrics_for(demo, period, compare="previous").source == "cache"


def test_two_refreshes_never_run_at_once(demo: Engine) -> None:
    with refresh_lock(demo), pytest.raises(RefreshBusy, match="another refresh"):
        refresh(demo)
    assert refresh(demo).status == "succeeded"  # the lock is free again


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ecc.cli import main; main()", *args]


@contextmanager
def _writes_blocked(engine: Engine) -> Iterator[None]:
    """Hold the lock a refresh needs for its next write: on PostgreSQL an EXCLUSIVE lock on
    dashboard_metrics (readers go on; the swap waits), on SQLite the database's write lock
    (the refresh waits at its first write after starting, well before its swap)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE dashboard_metrics IN EXCLUSIVE MODE"))
            yield
        return
    path = engine.url.database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def _wait_until_running(engine: Engine, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            running = conn.execute(
                select(func.count()).where(refresh_runs.c.status == "running")
            ).scalar_one()
        if running:
            return
        assert proc.poll() is None, "the refresh ended before it could be killed"
        time.sleep(0.05)
    raise AssertionError("the refresh never started")


def test_a_refresh_killed_half_way_leaves_the_previous_cache(db_url: str, demo: Engine) -> None:
    refresh(demo)
    before = _rows_by_key(demo)
    with demo.begin() as conn:  # new data, so the next refresh has work to do
        conn.execute(text("UPDATE csms SET target_arr = target_arr + 1"))
        mark_data_version(conn)
    pg = demo.dialect.name == "postgresql"
    proc: subprocess.Popen[bytes] | None = None
    try:
        # PostgreSQL: blocked from the start, the refresh computes everything and waits at
        # the swap; SQLite: blocked once it is running, it waits at its next write
        with _writes_blocked(demo) if pg else nullcontext():
            proc = subprocess.Popen(_cli("refresh", "--full", "--db", db_url))
            _wait_until_running(demo, proc)
            with nullcontext() if pg else _writes_blocked(demo):
                time.sleep(1.5)  # the refresh is now waiting for the lock
                assert proc.poll() is None, "the refresh finished despite the lock"
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _rows_by_key(demo) == before
    # the data changed since, so the stale rows are not served; the next refresh runs
    # (the killed one's lock went with its process) and marks the cut-off run
    period = preset_period("this_quarter", TODAY)
    assert metrics_for(demo, period, compare="previous").source == "computed"
    assert refresh(demo).status == "succeeded"
    with demo.connect() as conn:
        statuses = (
            conn.execute(select(refresh_runs.c.status).order_by(refresh_runs.c.run_id))
            .scalars()
            .all()
        )
    assert statuses == ["succeeded", "interrupted", "succeeded"]
    assert metrics_for(demo, period, compare="previous").source == "cache"


def test_readers_during_a_refresh_see_one_refresh_or_the_other(demo: Engine) -> None:
    refresh(demo)
    key = plan(TODAY)[0].key
    t = dashboard_metrics
    stop = threading.Event()
    errors: list[BaseException] = []

    def refresher() -> None:
        try:
            for _ in range(3):
                with demo.begin() as conn:
                    mark_data_version(conn)  # every refresh writes a new generation
                refresh(demo)
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    worker = threading.Thread(target=refresher)
    worker.start()
    reads = 0
    seen: set[Any] = set()
    try:
        while not stop.is_set():
            with demo.connect() as conn:
                rows = conn.execute(
                    select(t.c.area, t.c.computed_at, t.c.data_version).where(t.c.cache_key == key)
                ).all()
            assert len(rows) == 1 + len(compute_mod.ALL_AREAS), "a half-written cache"
            assert len({(r.computed_at, r.data_version) for r in rows}) == 1, "a mixed cache"
            with demo.connect() as conn:
                # every result the rows name is there (a refresh replaces both at once)
                got = store.payloads(conn, key, stale=True)
            assert len(got) == len(rows), "a cache row naming a missing result"
            seen.add(rows[0].computed_at)
            reads += 1
    finally:
        worker.join()
    assert not errors, errors
    versions_seen = len(seen)
    assert reads > 10 and versions_seen >= 2


# ---------------------------------------------------------------- snapshots and history


def test_snapshots_keep_the_owner_of_the_time_and_metrics_use_the_current_one(
    demo: Engine,
) -> None:
    refresh(demo)
    with demo.connect() as conn:
        cust, old_owner = conn.execute(
            text(
                "SELECT customer_id, csm_id FROM customers WHERE customer_id IN "
                "(SELECT customer_id FROM month_end_snapshots WHERE month_end = '2025-12-31') "
                "ORDER BY customer_id LIMIT 1"
            )
        ).one()
        new_owner = conn.execute(
            text("SELECT min(csm_id) FROM csms WHERE csm_id <> :o"), {"o": old_owner}
        ).scalar_one()
    with demo.begin() as conn:  # the account changes hands
        conn.execute(
            text("UPDATE customers SET csm_id = :n WHERE customer_id = :c"),
            {"n": new_owner, "c": cust},
        )
        mark_data_version(conn)
    report = refresh(demo)
    assert report.snapshots == 0  # no ledger or score row changed: every month is kept
    with demo.connect() as conn:
        owners = set(
            conn.execute(
                text("SELECT DISTINCT csm_id FROM month_end_snapshots WHERE customer_id = :c"),
                {"c": cust},
            ).scalars()
        )
    assert owners == {old_owner}
    period = preset_period("ytd", TODAY)
    got = metrics_for(demo, period, compare="yoy")
    assert got.source == "cache"
    assert got.data == compute_all(demo, period, compare="yoy", snapshots=False)


def test_a_change_to_past_data_rebuilds_the_months_after_it(demo: Engine) -> None:
    first = refresh(demo)
    with demo.begin() as conn:
        conn.execute(
            text(
                "UPDATE health_scores SET score = CASE WHEN score >= 50 THEN score - 40 "
                "ELSE score + 40 END WHERE scored_on BETWEEN '2026-03-01' AND '2026-03-31'"
            )
        )
        mark_data_version(conn)
    again = refresh(demo)
    # March 2026 and every later closed month (to October 2026) are rebuilt
    assert again.snapshots == 8 < first.snapshots
    period = preset_period("ytd", TODAY)
    got = metrics_for(demo, period, compare="previous")
    assert got.source == "cache"
    assert got.data == compute_all(demo, period, compare="previous", snapshots=False)


def test_the_leaderboard_is_recorded_once_a_day_with_its_history(demo: Engine) -> None:
    refresh(demo)
    refresh(demo, full=True)
    with demo.connect() as conn:
        days = conn.execute(
            select(leaderboard_history.c.ranked_on, func.count()).group_by(
                leaderboard_history.c.ranked_on
            )
        ).all()
        ranked = conn.execute(
            select(leaderboard_history.c.csm_id, leaderboard_history.c.rank).where(
                leaderboard_history.c.ranked_on == TODAY
            )
        ).all()
    rows = compute_all(demo, preset_period("this_quarter", TODAY), areas=["csms"])["csms"]["rows"]
    assert [(d, n) for d, n in days] == [(TODAY, len(rows))]
    assert sorted(ranked) == sorted((r["csm_id"], r["rank"]) for r in rows)


def test_refresh_runs_are_recorded(demo: Engine) -> None:
    refresh(demo)
    with demo.connect() as conn:
        run = conn.execute(select(refresh_runs)).one()
        version = data_version(conn)
    assert run.status == "succeeded" and run.data_version == version
    assert run.data_as_of == TODAY and run.seconds > 0
    assert run.entries == 60 * (1 + len(compute_mod.ALL_AREAS))


def test_refresh_of_an_empty_database_says_what_to_do(engine: Engine) -> None:
    with pytest.raises(RefreshFailed, match="holds no data yet; run `ecc load DIR`"):
        refresh(engine)


def test_a_ttm_series_from_the_snapshots_equals_one_computation_per_point(demo: Engine) -> None:
    from ecc.metrics.compute import reading_plan
    from ecc.metrics.plan import DIRECT
    from ecc.metrics.sums import retention_series, retention_sums
    from ecc.periods import minus_year, month_ends_between

    refresh(demo)
    ends = month_ends_between(date(2025, 6, 1), date(2026, 10, 31))
    pairs = [(minus_year(m), m) for m in ends] + [(date(2026, 9, 30), TODAY)]
    for scope in (Scope(), Scope(segment="SMB")):
        with demo.connect() as conn:
            batched = retention_series(reading_plan(conn), conn, pairs, scope)
            one_by_one = [retention_sums(DIRECT, conn, a, b, scope).get("", None) for a, b in pairs]
        assert len(batched) == len(pairs) > 12
        for got, want in zip(batched, one_by_one, strict=True):
            assert want is not None and (got.base, got.kept, got.ending) == (
                want.base,
                want.kept,
                want.ending,
            )


def test_the_retention_page_history_is_cached_like_an_area(demo: Engine) -> None:
    refresh(demo)
    for preset, compare in (("ytd", "yoy"), ("this_month", None)):
        period = preset_period(preset, TODAY)
        areas = ["retention", "retention_history"]
        got = metrics_for(demo, period, compare=compare, areas=areas)
        assert got.source == "cache"
        assert got.data == compute_all(demo, period, compare=compare, areas=areas, snapshots=False)
        assert got.data["retention_history"], "a year of month ends before the period"
        if compare:  # the history is a detail of the period: no comparison value
            assert list(got.data["comparison_values"]) == ["retention"]
