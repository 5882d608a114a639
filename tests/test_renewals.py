"""The renewal pipeline: due this quarter, stages, late, upcoming, rates and the target."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ecc.metrics.context import Context
from ecc.metrics.renewals import renewals
from ecc.metrics.scope import Scope
from ecc.periods import Period
from tests.support.builders import seed
from tests.support.empty_db import EmptyDatabases

# end = 2026-02-15, so Q = 2026-Q1 (Jan 1 .. Mar 31);
# end+30 = 2026-03-17, end+60 = 2026-04-16, end+90 = 2026-05-16.
END = date(2026, 2, 15)
P = Period(date(2026, 1, 1), END)

RENEWALS: list[dict[str, Any]] = [
    # due in Q, closed in P before end, renewed
    {
        "renewal_id": "r01",
        "customer_id": "c1",
        "due_on": "2026-01-10",
        "arr": 1000,
        "outcome": "renewed",
        "closed_on": "2026-01-08",
        "renewed_arr": 1100,
    },
    # due in Q, closed exactly on end: churned at end
    {
        "renewal_id": "r02",
        "customer_id": "c1",
        "due_on": "2026-02-01",
        "arr": 2000,
        "outcome": "churned",
        "closed_on": "2026-02-15",
    },
    # due in Q, closed after end: open at end with its forecast (at_risk), and late
    {
        "renewal_id": "r03",
        "customer_id": "c2",
        "due_on": "2026-02-10",
        "arr": 3000,
        "forecast_status": "at_risk",
        "outcome": "renewed",
        "closed_on": "2026-02-20",
        "renewed_arr": 3000,
    },
    # due exactly at end+30 -> d30
    {"renewal_id": "r04", "customer_id": "c2", "due_on": "2026-03-17", "arr": 4000},
    # due at end+31 -> d60, still in Q
    {
        "renewal_id": "r05",
        "customer_id": "c1",
        "due_on": "2026-03-18",
        "arr": 500,
        "forecast_status": "at_risk",
    },
    # due exactly at end+60 -> d60, after Q
    {"renewal_id": "r06", "customer_id": "c1", "due_on": "2026-04-16", "arr": 600},
    # due exactly at end+90 -> d90
    {
        "renewal_id": "r07",
        "customer_id": "c2",
        "due_on": "2026-05-16",
        "arr": 700,
        "forecast_status": "at_risk",
    },
    # due at end+91 -> in no bucket
    {"renewal_id": "r08", "customer_id": "c2", "due_on": "2026-05-17", "arr": 800},
    # due exactly on end, open: in Q (on_track) but neither late nor upcoming
    {"renewal_id": "r09", "customer_id": "c1", "due_on": "2026-02-15", "arr": 900},
    # due last quarter, closed in P renewed: counts in renewal_rate only
    {
        "renewal_id": "r10",
        "customer_id": "c1",
        "due_on": "2025-12-20",
        "arr": 1500,
        "outcome": "renewed",
        "closed_on": "2026-01-05",
        "renewed_arr": 1500,
    },
    # due last year and still open: late
    {"renewal_id": "r11", "customer_id": "c2", "due_on": "2025-11-30", "arr": 250},
    # closed before P: nowhere
    {
        "renewal_id": "r12",
        "customer_id": "c1",
        "due_on": "2025-10-01",
        "arr": 10000,
        "outcome": "churned",
        "closed_on": "2025-12-31",
    },
]


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}, {"csm_id": "csm2", "segment": "Enterprise"}],
        customers=[
            {"customer_id": "c1", "segment": "SMB", "csm_id": "csm1"},
            {"customer_id": "c2", "segment": "Enterprise", "csm_id": "csm2"},
        ],
        renewals=RENEWALS,
        targets=[
            {
                "metric": "renewal_rate",
                "period_start": "2026-01-01",
                "period_end": "2026-03-31",
                "value": 0.9,
            },
        ],
    )
    return engine


def run(engine: Engine, period: Period = P, scope: Scope | None = None) -> Any:
    with engine.connect() as conn:
        return renewals(Context(conn=conn, period=period, scope=scope or Scope()))


def ca(count: int, arr: float) -> dict[str, Any]:
    return {"count": count, "arr": arr}


def test_due_this_quarter_lists_renewals_in_q_with_their_stage_at_end(seeded: Engine) -> None:
    r = run(seeded)
    assert r["due_this_quarter"] == [
        {
            "renewal_id": "r01",
            "customer_id": "c1",
            "due_on": "2026-01-10",
            "arr": 1000.0,
            "stage": "renewed",
        },
        {
            "renewal_id": "r02",
            "customer_id": "c1",
            "due_on": "2026-02-01",
            "arr": 2000.0,
            "stage": "churned",
        },  # closed exactly on end
        {
            "renewal_id": "r03",
            "customer_id": "c2",
            "due_on": "2026-02-10",
            "arr": 3000.0,
            "stage": "at_risk",
        },  # closed after end: open at end
        {
            "renewal_id": "r09",
            "customer_id": "c1",
            "due_on": "2026-02-15",
            "arr": 900.0,
            "stage": "on_track",
        },
        {
            "renewal_id": "r04",
            "customer_id": "c2",
            "due_on": "2026-03-17",
            "arr": 4000.0,
            "stage": "on_track",
        },
        {
            "renewal_id": "r05",
            "customer_id": "c1",
            "due_on": "2026-03-18",
            "arr": 500.0,
            "stage": "at_risk",
        },
    ]
    assert r["quarter"] == {"label": "2026-Q1", "start": "2026-01-01", "end": "2026-03-31"}


def test_stages_late_and_upcoming_buckets(seeded: Engine) -> None:
    r = run(seeded)
    assert r["stages"] == {
        "on_track": ca(2, 4900.0),  # r09 900 + r04 4000
        "at_risk": ca(2, 3500.0),  # r03 3000 + r05 500
        "renewed": ca(1, 1000.0),  # r01
        "churned": ca(1, 2000.0),  # r02
    }
    # open at end and due before end: r03 3000 (closed after end) + r11 250; r09 due on end is not
    assert r["late"] == ca(2, 3250.0)
    assert r["upcoming"] == {
        "d30": ca(1, 4000.0),  # r04 at end+30
        "d60": ca(2, 1100.0),  # r05 at end+31 (500) + r06 at end+60 (600)
        "d90": ca(1, 700.0),  # r07 at end+90; r08 at end+91 is out
    }


def test_renewal_rate_forecast_rate_and_target(seeded: Engine) -> None:
    r = run(seeded)
    # closed in P: r01 1000 renewed, r02 2000 churned, r10 1500 renewed -> 2500 / 4500
    assert r["renewal_rate"] == pytest.approx(2500 / 4500, abs=1e-12)
    # renewed by end: r01 1000; open in Q: r03 3000*0.60 + r09 900*0.95 + r04 4000*0.95
    # + r05 500*0.60 = 1800 + 855 + 3800 + 300 -> 7755 / 11400 due in Q
    assert r["forecast_rate"] == pytest.approx(7755 / 11400, abs=1e-12)
    assert r["target"] == 0.9


def test_segment_filter_keeps_renewals_of_customers_in_the_segment(seeded: Engine) -> None:
    r = run(seeded, scope=Scope(segment="SMB"))  # c1 only
    assert [x["renewal_id"] for x in r["due_this_quarter"]] == ["r01", "r02", "r09", "r05"]
    assert r["late"] == ca(0, 0.0)
    assert r["upcoming"] == {"d30": ca(0, 0.0), "d60": ca(2, 1100.0), "d90": ca(0, 0.0)}
    assert r["renewal_rate"] == pytest.approx(2500 / 4500, abs=1e-12)  # r01, r02, r10 are c1's
    # (1000 + 900*0.95 + 500*0.60) / (1000 + 2000 + 900 + 500) = 2155 / 4400
    assert r["forecast_rate"] == pytest.approx(2155 / 4400, abs=1e-12)
    assert r["target"] is None  # no SMB renewal_rate row


def test_csm_filter_uses_the_book_and_the_portfolio_target(seeded: Engine) -> None:
    r = run(seeded, scope=Scope(csm_id="csm2"))  # c2 only
    assert r["stages"]["at_risk"] == ca(1, 3000.0) and r["stages"]["on_track"] == ca(1, 4000.0)
    assert r["late"] == ca(2, 3250.0)  # r03 and r11
    assert r["renewal_rate"] is None  # r03 closes after end; nothing of c2 closed in P
    assert r["forecast_rate"] == pytest.approx((1800 + 3800) / 7000, abs=1e-12)
    assert r["target"] == 0.9  # only a CSM filter: the portfolio row


def test_nothing_due_in_the_quarter_gives_nulls(seeded: Engine) -> None:
    r = run(seeded, period=Period(date(2026, 7, 1), date(2026, 7, 15)))  # Q3: nothing due
    assert r["due_this_quarter"] == []
    assert all(v == ca(0, 0.0) for v in r["stages"].values())
    assert r["forecast_rate"] is None and r["renewal_rate"] is None and r["target"] is None
    # every renewal still open is late by mid-July:
    # r04 4000 + r05 500 + r06 600 + r07 700 + r08 800 + r09 900 + r11 250 = 7750
    assert r["late"] == ca(7, 7750.0)


# ---------------------------------------------------------------- property: stages add up

Q_START, Q_END = date(2026, 1, 1), date(2026, 3, 31)
renewal_strategy = st.fixed_dictionaries(
    {
        "due": st.integers(min_value=-20, max_value=110),  # days after Q_START; some outside Q
        "cents": st.integers(min_value=1, max_value=10_000_000),
        "status": st.sampled_from(["on_track", "at_risk"]),
        "closed": st.none()
        | st.tuples(
            st.sampled_from(["renewed", "churned"]), st.integers(min_value=-30, max_value=120)
        ),
    }
)


@settings(max_examples=50, deadline=None)
@given(
    items=st.lists(renewal_strategy, max_size=12),
    end_offset=st.integers(min_value=0, max_value=89),
)
def test_stage_totals_equal_the_renewals_due_in_the_quarter(
    empty_dbs: EmptyDatabases, items: list[dict[str, Any]], end_offset: int
) -> None:
    with empty_dbs.fresh() as eng:
        rows = []
        for n, it in enumerate(items):
            row: dict[str, Any] = {
                "renewal_id": f"r{n:03d}",
                "customer_id": "c1",
                "due_on": Q_START + timedelta(days=it["due"]),
                "arr": Decimal(it["cents"]) / 100,
                "forecast_status": it["status"],
            }
            if it["closed"] is not None:
                outcome, offset = it["closed"]
                row.update(outcome=outcome, closed_on=Q_START + timedelta(days=offset))
                if outcome == "renewed":
                    row["renewed_arr"] = row["arr"]
            rows.append(row)
        seed(eng, csms=[{"csm_id": "csm1"}], customers=[{"customer_id": "c1"}], renewals=rows)
        end = Q_START + timedelta(days=end_offset)
        r = run(eng, period=Period(Q_START, end))
        due = [x for x in rows if Q_START <= x["due_on"] <= Q_END]
        stages = r["stages"].values()
        assert sum(s["count"] for s in stages) == len(due) == len(r["due_this_quarter"])
        total = sum((x["arr"] for x in due), Decimal(0))
        assert sum(Decimal(str(s["arr"])) for s in stages) == total
        if due:
            assert r["forecast_rate"] is not None and 0 <= r["forecast_rate"] <= 1
        else:
            assert r["forecast_rate"] is None
