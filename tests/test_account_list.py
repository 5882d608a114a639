"""The at-risk list is the VP's worklist: each account with its next open renewal, an
open save play and the last activity logged, all as of the view's end."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ecc.drilldown import account_list
from ecc.metrics.plan import DIRECT
from ecc.metrics.scope import Scope
from ecc.ui.static import render_page
from tests.support.builders import seed

END = date(2026, 3, 31)


def _book(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1", "name": "Ada"}],
        customers=[{"customer_id": c, "name": c.upper()} for c in ("a", "b", "c")],
        arr_events=[
            {"customer_id": c, "event_date": "2025-01-01", "kind": "new", "arr_delta": arr}
            for c, arr in (("a", "300"), ("b", "200"), ("c", "100"))
        ],
        health_scores=[
            {"customer_id": c, "scored_on": "2026-03-01", "score": s}
            for c, s in (("a", "30"), ("b", "55"), ("c", "90"))
        ],
        renewals=[
            # a: one closed before END (not open), one late, one later: the late one is next
            {"renewal_id": "a0", "customer_id": "a", "due_on": "2026-01-31", "arr": "300",
             "forecast_status": "on_track", "outcome": "renewed", "closed_on": "2026-01-20",
             "renewed_arr": "300"},
            {"renewal_id": "a1", "customer_id": "a", "due_on": "2026-03-15", "arr": "300",
             "forecast_status": "at_risk"},
            {"renewal_id": "a2", "customer_id": "a", "due_on": "2027-03-15", "arr": "300",
             "forecast_status": "on_track"},
            # b: closed after END: open at END
            {"renewal_id": "b1", "customer_id": "b", "due_on": "2026-04-30", "arr": "200",
             "forecast_status": "at_risk", "outcome": "churned", "closed_on": "2026-04-02"},
        ],
        save_plays=[
            {"play_id": "p1", "customer_id": "a", "csm_id": "csm1", "opened_on": "2026-03-10"},
            # opened after END: not open at END
            {"play_id": "p2", "customer_id": "b", "csm_id": "csm1", "opened_on": "2026-04-01"},
        ],
        activities=[
            {"activity_id": "x1", "csm_id": "csm1", "customer_id": "a", "kind": "call",
             "occurred_on": "2026-03-20", "completed": True},
            {"activity_id": "x2", "csm_id": "csm1", "customer_id": "a", "kind": "meeting",
             "occurred_on": "2026-04-05", "completed": True},  # after END
        ],
    )  # fmt: skip


def test_the_at_risk_list_says_renewal_save_play_and_last_touch(engine: Engine) -> None:
    _book(engine)
    with engine.connect() as conn:
        got = account_list(DIRECT, conn, END, Scope(), "at_risk")
    rows = {r["customer_id"]: r for r in got["rows"]}
    assert list(rows) == ["a", "b"]  # c is healthy; largest ARR first
    assert (rows["a"]["renewal_due"], rows["a"]["save_play"], rows["a"]["last_touch"]) == (
        "2026-03-15",
        True,
        "2026-03-20",
    )
    assert (rows["b"]["renewal_due"], rows["b"]["save_play"], rows["b"]["last_touch"]) == (
        "2026-04-30",
        False,
        None,
    )
    html = render_page(engine, "accounts", "start=2026-01-01&end=2026-03-31&list=at_risk")
    assert "Next renewal" in html and "Save play" in html and "Last touch" in html
    assert "16 d late" in html  # a's renewal was due Mar 15
    assert "11 d ago" in html  # a's call on Mar 20
    assert "none logged" in html  # b
