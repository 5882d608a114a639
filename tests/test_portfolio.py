"""Portfolio summary (METRICS.md, US-001) on a hand-made book, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.metrics.context import Context
from ecc.metrics.portfolio import portfolio
from ecc.metrics.scope import Scope
from ecc.periods import Period
from tests.support.builders import seed

Q1 = Period(date(2024, 1, 1), date(2024, 3, 31))
NULL_DIST = {"healthy": None, "at_risk": None, "critical": None}


def ev(cid: str, day: str, kind: str, delta: float) -> dict[str, Any]:
    row: dict[str, Any] = {"customer_id": cid, "event_date": day, "kind": kind, "arr_delta": delta}
    if kind == "expansion":
        row["expansion_type"] = "upsell"
    return row


def score(cid: str, day: str, value: float | str) -> dict[str, Any]:
    return {"customer_id": cid, "scored_on": day, "score": value}


def book(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}, {"csm_id": "csm2", "segment": "Enterprise"}],
        customers=[
            {"customer_id": "a", "segment": "Enterprise", "csm_id": "csm2"},
            {"customer_id": "b"},
            {"customer_id": "c"},
            {"customer_id": "d", "segment": "Mid-market"},
            {"customer_id": "e"},
        ],
        arr_events=[
            ev("a", "2024-01-10", "new", 1000),
            ev("b", "2024-02-01", "new", 500),
            ev("b", "2024-03-31", "churn", -500),  # churn on the last day of P
            ev("c", "2024-01-01", "new", 200),  # never scored
            ev("d", "2024-03-01", "new", 300),
            ev("d", "2024-03-15", "expansion", 100),
            ev("e", "2023-06-01", "new", 400),
            ev("e", "2024-01-31", "churn", -400),
            ev("e", "2024-03-10", "reactivation", 250),  # back after churn
        ],
        health_scores=[
            score("a", "2024-01-15", 80),
            score("a", "2024-03-20", 65),
            score("b", "2024-02-05", 40),  # exactly 40: at_risk
            score("d", "2024-03-02", 70),  # exactly 70: healthy
            score("d", "2024-03-29", "39.5"),
            score("e", "2023-12-01", 20),
        ],
    )


def test_portfolio_at_end_with_mom_over_a_leap_day_and_qoq(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = portfolio(Context(conn, Q1))
    # at 2024-03-31: a 1000 (65), c 200 (unscored), d 400 (39.5), e 250 (20); b churned that day
    assert r["customers"] == 4
    assert r["arr"] == 1850.0
    assert r["avg_health"] == 41.5  # (65 + 39.5 + 20) / 3 = 124.5 / 3
    assert r["distribution"] == {"healthy": 0.0, "at_risk": 1 / 3, "critical": 2 / 3}
    assert r["trend"] is None  # no comparison

    # mom: 2024-03-31 - 1 month = 2024-02-29 (leap day)
    # a 1000 (80 healthy), b 500 (40 at_risk), c 200 unscored; d not yet, e churned
    mom = r["mom"]
    assert mom["date"] == "2024-02-29"
    assert (mom["customers"], mom["arr"], mom["avg_health"]) == (3, 1700.0, 60.0)
    assert mom["distribution"] == {"healthy": 0.5, "at_risk": 0.5, "critical": 0.0}
    assert mom["delta"]["customers"] == 1  # 4 - 3
    assert mom["delta"]["arr"] == 150.0  # 1850 - 1700
    assert mom["delta"]["avg_health"] == -18.5  # 41.5 - 60
    # healthy 0 - 1/2; at_risk 1/3 - 1/2 = -1/6; critical 2/3 - 0
    assert mom["delta"]["distribution"] == {"healthy": -0.5, "at_risk": -1 / 6, "critical": 2 / 3}

    # qoq: 2023-12-31: only e (400, score 20 critical)
    qoq = r["qoq"]
    assert qoq["date"] == "2023-12-31"
    assert (qoq["customers"], qoq["arr"], qoq["avg_health"]) == (1, 400.0, 20.0)
    assert qoq["distribution"] == {"healthy": 0.0, "at_risk": 0.0, "critical": 1.0}
    assert qoq["delta"]["customers"] == 3
    assert qoq["delta"]["arr"] == 1450.0
    assert qoq["delta"]["avg_health"] == 21.5
    assert qoq["delta"]["distribution"] == {"healthy": 0.0, "at_risk": 1 / 3, "critical": -1 / 3}

    # by segment at end: Enterprise a; Mid-market d; SMB c (unscored) + e (20)
    seg = r["by_segment"]
    assert list(seg) == ["Enterprise", "Mid-market", "SMB"]
    assert seg["Enterprise"] == {
        "customers": 1,
        "arr": 1000.0,
        "avg_health": 65.0,
        "distribution": {"healthy": 0.0, "at_risk": 1.0, "critical": 0.0},
    }
    assert seg["Mid-market"]["arr"] == 400.0 and seg["Mid-market"]["avg_health"] == 39.5
    assert seg["SMB"] == {
        "customers": 2,
        "arr": 450.0,
        "avg_health": 20.0,
        "distribution": {"healthy": 0.0, "at_risk": 0.0, "critical": 1.0},
    }


def test_mom_keeps_the_day_and_null_means_give_null_deltas(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        # end 2024-01-12: mom 2023-12-12 (e only, 20); qoq 2023-10-12 (e only, 20)
        r = portfolio(Context(conn, Period(date(2024, 1, 1), date(2024, 1, 12))))
        # at 2024-01-12: a 1000 (unscored until 01-15), c 200, e 400 (20)
        assert (r["customers"], r["arr"], r["avg_health"]) == (3, 1600.0, 20.0)
        assert r["mom"]["date"] == "2023-12-12" and r["mom"]["delta"]["arr"] == 1200.0
        # end 2023-09-30: qoq at 2023-06-30 (day 30 kept)
        r = portfolio(Context(conn, Period(date(2023, 7, 1), date(2023, 9, 30))))
        # qoq: 2023-06-30: e 400 unscored (its first score is 2023-12-01)
        assert r["qoq"]["date"] == "2023-06-30"
        assert r["qoq"]["avg_health"] is None and r["qoq"]["distribution"] == NULL_DIST
        assert r["qoq"]["delta"]["customers"] == 0 and r["qoq"]["delta"]["arr"] == 0.0
        assert r["qoq"]["delta"]["avg_health"] is None
        assert r["qoq"]["delta"]["distribution"] == NULL_DIST


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        ("70.30", "71.30", "improving"),  # +1.00 exactly (exact decimals, no float drift)
        ("70.31", "71.30", "stable"),  # +0.99
        ("71.30", "70.30", "declining"),  # -1.00 exactly
        ("71.29", "70.30", "stable"),  # -0.99
    ],
)
def test_trend_thresholds_at_one_point(
    engine: Engine, earlier: str, later: str, expected: str
) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "x"}],
        arr_events=[ev("x", "2024-01-01", "new", 100)],
        health_scores=[score("x", "2024-01-31", earlier), score("x", "2024-02-29", later)],
    )
    with engine.connect() as conn:
        p = Period(date(2024, 2, 1), date(2024, 2, 29))
        comparison = Period(date(2024, 1, 1), date(2024, 1, 31))
        assert portfolio(Context(conn, p, comparison=comparison))["trend"] == expected


def test_trend_is_null_when_the_comparison_end_has_no_scores(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        # comparison end 2023-09-30: e active but unscored -> avg null -> trend null
        r = portfolio(Context(conn, Q1, comparison=Period(date(2023, 7, 1), date(2023, 9, 30))))
        assert r["trend"] is None
        # comparison end 2023-12-31: avg 20 -> 41.5 - 20 = +21.5 -> improving
        r = portfolio(Context(conn, Q1, comparison=Period(date(2023, 10, 1), date(2023, 12, 31))))
        assert r["trend"] == "improving"


def test_segment_filter_keeps_all_three_segments(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = portfolio(Context(conn, Q1, scope=Scope(segment="SMB")))
    # SMB at end: c 200 (unscored), e 250 (20)
    assert (r["customers"], r["arr"], r["avg_health"]) == (2, 450.0, 20.0)
    empty = {"customers": 0, "arr": 0.0, "avg_health": None, "distribution": NULL_DIST}
    assert r["by_segment"]["Enterprise"] == empty
    assert r["by_segment"]["Mid-market"] == empty
    assert r["by_segment"]["SMB"]["customers"] == 2
    # mom at 2024-02-29: b 500 (40), c 200 -> 2 customers, 700, avg 40
    assert (r["mom"]["customers"], r["mom"]["arr"], r["mom"]["avg_health"]) == (2, 700.0, 40.0)
    assert r["mom"]["delta"]["avg_health"] == -20.0


def test_csm_filter_restricts_to_the_book(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = portfolio(Context(conn, Q1, scope=Scope(csm_id="csm2")))
    # c2 owns only a: 1000, score 65; at 2024-02-29 score 80; at 2023-12-31 nothing
    assert (r["customers"], r["arr"], r["avg_health"]) == (1, 1000.0, 65.0)
    assert r["mom"]["delta"]["avg_health"] == -15.0
    assert r["qoq"]["customers"] == 0 and r["qoq"]["delta"]["arr"] == 1000.0
    assert r["by_segment"]["SMB"]["customers"] == 0
    assert r["by_segment"]["Enterprise"]["customers"] == 1


def test_empty_database_gives_zeros_and_nulls(engine: Engine) -> None:
    with engine.connect() as conn:
        r = portfolio(Context(conn, Q1, comparison=Period(date(2023, 10, 1), date(2023, 12, 31))))
    assert (r["customers"], r["arr"], r["avg_health"], r["trend"]) == (0, 0.0, None, None)
    assert r["distribution"] == NULL_DIST
    assert r["mom"]["delta"] == {
        "customers": 0,
        "arr": 0.0,
        "avg_health": None,
        "distribution": NULL_DIST,
    }
    assert all(s["customers"] == 0 for s in r["by_segment"].values())
