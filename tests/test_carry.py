"""Incremental refresh (issue 4): area results carried from one refresh to the next.

A load records what it changed; a refresh reuses every kept area that reads nothing
changed on or before its last day, and an idle refresh computes tomorrow's closed periods
ahead. Whatever was reused, the cache must equal a full refresh's, key by key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select

from ecc.cache import carry
from ecc.cache.refresh import refresh
from ecc.changes import WHOLE_TABLE, changes_since
from ecc.demo import generate
from ecc.demo_day import append_day, append_day_to_csv
from ecc.load import data_version, load_directory
from ecc.metrics import compute_all
from ecc.metrics.compute import ALL_AREAS
from ecc.periods import preset_period
from ecc.schema import SOURCE_TABLES, area_results, health_scores
from ecc.snapshot_dates import usable_snapshot_dates
from tests.support.carry import _edit_csv, _equals_a_full_refresh

TODAY = date(2026, 11, 24)
SOURCE_NAMES = [t.name for t in SOURCE_TABLES]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "csv"
    generate(out, customers=120, seed=5, today=TODAY)
    return out


@pytest.fixture
def loaded(engine: Engine, folder: Path) -> Engine:
    """The demo loaded from CSV, refreshed, then refreshed again with nothing new (which
    prepares tomorrow's closed periods)."""
    load_directory(engine, folder)
    first = refresh(engine)
    assert first.status == "succeeded" and first.reused == 0
    idle = refresh(engine)
    assert idle.status == "skipped" and idle.prepared > 0
    return engine


def _reused_areas(engine: Engine) -> set[str]:
    """The areas of the kept results computed before the latest load (i.e. carried)."""
    with engine.connect() as conn:
        version = data_version(conn)
        rows = conn.execute(select(area_results.c.area, area_results.c.data_version)).all()
    return {area for area, v in rows if v != version}


def test_a_day_of_new_data_reuses_the_closed_periods_and_equals_a_full_refresh(
    loaded: Engine, folder: Path
) -> None:
    day, added = append_day_to_csv(loaded, folder)
    assert day == TODAY + timedelta(days=1) and added["health_scores"] > 0
    report = refresh(loaded)
    assert report.status == "succeeded" and report.data_as_of == day
    assert report.reused > 0
    # earlier dates' intermediates (summaries, sums, grouped queries) were loaded, too
    assert report.intermediates > 0
    # what must be recomputed: the areas of the periods that contain the new day
    with loaded.connect() as conn:
        kept = conn.execute(select(area_results.c.key, area_results.c.data_version)).all()
        version = data_version(conn)
    new_ends = {carry._decode(k)[3] for k, v in kept if v == version}
    old = [carry._decode(k) for k, v in kept if v != version]
    # carried over up to the new day: only areas that read none of the tables it changed
    # (computed ahead on the day before, e.g. renewals, which read no ledger or scores)
    changed = {"health_scores", "activities", "arr_events"}
    assert not [k for k in old if k[3] >= day and carry.READS[k[1]] & changed]
    assert [k for k in old if k[3] < day]
    assert day in new_ends
    _equals_a_full_refresh(loaded)


@pytest.mark.parametrize("full_in_between", [False, True])
def test_the_refresh_after_a_day_reuses_what_the_idle_refresh_prepared(
    loaded: Engine, folder: Path, full_in_between: bool
) -> None:
    if full_in_between:  # recomputes today's areas, keeps what was prepared for tomorrow
        assert refresh(loaded, full=True).reused == 0
    append_day_to_csv(loaded, folder)
    report = refresh(loaded)
    with loaded.connect() as conn:
        period = preset_period("this_quarter", report.data_as_of or TODAY)
        version = data_version(conn)
        kept = conn.execute(select(area_results.c.key, area_results.c.data_version)).all()
    computed = [carry._decode(k) for k, v in kept if v == version]
    # this quarter's comparison period (prepared the day before) was not computed again
    previous = (date(2026, 7, 1), date(2026, 8, 25))
    assert period.start == date(2026, 10, 1)
    assert not [k for k in computed if (k[2], k[3]) == previous]
    assert [k for k in computed if (k[2], k[3]) == (period.start, period.end)]


def _owner_change(rows: list[dict[str, str]]) -> None:
    other = next(r["csm_id"] for r in rows if r["csm_id"] != rows[0]["csm_id"])
    rows[0]["csm_id"] = other


def _past_score(rows: list[dict[str, str]]) -> None:
    row = next(r for r in rows if r["scored_on"].startswith("2026-02"))
    row["score"] = "3" if row["score"] != "3" else "97"


def _renewal_forecast(rows: list[dict[str, str]]) -> None:
    row = next(r for r in rows if not r["outcome"])
    row["forecast_status"] = "at_risk" if row["forecast_status"] == "on_track" else "on_track"


def _go_live(rows: list[dict[str, str]]) -> None:
    row = next(r for r in rows if not r["onboarded_on"])
    row["onboarded_on"] = TODAY.isoformat()


@pytest.mark.parametrize(
    ("table", "change", "expect"),
    [
        # a score in February changes the periods that read February or later
        ("health_scores", _past_score, "some"),
        # an owner is read for every period: nothing can be carried over
        ("customers", _owner_change, "none"),
        # renewals have no day: every area that reads them is recomputed, the others kept
        ("renewals", _renewal_forecast, "no renewals"),
        # a go-live on the latest day changes only the periods containing it
        ("customers", _go_live, "some"),
    ],
)
def test_a_change_to_loaded_data_recomputes_what_reads_it(
    loaded: Engine,
    folder: Path,
    table: str,
    change: Callable[[list[dict[str, str]]], None],
    expect: str,
) -> None:
    _edit_csv(folder, table, change)
    load_directory(loaded, folder)
    report = refresh(loaded)
    assert report.status == "succeeded"
    reused = _reused_areas(loaded)
    if expect == "none":
        assert report.reused == 0
    elif expect == "no renewals":
        assert report.reused > 0
        assert not reused & {"renewals", "retention", "workload"}
    else:
        assert report.reused > 0
    _equals_a_full_refresh(loaded)


def test_rows_written_without_a_load_reuse_nothing(loaded: Engine) -> None:
    append_day(loaded)  # inserts and marks a new data version: what changed is unknown
    report = refresh(loaded)
    assert report.status == "succeeded" and report.reused == 0
    assert report.intermediates == 0
    _equals_a_full_refresh(loaded)


def test_a_load_after_rows_written_by_hand_is_not_compared_with_older_digests(
    loaded: Engine, folder: Path
) -> None:
    # a score written by hand (not in the files), then the files loaded again: the load
    # cannot know what the hand-written row changed, so nothing is reused
    with loaded.begin() as conn:
        conn.execute(
            insert(health_scores).values(customer_id="C00001", scored_on=date(2024, 1, 3), score=1)
        )
        from ecc.load import mark_data_version

        mark_data_version(conn)
    load_directory(loaded, folder)
    with loaded.connect() as conn:
        assert changes_since(conn, "an unknown version", data_version(conn) or "") is None
    report = refresh(loaded)
    assert report.reused == 0
    _equals_a_full_refresh(loaded)


def test_loads_record_the_earliest_changed_day_per_table(engine: Engine, folder: Path) -> None:
    load_directory(engine, folder)
    with engine.connect() as conn:
        first = data_version(conn)
    assert first is not None
    load_directory(engine, folder)  # the same files: nothing changed
    with engine.connect() as conn:
        second = data_version(conn)
        assert second is not None and changes_since(conn, first, second) == {}
    _edit_csv(folder, "health_scores", _past_score)
    _edit_csv(folder, "renewals", _renewal_forecast)
    load_directory(engine, folder)
    with engine.connect() as conn:
        third = data_version(conn)
        assert third is not None
        got = changes_since(conn, first, third)
    assert got is not None and set(got) == {"health_scores", "renewals"}
    assert got["health_scores"].isoformat().startswith("2026-02")
    assert got["renewals"] == WHOLE_TABLE


# ---------------------------------------------------------------- what each area reads


#: The project's tables an area may read, and the source tables they are built from.
DERIVED = {"month_end_snapshots": {"arr_events", "health_scores"}, "snapshot_months": set()}


def _tables_named(sql: str) -> set[str]:
    named: set[str] = set()
    for name in [*SOURCE_NAMES, *DERIVED]:
        if re.search(rf'(?<![\w.])"?{name}"?(?![\w])', sql):
            named |= DERIVED.get(name, {name})
    return named


def _statements(engine: Engine, areas: list[str]) -> list[str]:
    statements: list[str] = []

    def record(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        compute_all(engine, preset_period("this_quarter", TODAY), compare="previous", areas=areas)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


@pytest.mark.parametrize("area", sorted(ALL_AREAS))
def test_reads_lists_every_table_an_area_reads(demo_engine: Engine, area: str) -> None:
    """Each area computed alone (nothing shared with another), every statement recorded:
    the source tables they name must all be in carry.READS[area]. What every request
    reads whatever its areas (whether the comparison starts after the first data) is not
    an area's: it decides only whether comparison values are computed at all."""
    common = set(_statements(demo_engine, []))
    statements = [s for s in _statements(demo_engine, [area]) if s not in common]
    read: set[str] = set()
    for sql in statements:
        read |= _tables_named(sql)
    assert statements and read
    assert read <= carry.READS[area], f"{area} reads {sorted(read - carry.READS[area])} too"


@pytest.fixture
def demo_engine(engine: Engine, folder: Path) -> Iterator[Engine]:
    load_directory(engine, folder)
    refresh(engine)  # the month-end snapshots, which the areas read
    yield engine


def test_snapshots_are_checked_again_only_when_a_load_changed_a_closed_month(
    loaded: Engine, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecc import snapshots

    checks: list[int] = []
    fingerprints = snapshots.fingerprints

    def counted(conn: Any, ends: list[date]) -> dict[date, str]:
        checks.append(len(ends))
        return fingerprints(conn, ends)

    monkeypatch.setattr(snapshots, "fingerprints", counted)
    append_day_to_csv(loaded, folder)  # a new day in an open month: nothing to check
    assert refresh(loaded).snapshots == 0 and checks == []
    with loaded.connect() as conn:
        assert usable_snapshot_dates(conn), "the snapshots were not marked verified"
    _edit_csv(folder, "health_scores", _past_score)  # February changed: rebuilt from there
    load_directory(loaded, folder)
    report = refresh(loaded)
    assert len(checks) == 1 and report.snapshots == 9  # the month ends from February
    _equals_a_full_refresh(loaded)


class _Payload:
    """A pickle that would run a command when loaded by a plain unpickler."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        import os

        return (os.system, ("touch /tmp/ecc-should-not-exist",))


def test_a_kept_intermediate_written_by_someone_else_cannot_run_code(
    loaded: Engine, folder: Path
) -> None:
    import pickle

    from ecc.schema import partial_results as table

    with loaded.begin() as conn:
        n = conn.execute(table.update().values(value=pickle.dumps(_Payload()))).rowcount
    assert n > 0
    append_day_to_csv(loaded, folder)
    report = refresh(loaded)
    assert not Path("/tmp/ecc-should-not-exist").exists()
    assert report.status == "succeeded" and report.intermediates == 0  # all computed again
    _equals_a_full_refresh(loaded)


class _Allocate:
    """A pickle that would ask for ten gigabytes when loaded by the old allow-list."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return (bytes, (10**10,))


def test_the_kept_intermediates_unpickler_allows_plain_data_and_records_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Security finding 12: no dotted name reaches past a metric module, no builtin that
    allocates on demand, no blob over the cap; plain data and records still load."""
    import pickle
    from datetime import date
    from decimal import Decimal

    import ecc.metrics.state  # noqa: F401  (loaded, as in a refresh)
    from ecc.cache import partials
    from ecc.metrics.scope import Scope

    plain = {"a": [1, 2.5, "x", None], "d": date(2026, 1, 2), "n": Decimal("1.5")}
    record = Scope("SMB", None)
    assert partials._loads(pickle.dumps(plain, protocol=5)) == plain
    assert partials._loads(pickle.dumps(record, protocol=5)) == record
    attacks = [
        pickle.dumps(_Allocate()),
        b"cecc.metrics.state\nos.system\n(S'true'\ntR.",  # a dotted name into os
        b"cecc.metrics.state\nScope.__init__.__globals__\n.",
        b"cecc.metrics.no_such_module\nThing\n.",  # would import it
    ]
    for blob in attacks:
        with pytest.raises(pickle.UnpicklingError):
            partials._loads(blob)
    assert "ecc.metrics.no_such_module" not in __import__("sys").modules
    monkeypatch.setattr(partials, "MAX_BLOB", 1000)
    with pytest.raises(pickle.UnpicklingError, match="over the cap"):
        partials._loads(pickle.dumps(list(range(1000)), protocol=5))
