"""Presets and comparison periods (METRICS.md, Time), worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from ecc.errors import ConfigError
from ecc.periods import (
    Period,
    add_months,
    comparison_period,
    minus_year,
    month_pieces,
    preset_period,
    trend_dates,
)

D = date.fromisoformat


@pytest.mark.parametrize(
    ("preset", "today", "start", "end"),
    [
        ("this_month", "2026-03-17", "2026-03-01", "2026-03-17"),
        ("last_month", "2026-03-17", "2026-02-01", "2026-02-28"),
        ("last_month", "2026-01-05", "2025-12-01", "2025-12-31"),
        ("this_quarter", "2026-11-24", "2026-10-01", "2026-11-24"),
        ("last_quarter", "2026-11-24", "2026-07-01", "2026-09-30"),
        ("last_quarter", "2026-02-10", "2025-10-01", "2025-12-31"),
        ("ytd", "2026-11-24", "2026-01-01", "2026-11-24"),
    ],
)
def test_preset_ranges(preset: str, today: str, start: str, end: str) -> None:
    p = preset_period(preset, D(today))
    assert (p.start, p.end) == (D(start), D(end))


@pytest.mark.parametrize(
    ("preset", "today", "start", "end"),
    [
        # this_month on the 17th -> the 1st..17th of last month
        ("this_month", "2026-03-17", "2026-02-01", "2026-02-17"),
        # the 31st: last month cut at its length (Feb 2026 has 28 days)
        ("this_month", "2026-03-31", "2026-02-01", "2026-02-28"),
        ("this_month", "2024-03-30", "2024-02-01", "2024-02-29"),  # leap year
        # whole months and quarters compare with the whole previous one
        ("last_month", "2026-03-17", "2026-01-01", "2026-01-31"),
        ("last_quarter", "2026-11-24", "2026-04-01", "2026-06-30"),
        # this_quarter on Nov 24: Oct 1..Nov 24 is 55 days -> Jul 1..Aug 24 (55 days)
        ("this_quarter", "2026-11-24", "2026-07-01", "2026-08-24"),
        # Q2 to Jun 30 is 91 days; Q1 2026 has 90 -> clamped to Mar 31
        ("this_quarter", "2026-06-30", "2026-01-01", "2026-03-31"),
        # ytd: the same days one year earlier
        ("ytd", "2026-11-24", "2025-01-01", "2025-11-24"),
        ("ytd", "2024-02-29", "2023-01-01", "2023-02-28"),
    ],
)
def test_previous_comparison(preset: str, today: str, start: str, end: str) -> None:
    c = comparison_period(preset_period(preset, D(today)), "previous")
    assert (c.kind, c.period.start, c.period.end) == ("previous", D(start), D(end))


def test_custom_previous_is_same_length_ending_day_before() -> None:
    # 2026-01-01..2026-03-31 is 90 days -> 2025-10-03..2025-12-31 (90 days)
    c = comparison_period(Period(D("2026-01-01"), D("2026-03-31")), "previous")
    assert (c.period.start, c.period.end) == (D("2025-10-03"), D("2025-12-31"))
    assert c.period.days == 90


def test_yoy_moves_both_dates_and_feb29_becomes_feb28() -> None:
    c = comparison_period(Period(D("2024-02-01"), D("2024-02-29"), "this_month"), "yoy")
    assert (c.period.start, c.period.end) == (D("2023-02-01"), D("2023-02-28"))


def test_month_arithmetic_clamps() -> None:
    assert add_months(D("2026-09-30"), -1) == D("2026-08-30")
    assert add_months(D("2026-03-31"), -1) == D("2026-02-28")
    assert add_months(D("2024-05-31"), -3) == D("2024-02-29")
    assert minus_year(D("2024-02-29")) == D("2023-02-28")


def test_trend_dates_lists_month_ends_then_end_once() -> None:
    assert trend_dates(Period(D("2026-10-01"), D("2026-11-24"))) == [
        D("2026-10-31"),
        D("2026-11-24"),
    ]
    assert trend_dates(Period(D("2026-07-01"), D("2026-09-30"))) == [
        D("2026-07-31"),
        D("2026-08-31"),
        D("2026-09-30"),
    ]


def test_end_before_start_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"ends .* before it starts"):
        Period(D("2026-03-02"), D("2026-03-01"))


def test_unknown_preset_and_comparison_name_the_choices() -> None:
    with pytest.raises(ConfigError, match="this_month"):
        preset_period("next_month", D("2026-01-01"))
    with pytest.raises(ConfigError, match="previous, yoy"):
        comparison_period(Period(D("2026-01-01"), D("2026-01-02")), "mom")


@pytest.mark.parametrize(
    ("start", "end", "pieces"),
    [
        ("2026-11-01", "2026-11-25", [("2026-11-01", "2026-11-25")]),
        ("2026-11-25", "2026-11-25", [("2026-11-25", "2026-11-25")]),
        (
            "2026-01-15",
            "2026-03-01",
            [
                ("2026-01-15", "2026-01-31"),
                ("2026-02-01", "2026-02-28"),
                ("2026-03-01", "2026-03-01"),
            ],
        ),
        ("2025-12-31", "2026-01-01", [("2025-12-31", "2025-12-31"), ("2026-01-01", "2026-01-01")]),
        ("2024-02-01", "2024-02-29", [("2024-02-01", "2024-02-29")]),
    ],
)
def test_month_pieces_cover_the_range_once_within_months(
    start: str, end: str, pieces: list[tuple[str, str]]
) -> None:
    got = month_pieces(date.fromisoformat(start), date.fromisoformat(end))
    assert got == [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in pieces]


def test_month_pieces_of_a_reversed_range_are_none() -> None:
    assert month_pieces(date(2026, 3, 2), date(2026, 3, 1)) == []
