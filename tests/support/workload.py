"""A hand-made team of CSMs for the workload tests: over, under and balanced books."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.support.builders import seed


def new(cid: str, arr: int) -> dict[str, Any]:
    return {"customer_id": cid, "event_date": "2025-01-01", "kind": "new", "arr_delta": arr}


def cust(cid: str, csm: str, segment: str) -> dict[str, Any]:
    return {"customer_id": cid, "csm_id": csm, "segment": segment}


def renewal(cid: str, due: str, closed: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"customer_id": cid, "due_on": due, "arr": 100}
    if closed is not None:
        row.update(outcome="renewed", closed_on=closed, renewed_arr=100)
    return row


def play(cid: str, opened: str, closed: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"customer_id": cid, "csm_id": "s1", "opened_on": opened}
    if closed is not None:
        row.update(outcome="saved", closed_on=closed)
    return row


def team(engine: Engine) -> None:
    seed(
        engine,
        csms=[
            # SMB: s1 4 accounts / 3 = 1.333 (count drives; ARR 750 / 700 = 1.071): over
            {"csm_id": "s1", "segment": "SMB", "target_accounts": 3, "target_arr": 700},
            # s2: 2 accounts / 4 = 0.5, ARR 600 / 1000 = 0.6 -> 0.6: under
            {"csm_id": "s2", "segment": "SMB", "target_accounts": 4, "target_arr": 1000},
            # s3: inactive, lots of room: never a row, never a receiver
            {
                "csm_id": "s3",
                "segment": "SMB",
                "target_accounts": 50,
                "target_arr": 99999,
                "active": False,
            },
            # Enterprise: e1 2/2 = 1.0, ARR 12000 / 10000 = 1.2 (ARR drives): over
            {"csm_id": "e1", "segment": "Enterprise", "target_accounts": 2, "target_arr": 10000},
            # e2: 1/5 = 0.2, ARR 8000 / 10000 = 0.8 exactly: balanced (not under)
            {"csm_id": "e2", "segment": "Enterprise", "target_accounts": 5, "target_arr": 10000},
            # e3: 1/3, ARR 3000 / 10000 = 0.3 -> 1/3: under
            {"csm_id": "e3", "segment": "Enterprise", "target_accounts": 3, "target_arr": 10000},
            # Mid-market: m1 2/2 = 1.0 exactly (ARR 1200 / 2000 = 0.6): balanced (not over)
            {"csm_id": "m1", "segment": "Mid-market", "target_accounts": 2, "target_arr": 2000},
        ],
        customers=[
            cust("c1", "s1", "SMB"),
            cust("c2", "s1", "SMB"),
            cust("c3", "s1", "SMB"),
            cust("c6", "s1", "SMB"),
            cust("c7", "s1", "SMB"),
            cust("c4", "s2", "SMB"),
            cust("x1", "s2", "Enterprise"),
            cust("c5", "s3", "SMB"),
            cust("ec1", "e1", "Enterprise"),
            cust("ec2", "e1", "Enterprise"),
            cust("ec3", "e2", "Enterprise"),
            cust("ec4", "e3", "Enterprise"),
            cust("mc1", "m1", "Mid-market"),
            cust("mc2", "m1", "Mid-market"),
        ],
        arr_events=[
            new("c1", 100),
            new("c2", 300),
            new("c3", 200),
            new("c6", 150),
            new("c7", 400),
            {"customer_id": "c7", "event_date": "2026-02-01", "kind": "churn", "arr_delta": -400},
            new("c4", 500),
            new("x1", 100),
            new("c5", 100),
            new("ec1", 8000),
            new("ec2", 4000),
            new("ec3", 8000),
            new("ec4", 3000),
            new("mc1", 500),
            new("mc2", 700),
        ],
        health_scores=[
            {"customer_id": "c1", "scored_on": "2026-03-01", "score": 65},  # at_risk
            {"customer_id": "c2", "scored_on": "2026-03-01", "score": 70},  # healthy (boundary)
            {"customer_id": "c2", "scored_on": "2026-04-01", "score": 30},  # after end: ignored
            {"customer_id": "c3", "scored_on": "2026-03-01", "score": "39.99"},  # critical
            {"customer_id": "c7", "scored_on": "2026-03-01", "score": 10},  # churned: not in book
            {"customer_id": "c4", "scored_on": "2026-03-01", "score": 40},  # at_risk (boundary)
            {"customer_id": "ec1", "scored_on": "2026-03-01", "score": 90},
        ],
        renewals=[
            renewal("c1", "2026-06-29"),  # open, due end+90: counts, pins c1
            renewal("c2", "2026-06-30"),  # open, due end+91: neither
            renewal("c3", "2026-04-15", closed="2026-03-20"),  # closed before end: neither
            renewal("c3", "2026-04-10", closed="2026-04-05"),  # closed after end: open at end
            renewal("c6", "2026-03-01"),  # late, open: not counted, pins c6
            renewal("c7", "2026-04-20"),  # churned customer: not in the book
        ],
        save_plays=[
            play("c3", "2026-03-01"),  # open at end: pins c3
            play("c2", "2026-01-01", closed="2026-03-15"),  # closed before end
            play("c2", "2026-04-02"),  # opened after end
        ],
    )
