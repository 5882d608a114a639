"""The shared SQL building blocks: ARR at d, health at d, summaries, retention sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from ecc.metrics.plan import DIRECT
from ecc.metrics.scope import Scope
from ecc.metrics.state import data_today, first_data_date
from ecc.metrics.sums import retention_sums, summarize
from tests.support.builders import seed


def test_fixed2_money_is_exact_and_summaries_match_hand_arithmetic(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "a"}, {"customer_id": "b"}, {"customer_id": "c"}],
        arr_events=[
            # a: 100.10 + 50.20 - 150.30 = 0.00 exactly -> not active
            {"customer_id": "a", "event_date": "2025-01-01", "kind": "new", "arr_delta": "100.10"},
            {
                "customer_id": "a",
                "event_date": "2025-02-01",
                "kind": "expansion",
                "arr_delta": "50.20",
                "expansion_type": "upsell",
            },
            {
                "customer_id": "a",
                "event_date": "2025-03-01",
                "kind": "churn",
                "arr_delta": "-150.30",
            },
            {"customer_id": "b", "event_date": "2025-01-01", "kind": "new", "arr_delta": "1000.01"},
            {"customer_id": "c", "event_date": "2025-01-01", "kind": "new", "arr_delta": "0.02"},
        ],
        health_scores=[
            {"customer_id": "b", "scored_on": "2025-01-01", "score": 70},
            {"customer_id": "b", "scored_on": "2025-03-15", "score": "39.99"},
            {"customer_id": "c", "scored_on": "2025-04-01", "score": 40},
        ],
    )
    with engine.connect() as conn:
        s = summarize(DIRECT, conn, date(2025, 3, 31), Scope())[""]
        # active: b (1000.01) and c (0.02); a churned to exactly zero
        assert s.customers == 2
        assert s.arr == Decimal("1000.03")
        # only b is scored at 2025-03-31 (39.99 -> critical); c's score comes later
        assert s.scored == 1 and s.critical == 1 and s.avg_health == 39.99
        s2 = summarize(DIRECT, conn, date(2025, 4, 1), Scope())[""]
        assert (s2.scored, s2.at_risk, s2.critical) == (2, 1, 1)
        assert s2.avg_health == 39.995  # (39.99 + 40) / 2, exact in decimal
        r = retention_sums(DIRECT, conn, date(2025, 2, 1), date(2025, 3, 31), Scope())[""]
        # cohort at 2025-02-01: a 150.30, b 1000.01, c 0.02 -> B = 1150.33
        assert r.base == Decimal("1150.33")
        assert r.kept == Decimal("1000.03") and r.ending == Decimal("1000.03")
        assert data_today(conn) == date(2025, 4, 1)
        assert first_data_date(conn) == date(2024, 1, 1)  # the signup date default
