"""The expansion pipeline: open value by type and stage, top list, win rates, targets."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.config import MetricSettings
from ecc.metrics.context import Context
from ecc.metrics.expansion import expansion
from ecc.metrics.scope import Scope
from ecc.periods import Period
from tests.support.builders import seed

P = Period(date(2026, 1, 1), date(2026, 3, 31))  # Q1 2026, 90 days; end = 2026-03-31

OPPORTUNITIES: list[dict[str, Any]] = [
    # open at end
    {
        "opportunity_id": "o01",
        "customer_id": "c1",
        "type": "upsell",
        "stage": "identified",
        "amount": 1000,
        "created_on": "2026-01-05",
        "expected_close_on": "2026-05-01",
    },
    {
        "opportunity_id": "o02",
        "customer_id": "c1",
        "type": "cross_sell",
        "stage": "qualified",
        "amount": 2000,
        "created_on": "2025-12-01",
        "expected_close_on": "2026-04-15",
    },
    # same amount as o02: o02 comes first (ties by opportunity_id)
    {
        "opportunity_id": "o03",
        "customer_id": "c2",
        "type": "upgrade",
        "stage": "proposal",
        "amount": 2000,
        "created_on": "2026-02-01",
        "expected_close_on": "2026-04-30",
    },
    # created exactly on end: open
    {
        "opportunity_id": "o04",
        "customer_id": "c2",
        "type": "upsell",
        "stage": "negotiation",
        "amount": 5000,
        "created_on": "2026-03-31",
        "expected_close_on": "2026-06-30",
    },
    # created after end: not open (largest amount, must not appear)
    {
        "opportunity_id": "o05",
        "customer_id": "c2",
        "type": "upsell",
        "stage": "proposal",
        "amount": 9000,
        "created_on": "2026-04-01",
        "expected_close_on": "2026-06-30",
    },
    # closed after end: open at end with its stage
    {
        "opportunity_id": "o06",
        "customer_id": "c1",
        "type": "upsell",
        "stage": "qualified",
        "amount": 3000,
        "created_on": "2026-01-01",
        "expected_close_on": "2026-04-02",
        "outcome": "won",
        "closed_on": "2026-04-02",
    },
    # closed exactly on end (won): closed in P, not open
    {
        "opportunity_id": "o07",
        "customer_id": "c1",
        "type": "upgrade",
        "stage": "negotiation",
        "amount": 4000,
        "created_on": "2025-10-01",
        "expected_close_on": "2026-03-31",
        "outcome": "won",
        "closed_on": "2026-03-31",
    },
    {
        "opportunity_id": "o08",
        "customer_id": "c2",
        "type": "cross_sell",
        "stage": "proposal",
        "amount": 1500,
        "created_on": "2025-11-01",
        "expected_close_on": "2026-02-10",
        "outcome": "lost",
        "closed_on": "2026-02-10",
    },
    # closed before P: nowhere
    {
        "opportunity_id": "o09",
        "customer_id": "c2",
        "type": "upsell",
        "stage": "identified",
        "amount": 700,
        "created_on": "2025-10-01",
        "expected_close_on": "2025-12-15",
        "outcome": "won",
        "closed_on": "2025-12-15",
    },
    {
        "opportunity_id": "o10",
        "customer_id": "c1",
        "type": "upsell",
        "stage": "identified",
        "amount": 100,
        "created_on": "2025-12-20",
        "expected_close_on": "2026-01-15",
        "outcome": "lost",
        "closed_on": "2026-01-15",
    },
]


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}, {"csm_id": "csm2", "segment": "Enterprise"}],
        customers=[
            {"customer_id": "c1", "name": "Acme", "segment": "SMB", "csm_id": "csm1"},
            {"customer_id": "c2", "name": "Beta", "segment": "Enterprise", "csm_id": "csm2"},
        ],
        arr_events=[
            {"customer_id": "c1", "event_date": "2025-01-01", "kind": "new", "arr_delta": 10000},
            {"customer_id": "c2", "event_date": "2025-01-01", "kind": "new", "arr_delta": 20000},
            # before P: not counted
            {
                "customer_id": "c2",
                "event_date": "2025-12-31",
                "kind": "expansion",
                "arr_delta": 700,
                "expansion_type": "upsell",
            },
            {
                "customer_id": "c2",
                "event_date": "2026-01-01",
                "kind": "expansion",
                "arr_delta": "250.50",
                "expansion_type": "upgrade",
            },
            {
                "customer_id": "c1",
                "event_date": "2026-03-31",
                "kind": "expansion",
                "arr_delta": 4000,
                "expansion_type": "upgrade",
            },
        ],
        expansion_opportunities=OPPORTUNITIES,
        targets=[
            # the whole of 2026 (365 days): Q1 gets 36500 * 90/365 = 9000
            {
                "metric": "expansion_arr",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "value": 36500,
            },
            {
                "metric": "expansion_arr",
                "period_start": "2026-01-01",
                "period_end": "2026-03-31",
                "segment": "Enterprise",
                "value": 12000,
            },
            {
                "metric": "expansion_win_rate",
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
                "value": 0.3,
            },
        ],
    )
    return engine


def run(engine: Engine, period: Period = P, scope: Scope | None = None, top_n: int = 10) -> Any:
    with engine.connect() as conn:
        ctx = Context(
            conn=conn, period=period, scope=scope or Scope(), settings=MetricSettings(top_n=top_n)
        )
        return expansion(ctx)


def cv(count: int, value: float) -> dict[str, Any]:
    return {"count": count, "value": value}


def test_open_value_by_type_and_stage(seeded: Engine) -> None:
    r = run(seeded)
    # open at end: o01 1000, o02 2000, o03 2000, o04 5000, o06 3000 (o05 created later,
    # o07..o10 closed on or before end)
    assert r["open_value"] == 13000.0
    assert r["by_type"] == {
        "upsell": cv(3, 9000.0),  # o01 + o04 + o06
        "cross_sell": cv(1, 2000.0),  # o02
        "upgrade": cv(1, 2000.0),  # o03
    }
    assert r["by_stage"] == {
        "identified": cv(1, 1000.0),  # o01
        "qualified": cv(2, 5000.0),  # o02 + o06
        "proposal": cv(1, 2000.0),  # o03
        "negotiation": cv(1, 5000.0),  # o04
    }


def test_top_opportunities_largest_first_ties_by_id(seeded: Engine) -> None:
    r = run(seeded, top_n=3)
    assert [x["opportunity_id"] for x in r["top_opportunities"]] == ["o04", "o06", "o02"]
    assert r["top_opportunities"][0] == {
        "opportunity_id": "o04",
        "customer_id": "c2",
        "name": "Beta",
        "type": "upsell",
        "stage": "negotiation",
        "amount": 5000.0,
        "expected_close_on": "2026-06-30",
    }
    everything = run(seeded)["top_opportunities"]  # default top_n = 10 > 5 open
    assert [x["opportunity_id"] for x in everything] == ["o04", "o06", "o02", "o03", "o01"]


def test_win_rates_expansion_arr_and_targets(seeded: Engine) -> None:
    r = run(seeded)
    # closed in P: o07 won (on end), o08 lost, o10 lost -> 1/3; o09 closed before P
    assert r["win_rate"] == pytest.approx(1 / 3, abs=1e-12)
    # p_win over open: 0.10 (o01) + 0.25 (o02) + 0.50 (o03) + 0.75 (o04) + 0.25 (o06) = 1.85 / 5
    assert r["forecast_win_rate"] == pytest.approx(0.37, abs=1e-12)
    # expansion deltas in P: 250.50 (Jan 1) + 4000 (Mar 31); 700 on Dec 31 is before P
    assert r["expansion_arr"] == 4250.5
    assert r["target"] == 9000.0  # 36500 * 90/365
    assert r["win_rate_target"] == 0.3


def test_segment_and_csm_filters(seeded: Engine) -> None:
    ent = run(seeded, scope=Scope(segment="Enterprise"))  # c2 only
    assert ent["open_value"] == 7000.0  # o03 2000 + o04 5000
    assert ent["win_rate"] == 0.0  # o08 lost: 0 / 1
    assert ent["forecast_win_rate"] == pytest.approx((0.50 + 0.75) / 2, abs=1e-12)
    assert ent["expansion_arr"] == 250.5
    assert ent["target"] == 12000.0  # the Enterprise row, whole Q1
    assert ent["win_rate_target"] is None  # no Enterprise win-rate row
    book = run(seeded, scope=Scope(csm_id="csm2"))  # csm2's book = c2
    assert book["open_value"] == 7000.0
    assert book["target"] == 9000.0  # only a CSM filter: the portfolio row
    assert book["win_rate_target"] == 0.3


def test_nothing_open_or_closed_gives_zeros_and_nulls(seeded: Engine) -> None:
    # Q3 2025: o02, o03 ... are created later; o07 (created 2025-10-01) too
    r = run(seeded, period=Period(date(2025, 7, 1), date(2025, 9, 30)))
    assert r["open_value"] == 0.0
    assert r["by_stage"]["identified"] == cv(0, 0.0)
    assert r["top_opportunities"] == []
    assert r["win_rate"] is None and r["forecast_win_rate"] is None
    assert r["expansion_arr"] == 0.0
    assert r["target"] is None and r["win_rate_target"] is None
