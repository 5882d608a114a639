"""CSM performance: books, retention, health change, activity, leaderboard, trend, averages.

P = 2026-01-01 .. 2026-02-28, d0 = 2025-12-31; trend dates 2026-01-31 and 2026-02-28.

Books (current owner):
- alice (SMB): a1 1000 -> 1200 (expansion +200 on Jan 15), scores 60 (Dec 1) -> 80 (Feb 1);
  a2 500 -> 0 (churn Feb 10), scores 50 (Dec 15) -> 36 (Feb 20);
  a3 new 300 on Jan 20, score 90 (Jan 25) - unscored at d0.
- bob (SMB): b1 2000 -> 1500 (contraction Feb 1), scores 40 (Nov 1) -> 50 (Feb 15);
  b2 (an Enterprise customer) 4000, unscored.
- carol (Enterprise): c1 5000 -> 6000 (expansion +1000 Feb 20), scores 70 (on d0) -> 75 (end);
  c2 1000, unscored.
- dave (SMB, inactive): no customers, one call in P -> still a row.
- erin (Enterprise): no customers, a meeting on d0 (before P) -> not a row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.metrics.context import Context
from ecc.metrics.csms import Ranks, csms, leaderboard
from ecc.metrics.scope import Scope
from ecc.periods import Period
from tests.support.builders import seed

P = Period(date(2026, 1, 1), date(2026, 2, 28))


def ev(cid: str, day: str, kind: str, delta: Any, xtype: str | None = None) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "event_date": day,
        "kind": kind,
        "arr_delta": delta,
        "expansion_type": xtype,
    }


def sc(cid: str, day: str, score: Any) -> dict[str, Any]:
    return {"customer_id": cid, "scored_on": day, "score": score}


def act(csm: str, day: str, kind: str, **kw: Any) -> dict[str, Any]:
    return {"csm_id": csm, "occurred_on": day, "kind": kind, **kw}


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(
        engine,
        csms=[
            {"csm_id": "alice", "name": "Alice", "segment": "SMB"},
            {"csm_id": "bob", "name": "Bob", "segment": "SMB"},
            {"csm_id": "carol", "name": "Carol", "segment": "Enterprise"},
            {"csm_id": "dave", "name": "Dave", "segment": "SMB", "active": False},
            {"csm_id": "erin", "name": "Erin", "segment": "Enterprise"},
        ],
        customers=[
            {"customer_id": "a1", "csm_id": "alice"},
            {"customer_id": "a2", "csm_id": "alice"},
            {"customer_id": "a3", "csm_id": "alice"},
            {"customer_id": "b1", "csm_id": "bob"},
            {"customer_id": "b2", "csm_id": "bob", "segment": "Enterprise"},
            {"customer_id": "c1", "csm_id": "carol", "segment": "Enterprise"},
            {"customer_id": "c2", "csm_id": "carol", "segment": "Enterprise"},
        ],
        arr_events=[
            ev("a1", "2025-06-01", "new", 1000),
            ev("a1", "2026-01-15", "expansion", 200, "upsell"),
            ev("a2", "2025-06-01", "new", 500),
            ev("a2", "2026-02-10", "churn", -500),
            ev("a3", "2026-01-20", "new", 300),
            ev("b1", "2025-01-01", "new", 2000),
            ev("b1", "2026-02-01", "contraction", -500),
            ev("b2", "2025-01-01", "new", 4000),
            ev("c1", "2025-03-01", "new", 5000),
            ev("c1", "2026-02-20", "expansion", 1000, "cross_sell"),
            ev("c2", "2025-03-01", "new", 1000),
        ],
        health_scores=[
            sc("a1", "2025-12-01", 60),
            sc("a1", "2026-02-01", 80),
            sc("a2", "2025-12-15", 50),
            sc("a2", "2026-02-20", 36),
            sc("a3", "2026-01-25", 90),
            sc("b1", "2025-11-01", 40),
            sc("b1", "2026-02-15", 50),
            sc("c1", "2025-12-31", 70),
            sc("c1", "2026-02-28", 75),
        ],
        activities=[
            # alice: emails with response hours 2, 4, 10, 1 in P -> median (2 + 4) / 2 = 3
            act("alice", "2026-01-01", "email", response_hours=2.0),
            act("alice", "2026-02-28", "email", response_hours=4.0),
            act("alice", "2026-01-10", "email", response_hours=10.0, customer_id="b1"),
            act("alice", "2026-01-11", "email", response_hours=1.0),
            act("alice", "2026-01-12", "email"),  # an email without response time
            act("alice", "2025-12-31", "email", response_hours=100.0),  # before P
            act("alice", "2026-01-05", "meeting"),
            act("alice", "2026-02-05", "meeting"),
            act("alice", "2026-02-06", "call"),
            act("alice", "2026-02-07", "task", completed=True),
            act("alice", "2026-02-08", "task", completed=False),
            # bob: 5, 7, 3 -> median 5
            act("bob", "2026-01-02", "email", response_hours=5.0),
            act("bob", "2026-01-03", "email", response_hours=7.0),
            act("bob", "2026-01-04", "email", response_hours=3.0),
            act("dave", "2026-01-20", "call"),
            act("erin", "2025-12-31", "meeting"),
        ],
    )
    return engine


def run(engine: Engine, scope: Scope | None = None, period: Period = P) -> Any:
    with engine.connect() as conn:
        return csms(Context(conn=conn, period=period, scope=scope or Scope()))


def by_id(result: Any) -> dict[str, Any]:
    return {row["csm_id"]: row for row in result["rows"]}


def test_rows_books_and_retention(seeded: Engine) -> None:
    r = run(seeded)
    # erin: no active customer, no activity in P; dave: inactive but active in P
    assert [row["csm_id"] for row in r["rows"]] == ["carol", "bob", "alice", "dave"]
    rows = by_id(r)
    alice = rows["alice"]
    # active at end: a1 1200 (80) and a3 300 (90); a2 churned
    assert (alice["accounts"], alice["arr"], alice["avg_health"]) == (2, 1500.0, 85.0)
    assert alice["distribution"] == {"healthy": 1.0, "at_risk": 0.0, "critical": 0.0}
    # cohort at d0: a1 1000 + a2 500 = 1500; kept 1000 + 0; ending 1200 + 0
    assert alice["grr"] == pytest.approx(1000 / 1500, abs=1e-12)
    assert alice["nrr"] == pytest.approx(1200 / 1500, abs=1e-12)
    assert alice["expansion_arr"] == 200.0
    assert alice["name"] == "Alice" and alice["segment"] == "SMB" and alice["active"] is True
    bob = rows["bob"]
    # b1 1500 (50) + b2 4000 (unscored); cohort 2000 + 4000, kept = ending = 1500 + 4000
    assert (bob["accounts"], bob["arr"], bob["avg_health"]) == (2, 5500.0, 50.0)
    assert bob["distribution"] == {"healthy": 0.0, "at_risk": 1.0, "critical": 0.0}
    assert bob["grr"] == bob["nrr"] == pytest.approx(5500 / 6000, abs=1e-12)
    assert bob["expansion_arr"] == 0.0
    carol = rows["carol"]
    assert (carol["accounts"], carol["arr"], carol["avg_health"]) == (2, 7000.0, 75.0)
    assert carol["grr"] == 1.0 and carol["nrr"] == pytest.approx(7000 / 6000, abs=1e-12)
    assert carol["expansion_arr"] == 1000.0
    dave = rows["dave"]
    assert (dave["accounts"], dave["arr"], dave["avg_health"]) == (0, 0.0, None)
    assert dave["distribution"] == {"healthy": None, "at_risk": None, "critical": None}
    assert (dave["grr"], dave["nrr"], dave["expansion_arr"]) == (None, None, 0.0)
    assert dave["active"] is False


def test_health_change_over_customers_scored_at_both_dates(seeded: Engine) -> None:
    rows = by_id(run(seeded))
    # alice: a1 60 -> 80 and a2 50 -> 36 (churned, still owned); a3 unscored at d0 is left out
    # (80 + 36) / 2 - (60 + 50) / 2 = 58 - 55
    assert rows["alice"]["health_change"] == pytest.approx(3.0, abs=1e-12)
    assert rows["bob"]["health_change"] == pytest.approx(10.0, abs=1e-12)  # b1 40 -> 50
    assert rows["carol"]["health_change"] == pytest.approx(5.0, abs=1e-12)  # c1 70 (on d0) -> 75
    assert rows["dave"]["health_change"] is None


def test_activity_counts_and_median_response_hours(seeded: Engine) -> None:
    rows = by_id(run(seeded))
    a = rows["alice"]
    # 5 emails in P (one about bob's customer, one without response time); Dec 31 is before P
    assert (a["meetings"], a["emails"], a["calls"], a["tasks_completed"]) == (2, 5, 1, 1)
    assert a["response_hours"] == 3.0  # even count: (2 + 4) / 2
    assert rows["bob"]["response_hours"] == 5.0  # odd count: 3, 5, 7
    assert rows["bob"]["emails"] == 3
    assert rows["carol"]["response_hours"] is None and rows["carol"]["emails"] == 0
    assert rows["dave"]["calls"] == 1


def test_leaderboard_ranks(seeded: Engine) -> None:
    rows = by_id(run(seeded))
    # nrr: carol 1.1667, bob 0.9167, alice 0.8, dave null (last)
    # expansion: carol 1000, alice 200, bob 0 and dave 0 (tie: bob before dave)
    # health_change: bob 10, carol 5, alice 3, dave null
    # sums: carol 1+1+2 = 4, bob 2+3+1 = 6, alice 3+2+3 = 8, dave 4+4+4 = 12
    got = {
        k: (v["rank"], v["rank_nrr"], v["rank_expansion"], v["rank_health_change"])
        for k, v in rows.items()
    }
    assert got == {
        "carol": (1, 1, 1, 2),
        "bob": (2, 2, 3, 1),
        "alice": (3, 3, 2, 3),
        "dave": (4, 4, 4, 4),
    }


def test_leaderboard_ties_and_nulls_last() -> None:
    ranks = leaderboard(
        ["d", "c", "b", "a"],
        nrr={"a": 1.0, "b": 1.0, "c": None, "d": 0.9},  # a, b tie -> a 1, b 2; d 3; c 4
        expansion={"a": 0.0, "b": 5.0, "c": 5.0, "d": 0.0},  # b 1, c 2, a 3, d 4
        health_change={"a": None, "b": None, "c": None, "d": 1.0},  # d 1, a 2, b 3, c 4
    )
    # sums: a 1+3+2 = 6, b 2+1+3 = 6 (tie: a first), d 3+4+1 = 8, c 4+2+4 = 10
    assert ranks == {
        "a": Ranks(1, 1, 3, 2),
        "b": Ranks(2, 2, 1, 3),
        "d": Ranks(3, 3, 4, 1),
        "c": Ranks(4, 4, 2, 4),
    }


def test_trend_of_each_book(seeded: Engine) -> None:
    rows = by_id(run(seeded))
    # Jan 31: alice a1 1200 (60) + a2 500 (50) + a3 300 (90) -> 2000, 200/3
    alice = rows["alice"]["trend"]
    assert [p["date"] for p in alice] == ["2026-01-31", "2026-02-28"]
    assert alice[0]["arr"] == 2000.0 and alice[0]["avg_health"] == pytest.approx(200 / 3)
    assert alice[1] == {"date": "2026-02-28", "arr": 1500.0, "avg_health": 85.0}
    # bob Jan 31: b1 2000 (40) + b2 4000 -> 6000, 40
    assert rows["bob"]["trend"][0] == {"date": "2026-01-31", "arr": 6000.0, "avg_health": 40.0}
    # an empty book: arr 0, avg_health null
    assert rows["dave"]["trend"] == [
        {"date": "2026-01-31", "arr": 0.0, "avg_health": None},
        {"date": "2026-02-28", "arr": 0.0, "avg_health": None},
    ]


def test_team_average_skips_nulls(seeded: Engine) -> None:
    t = run(seeded)["team_average"]
    assert t["accounts"] == 1.5  # (2 + 2 + 2 + 0) / 4
    assert t["arr"] == 3500.0  # (1500 + 5500 + 7000 + 0) / 4
    assert t["avg_health"] == 70.0  # (85 + 50 + 75) / 3, dave null skipped
    assert t["distribution"] == pytest.approx({"healthy": 2 / 3, "at_risk": 1 / 3, "critical": 0})
    assert t["grr"] == pytest.approx((2 / 3 + 11 / 12 + 1) / 3)  # 31/36
    assert t["nrr"] == pytest.approx(173 / 180)  # (4/5 + 11/12 + 7/6) / 3
    assert t["expansion_arr"] == 300.0  # (200 + 0 + 1000 + 0) / 4
    assert t["health_change"] == pytest.approx(6.0)  # (3 + 10 + 5) / 3
    assert t["response_hours"] == 4.0  # (3 + 5) / 2
    assert (t["meetings"], t["emails"], t["calls"], t["tasks_completed"]) == (0.5, 2.0, 0.5, 0.25)
    assert "rank" not in t and "rank_nrr" not in t


def test_segment_filter_chooses_csms_by_their_segment_and_limits_books(seeded: Engine) -> None:
    smb = run(seeded, Scope(segment="SMB"))
    # carol and erin are Enterprise CSMs; bob's book loses b2 (Enterprise)
    assert [row["csm_id"] for row in smb["rows"]] == ["alice", "bob", "dave"]
    bob = by_id(smb)["bob"]
    assert (bob["accounts"], bob["arr"], bob["nrr"]) == (1, 1500.0, 0.75)  # 1500 / 2000
    assert bob["emails"] == 3  # activities are the CSM's, whatever the customer
    ent = run(seeded, Scope(segment="Enterprise"))
    # bob owns b2 (Enterprise) but is an SMB CSM; erin has neither book nor activity in P
    assert [row["csm_id"] for row in ent["rows"]] == ["carol"]
    assert ent["rows"][0]["rank"] == 1 and ent["team_average"]["arr"] == 7000.0


def test_csm_filter_gives_that_csm_only(seeded: Engine) -> None:
    r = run(seeded, Scope(csm_id="bob"))
    assert [row["csm_id"] for row in r["rows"]] == ["bob"]
    assert r["rows"][0]["arr"] == 5500.0 and r["rows"][0]["rank"] == 1
    empty = run(seeded, Scope(csm_id="erin"))
    assert empty["rows"] == []
    assert empty["team_average"]["arr"] is None
    assert empty["team_average"]["distribution"] == {
        "healthy": None,
        "at_risk": None,
        "critical": None,
    }
