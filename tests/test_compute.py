"""compute_all: one object for every area, the same with and without the per-date memo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from ecc.db import init_schema, make_engine
from ecc.demo import build_demo
from ecc.metrics import compute_all
from ecc.metrics.compute import compute_areas
from ecc.metrics.context import Context
from ecc.metrics.scope import Scope
from ecc.periods import comparison_period, preset_period
from ecc.schema import metadata

TODAY = date(2026, 11, 24)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=120, seed=3, today=TODAY)
    return engine


@pytest.mark.parametrize("scope", [Scope(), Scope(segment="SMB")])
def test_memoised_state_gives_the_same_numbers(demo: Engine, scope: Scope) -> None:
    period = preset_period("this_quarter", TODAY)
    memoised = compute_all(demo, period, compare="previous", scope=scope)
    cmp = comparison_period(period, "previous").period
    with demo.connect() as conn:
        direct = compute_areas(Context(conn=conn, period=period, scope=scope, comparison=cmp))
        direct_cmp = compute_areas(Context(conn=conn, period=cmp, scope=scope))
    for area, value in direct.items():
        assert memoised[area] == value, area
    assert memoised["comparison_values"] == direct_cmp
    # the temporary tables are gone afterwards
    with demo.connect() as conn:
        assert not [t for t in inspect(conn).get_table_names() if t.startswith("ecc_state_")]


def test_the_numbers_are_identical_on_every_run(demo: Engine) -> None:
    period = preset_period("ytd", TODAY)
    first = compute_all(demo, period, compare="yoy")
    assert compute_all(demo, period, compare="yoy") == first
    assert first["comparison"] == {"kind": "yoy", "start": "2025-01-01", "end": "2025-11-24"}
    assert first["comparison_values"] is not None


def test_sqlite_and_postgresql_agree_to_the_cent(tmp_path: Path, pg_url: str | None) -> None:
    if pg_url is None:
        pytest.skip("PostgreSQL not reachable (set ECC_TEST_POSTGRES_URL)")
    lite = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    pg = make_engine(pg_url)
    with pg.begin() as conn:
        metadata.drop_all(conn)
    results = []
    for eng in (lite, pg):
        init_schema(eng)
        build_demo(eng, customers=150, seed=11, today=TODAY)
        results.append(
            [
                compute_all(eng, preset_period(p, TODAY), compare=c, scope=s)
                for p, c, s in (
                    ("this_quarter", "previous", Scope()),
                    ("ytd", "yoy", Scope(segment="Enterprise")),
                    ("last_month", None, Scope()),
                )
            ]
        )
        eng.dispose()
    assert results[0] == results[1]
