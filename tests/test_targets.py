"""Targets for a period: money pro-rated by days, rates day-weighted, null without a row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Connection, Engine

from ecc.metrics.targets import target_for
from ecc.periods import Period
from tests.support.builders import seed

TARGETS = [
    # expansion_arr (money), portfolio: Q1 2026 = 90 days, April 2026 = 30 days
    {
        "metric": "expansion_arr",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "value": 90000,
    },
    {
        "metric": "expansion_arr",
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
        "value": 30000,
    },
    # a segment row, invisible to the portfolio
    {
        "metric": "expansion_arr",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "segment": "Enterprise",
        "value": 45000,
    },
    # nrr (a rate), portfolio: Q1 at 1.00, April at 1.10
    {"metric": "nrr", "period_start": "2026-01-01", "period_end": "2026-03-31", "value": 1.00},
    {"metric": "nrr", "period_start": "2026-04-01", "period_end": "2026-04-30", "value": 1.10},
    # nrr for Enterprise in February only (28 days)
    {
        "metric": "nrr",
        "period_start": "2026-02-01",
        "period_end": "2026-02-28",
        "segment": "Enterprise",
        "value": 0.95,
    },
]


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    seed(engine, targets=TARGETS)
    with engine.connect() as c:
        yield c


P = Period(date(2026, 3, 1), date(2026, 4, 15))  # overlaps Q1 by 31 days and April by 15


def test_money_target_is_pro_rated_by_days_inside_the_period(conn: Connection) -> None:
    # 90000 * 31/90 + 30000 * 15/30 = 31000 + 15000
    assert target_for(conn, "expansion_arr", P, None) == 46000.0
    # a period inside one row: January = 31 of Q1's 90 days -> 90000 * 31/90
    jan = Period(date(2026, 1, 1), date(2026, 1, 31))
    assert target_for(conn, "expansion_arr", jan, None) == 31000.0
    # one day, the row's last: 90000 / 90
    last_day = Period(date(2026, 3, 31), date(2026, 3, 31))
    assert target_for(conn, "expansion_arr", last_day, None) == 1000.0
    # a period that covers rows entirely counts them in full: 90000 + 30000
    year = Period(date(2025, 12, 1), date(2026, 12, 31))
    assert target_for(conn, "expansion_arr", year, None) == 120000.0


def test_segment_rows_are_separate_from_portfolio_rows(conn: Connection) -> None:
    # Enterprise: 45000 * 31/90 = 15500 (April has no Enterprise row)
    assert target_for(conn, "expansion_arr", P, "Enterprise") == 15500.0
    assert target_for(conn, "expansion_arr", P, "SMB") is None


def test_rate_target_is_the_day_weighted_mean_of_overlapping_rows(conn: Connection) -> None:
    # (1.00 * 31 + 1.10 * 15) / (31 + 15) = 47.5 / 46
    assert target_for(conn, "nrr", P, None) == pytest.approx(47.5 / 46, abs=1e-12)
    # inside the Q1 row only: its value, not pro-rated
    jan = Period(date(2026, 1, 1), date(2026, 1, 31))
    assert target_for(conn, "nrr", jan, None) == 1.0
    # Enterprise: only the February row overlaps Feb 15 .. Mar 10 -> 0.95
    feb_mar = Period(date(2026, 2, 15), date(2026, 3, 10))
    assert target_for(conn, "nrr", feb_mar, "Enterprise") == 0.95


def test_no_overlapping_row_gives_null(conn: Connection) -> None:
    assert target_for(conn, "grr", P, None) is None  # no grr rows at all
    before = Period(date(2025, 1, 1), date(2025, 12, 31))  # ends the day before the first row
    assert target_for(conn, "expansion_arr", before, None) is None
    assert target_for(conn, "nrr", before, None) is None
    after = Period(date(2026, 5, 1), date(2026, 5, 31))
    assert target_for(conn, "nrr", after, "Enterprise") is None
