"""Segment comparison (METRICS.md, US-009) on a hand-made book, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

from ecc.metrics.context import Context
from ecc.metrics.scope import Scope
from ecc.metrics.segments import segments
from ecc.periods import Period
from tests.support.builders import seed

Q1 = Period(date(2024, 1, 1), date(2024, 3, 31))
EMPTY = {
    "customers": 0,
    "arr": 0.0,
    "avg_health": None,
    "grr": None,
    "nrr": None,
    "expansion_rate": None,
    "time_to_value_days": None,
    "tickets": 0,
    "tickets_per_account": None,
}


def ev(cid: str, day: str, kind: str, delta: float) -> dict[str, Any]:
    row: dict[str, Any] = {"customer_id": cid, "event_date": day, "kind": kind, "arr_delta": delta}
    if kind == "expansion":
        row["expansion_type"] = "cross_sell"
    return row


def ticket(cid: str, opened_at: str) -> dict[str, Any]:
    return {"customer_id": cid, "opened_at": opened_at}


def book(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}, {"csm_id": "csm2"}],
        customers=[
            {
                "customer_id": "E1",
                "segment": "Enterprise",
                "signup_date": "2023-05-01",
                "onboarded_on": "2024-01-15",  # 259 days
            },
            {
                "customer_id": "E2",
                "segment": "Enterprise",
                "csm_id": "csm2",
                "signup_date": "2024-01-20",
                "onboarded_on": "2024-03-01",  # 41 days (through Feb 29)
            },
            {
                "customer_id": "M1",
                "segment": "Mid-market",
                "signup_date": "2023-01-01",
                "onboarded_on": "2023-03-01",  # before P: not counted
            },
            {"customer_id": "M2", "segment": "Mid-market", "csm_id": "csm2"},
            {
                "customer_id": "S1",
                "csm_id": "csm2",
                "signup_date": "2024-03-10",
                "onboarded_on": "2024-03-20",  # 10 days, but no ARR yet
            },
        ],
        arr_events=[
            ev("E1", "2023-05-01", "new", 10000),
            ev("E1", "2024-02-01", "expansion", 2000),  # in P, on the start cohort
            ev("E2", "2024-02-01", "new", 5000),
            ev("E2", "2024-03-01", "expansion", 1000),  # E2 is not in the start cohort
            ev("M1", "2023-01-01", "new", 3000),
            ev("M1", "2024-03-31", "contraction", -1000),
            ev("M2", "2023-06-01", "new", 1000),
            ev("M2", "2024-01-01", "churn", -1000),
        ],
        health_scores=[
            {"customer_id": "E1", "scored_on": "2024-03-01", "score": 80},
            {"customer_id": "E2", "scored_on": "2024-03-01", "score": 60},
        ],
        support_tickets=[
            ticket("E1", "2023-12-31T23:59:59"),  # before P
            ticket("E1", "2024-01-01T00:00:00"),  # first instant of P
            ticket("E1", "2024-03-31T23:59:59"),  # last second of P
            ticket("E1", "2024-04-01T00:00:00"),  # after P
            ticket("S1", "2024-02-15T10:00:00"),
        ],
    )


def test_segment_comparison_over_a_quarter(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = segments(Context(conn, Q1))
    assert list(r) == ["Enterprise", "Mid-market", "SMB"]
    # Enterprise: E1 12000 (80) + E2 6000 (60); cohort at 2023-12-31: E1 10000 -> 12000
    # expansion on the cohort 2000 / 10000; onboarding days median(259, 41) = 150
    # tickets 2 over 2 accounts
    assert r["Enterprise"] == {
        "customers": 2,
        "arr": 18000.0,
        "avg_health": 70.0,
        "grr": 1.0,
        "nrr": 1.2,
        "expansion_rate": 0.2,
        "time_to_value_days": 150.0,
        "tickets": 2,
        "tickets_per_account": 1.0,
    }
    # Mid-market: M1 2000 unscored; cohort M1 3000 + M2 1000 = 4000 -> 2000 kept and ending
    assert r["Mid-market"] == {
        "customers": 1,
        "arr": 2000.0,
        "avg_health": None,
        "grr": 0.5,
        "nrr": 0.5,
        "expansion_rate": 0.0,
        "time_to_value_days": None,
        "tickets": 0,
        "tickets_per_account": 0.0,
    }
    # SMB: S1 onboarded in 10 days, opened one ticket, but has no ARR: no active account
    assert r["SMB"] == {**EMPTY, "time_to_value_days": 10.0, "tickets": 1}


def test_segment_filter_blanks_the_other_segments(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = segments(Context(conn, Q1, scope=Scope(segment="Mid-market")))
    assert r["Enterprise"] == EMPTY and r["SMB"] == EMPTY
    assert (r["Mid-market"]["customers"], r["Mid-market"]["grr"]) == (1, 0.5)


def test_csm_filter_restricts_every_column_to_the_book(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = segments(Context(conn, Q1, scope=Scope(csm_id="csm1")))
    # csm1 owns E1 and M1
    assert r["Enterprise"] == {
        "customers": 1,
        "arr": 12000.0,
        "avg_health": 80.0,
        "grr": 1.0,
        "nrr": 1.2,
        "expansion_rate": 0.2,
        "time_to_value_days": 259.0,
        "tickets": 2,
        "tickets_per_account": 2.0,
    }
    # M1: 3000 -> 2000
    assert r["Mid-market"]["grr"] == 2 / 3 and r["Mid-market"]["nrr"] == 2 / 3
    assert r["SMB"] == EMPTY


def test_median_over_the_period_and_a_period_before_any_data(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        # P = 2024-01-15 .. 2024-03-01: E1 (259) and E2 (41) onboarded -> 150; tickets none
        r = segments(Context(conn, Period(date(2024, 1, 15), date(2024, 3, 1))))
        assert r["Enterprise"]["time_to_value_days"] == 150.0
        assert r["Enterprise"]["tickets"] == 0
        # P = 2024-03-01 .. 2024-03-01: only E2 (41)
        r = segments(Context(conn, Period(date(2024, 3, 1), date(2024, 3, 1))))
        assert r["Enterprise"]["time_to_value_days"] == 41.0
        # before any data: everything empty
        r = segments(Context(conn, Period(date(2022, 1, 1), date(2022, 3, 31))))
        assert r == {"Enterprise": EMPTY, "Mid-market": EMPTY, "SMB": EMPTY}
