"""The ``ecc`` command as a user runs it: real processes, real databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ecc.db import make_engine
from ecc.load import mark_data_version
from ecc.schema import SCHEMA_VERSION
from tests.support.cli import run, small_portfolio


@pytest.fixture
def loaded(engine: Engine, db_url: str) -> str:
    small_portfolio(engine)
    return db_url


def test_metrics_json_follows_the_contract(loaded: str) -> None:
    out = run("metrics", "--preset", "this_quarter", "--db", loaded)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # today = the latest date with data: the score on 2025-11-20 -> Q4 2025 to date
    assert data["period"] == {"start": "2025-10-01", "end": "2025-11-20"}
    assert data["comparison"] is None and "comparison_values" not in data
    assert data["filters"] == {"segment": None, "csm": None}
    for area in (
        "portfolio",
        "retention",
        "risk",
        "renewals",
        "expansion",
        "csms",
        "workload",
        "segments",
    ):
        assert area in data
    # at 2025-11-20 only c1 is active (120,000 ARR, score 35: critical)
    assert data["portfolio"]["customers"] == 1
    assert data["portfolio"]["arr"] == 120000.0
    assert data["risk"]["critical_arr"] == 120000.0
    # start cohort at 2025-09-30: c1 120,000 and c2 10,000; c2 churned -> GRR = NRR = 120/130
    assert data["retention"]["grr"] == pytest.approx(120000 / 130000)
    assert data["retention"]["churned_arr"] == 10000.0


def test_yoy_without_twelve_months_gives_null_comparison_values(loaded: str) -> None:
    out = run("metrics", "--preset", "this_quarter", "--compare", "yoy", "--db", loaded)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # the comparison would start 2024-10-01, before the first data (2025-01-10)
    assert data["comparison"] == {"kind": "yoy", "start": "2024-10-01", "end": "2024-11-20"}
    assert data["comparison_values"] is None
    assert data["portfolio"]["trend"] is None


def test_table_format_reads_like_a_report(loaded: str) -> None:
    out = run(
        "metrics",
        "--preset",
        "this_quarter",
        "--compare",
        "previous",
        "--format",
        "table",
        "--db",
        loaded,
    )
    assert out.returncode == 0, out.stderr
    for words in (
        "Executive Command Center",
        "2025-10-01",
        "GRR",
        "ARR at risk",
        "Segments",
        "Enterprise",
        "$120.0K",
    ):
        assert words in out.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--segment", "Retail"],
            "unknown segment 'Retail'; choose one of: Enterprise, Mid-market, SMB",
        ),
        (["--start", "2025-03-01", "--end", "2025-02-01"], "before the start date"),
        (
            ["--start", "2025-13-01", "--end", "2025-12-31"],
            "start '2025-13-01' is not a date; write it as YYYY-MM-DD",
        ),
        (["--csm", "nobody"], "CSM 'nobody' does not exist"),
        (["--preset", "next_week"], "unknown preset 'next_week'"),
        (["--start", "2025-01-01"], "needs both a start and an end"),
        (["--compare", "mom"], "unknown comparison 'mom'"),
        (["--preset", "ytd", "--start", "2025-01-01", "--end", "2025-02-01"], "either a preset or"),
        (["--format", "xml"], "'xml' is not one of 'json', 'table'"),
    ],
)
def test_bad_arguments_get_one_clear_line_and_exit_2(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'e.sqlite'}"
    engine = make_engine(url)
    from ecc.db import init_schema

    init_schema(engine)
    small_portfolio(engine)
    engine.dispose()
    out = run("metrics", *args, "--db", url)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("ecc: error: ")
    assert expected in lines[0]


def test_empty_database_says_how_to_fill_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    out = run("metrics", "--db", url)
    assert out.returncode == 2
    assert "no command-center schema yet: run `ecc init`" in out.stderr
    assert run("init", "--db", url).returncode == 0
    out = run("metrics", "--db", url)
    assert out.returncode == 1
    assert "holds no data yet: load it with `ecc load DIR` or `ecc demo`" in out.stderr
    assert "Traceback" not in out.stderr


def test_incompatible_schema_names_the_fix(engine: Engine, db_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE ecc_meta SET value = '0' WHERE key = 'schema_version'"))
    out = run("metrics", "--db", db_url)
    assert out.returncode == 2
    assert (
        f"made by schema version 0, this ecc needs version {SCHEMA_VERSION}. "
        "Run `ecc init --reset`" in out.stderr
    )
    assert run("init", "--reset", "--db", db_url).returncode == 0
    assert "no data yet" in run("metrics", "--db", db_url).stderr


def test_a_version_1_database_upgrades_in_place_keeping_its_data(
    loaded: str, engine: Engine
) -> None:
    with engine.begin() as conn:  # what version 1 looked like: no cache tables of version 2
        for table in ("refresh_runs", "month_end_snapshots", "snapshot_months"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("DROP TABLE leaderboard_history"))
        conn.execute(text("UPDATE ecc_meta SET value = '1' WHERE key = 'schema_version'"))
        mark_data_version(conn)
    out = run("metrics", "--db", loaded)
    assert out.returncode == 2
    assert "made by schema version 1" in out.stderr and "Run `ecc init` to upgrade" in out.stderr
    assert run("init", "--db", loaded).returncode == 0
    after = run("metrics", "--preset", "this_quarter", "--db", loaded)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["portfolio"]["customers"] == 1  # the data is still there
    assert run("refresh", "--db", loaded).returncode == 0


def test_database_url_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    out = run("init", env={"ECC_DATABASE_URL": url})
    assert out.returncode == 0 and "env.sqlite" in out.stdout
    assert (tmp_path / "env.sqlite").exists()


def test_unsupported_database_url_is_refused(tmp_path: Path) -> None:
    out = run("init", "--db", "mysql://root@127.0.0.1/test")
    assert out.returncode == 2
    assert "not supported; use sqlite:///... or postgresql+psycopg://" in out.stderr


# ---------------------------------------------------------------- ecc refresh


def test_refresh_fills_the_cache_that_ecc_metrics_then_reads(loaded: str) -> None:
    eng = make_engine(loaded)
    with eng.begin() as conn:
        mark_data_version(conn)  # as `ecc load` would
    eng.dispose()
    out = run("refresh", "--db", loaded)
    assert out.returncode == 0, out.stderr
    assert "60 requests" in out.stdout and "month-end snapshots built" in out.stdout
    again = run("refresh", "--db", loaded)
    assert again.returncode == 0 and "nothing changed since the last refresh" in again.stdout
    status = run("refresh", "--status", "--db", loaded)
    lines = status.stdout.strip().splitlines()
    assert len(lines) == 2 and "skipped" in lines[0] and "succeeded" in lines[1]
    for args in (
        ("--preset", "this_quarter", "--compare", "previous"),
        ("--preset", "ytd", "--compare", "yoy", "--segment", "SMB"),
        ("--start", "2025-03-01", "--end", "2025-09-30", "--csm", "ana"),  # a miss
    ):
        cached = run("metrics", *args, "--db", loaded)
        source = run("metrics", *args, "--no-cache", "--db", loaded)
        assert cached.returncode == source.returncode == 0, cached.stderr + source.stderr
        assert json.loads(cached.stdout) == json.loads(source.stdout)


def test_refresh_of_an_empty_database_says_what_to_do(db_url: str, engine: Engine) -> None:
    out = run("refresh", "--db", db_url)
    assert out.returncode == 1
    assert out.stderr.startswith("ecc: error: refresh failed, the previous cache is kept")
    assert "run `ecc load DIR` or `ecc demo` first" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # security finding 6: a range that would make the database read centuries
        (
            ["--start", "0001-01-02", "--end", "9999-12-31"],
            "the range 0001-01-02 to 9999-12-31 spans 3,652,058 days; choose at most 10 years",
        ),
        # data from 2025-01-10 to 2025-11-20: 366 days either side is the limit
        (
            ["--start", "2024-01-09", "--end", "2024-12-31"],
            "the start date 2024-01-09 is more than a year outside the data "
            "(2025-01-10 to 2025-11-20); choose a date from 2024-01-10 to 2026-11-21",
        ),
        (
            ["--start", "2025-06-01", "--end", "2026-11-22"],
            "the end date 2026-11-22 is more than a year outside the data",
        ),
        (["--preset", "ytd", "--today", "2031-01-01"], "the today date 2031-01-01 is more"),
    ],
)
def test_ranges_are_bounded_by_ten_years_and_the_data(
    loaded: str, args: list[str], message: str
) -> None:
    out = run("metrics", *args, "--db", loaded)
    assert out.returncode == 2, out.stdout
    assert out.stderr.startswith("ecc: error: " + message), out.stderr
    assert out.stdout == ""


def test_a_range_at_the_edges_of_the_bounds_is_answered(loaded: str) -> None:
    out = run("metrics", "--start", "2024-01-10", "--end", "2026-11-21", "--db", loaded)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["period"] == {"start": "2024-01-10", "end": "2026-11-21"}
