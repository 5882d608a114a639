"""Risk exposure (METRICS.md, US-003) on a hand-made book, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc.config import MetricSettings
from ecc.metrics.context import Context
from ecc.metrics.risk import risk
from ecc.metrics.scope import Scope
from ecc.periods import Period
from tests.support.builders import seed

Q2 = Period(date(2024, 4, 1), date(2024, 6, 30))


def new(cid: str, arr: float, day: str = "2024-01-01") -> dict[str, Any]:
    return {"customer_id": cid, "event_date": day, "kind": "new", "arr_delta": arr}


def score(cid: str, value: float | str, day: str = "2024-03-01") -> dict[str, Any]:
    return {"customer_id": cid, "scored_on": day, "score": value}


def play(cid: str, opened: str, outcome: str | None = None, closed: str | None = None) -> Any:
    return {
        "customer_id": cid,
        "csm_id": "csm2",  # whoever ran it: plays follow the customer's current owner
        "opened_on": opened,
        "outcome": outcome,
        "closed_on": closed,
    }


def book(engine: Engine) -> None:
    seed(
        engine,
        csms=[
            {"csm_id": "csm1"},
            {"csm_id": "csm2", "segment": "Enterprise"},
            {"csm_id": "csm3", "segment": "Mid-market"},
            {"csm_id": "csm4"},  # owns only a churned customer
            {"csm_id": "csm5"},  # owns only a healthy customer
        ],
        customers=[
            {"customer_id": "a", "segment": "Enterprise", "csm_id": "csm2"},
            {"customer_id": "b", "segment": "Enterprise", "csm_id": "csm2"},
            {"customer_id": "c"},
            {"customer_id": "d"},
            {"customer_id": "e"},
            {"customer_id": "f", "segment": "Mid-market", "csm_id": "csm3"},
            {"customer_id": "g", "segment": "Mid-market", "csm_id": "csm3"},
            {"customer_id": "h", "csm_id": "csm4"},
            {"customer_id": "i", "segment": "Enterprise", "csm_id": "csm2"},
            {"customer_id": "j", "csm_id": "csm5"},
        ],
        arr_events=[
            new("a", 5000),
            new("b", 5000),
            new("c", 5000),
            new("d", 8000),
            new("e", 9000),
            new("f", 3000),
            new("g", 1000),
            new("h", 4000),
            {"customer_id": "h", "event_date": "2024-05-01", "kind": "churn", "arr_delta": -4000},
            new("i", 2000),
            new("j", 1000),
        ],
        health_scores=[
            score("a", 39),  # critical
            score("b", 45),  # at_risk, ties with c on ARR and score
            score("c", 45),
            score("d", 40),  # exactly 40: at_risk
            score("e", 70),  # exactly 70: healthy
            # f never scored: not at risk
            score("g", "69.99"),  # at_risk
            score("h", 10),  # critical but churned
            score("i", 20, "2024-01-01"),
            score("i", 90, "2024-06-30"),  # the score on end counts: healthy
            score("j", 80),
        ],
        save_plays=[
            play("a", "2024-03-01"),  # open: active
            play("b", "2024-04-01", "saved", "2024-07-01"),  # closes after end: active
            play("c", "2024-01-01", "saved", "2024-04-01"),  # closed on the first day: saved
            play("d", "2024-05-01", "lost", "2024-06-30"),  # closed on the last day: lost
            play("g", "2024-07-01"),  # opened after end: nothing
            play("h", "2024-02-01", "lost", "2024-03-31"),  # closed before P: nothing
            play("e", "2024-06-30", "saved", "2024-06-30"),  # opened and saved on end: saved
        ],
    )


def test_risk_exposure_at_end(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = risk(Context(conn, Q2))
    # at risk at 2024-06-30: a 5000 (39), b 5000 (45), c 5000 (45), d 8000 (40), g 1000 (69.99)
    assert r["arr_at_risk"] == 24000.0
    assert r["critical_arr"] == 5000.0  # a
    assert r["trend"] is None
    # ARR desc; a/b/c tie at 5000: a (39) before b and c (45); b before c by id
    assert [(t["customer_id"], t["arr"], t["score"]) for t in r["top_accounts"]] == [
        ("d", 8000.0, 40.0),
        ("a", 5000.0, 39.0),
        ("b", 5000.0, 45.0),
        ("c", 5000.0, 45.0),
        ("g", 1000.0, 69.99),
    ]
    assert r["top_accounts"][1] == {
        "customer_id": "a",
        "name": "Customer a",
        "segment": "Enterprise",
        "csm_id": "csm2",
        "arr": 5000.0,
        "score": 39.0,
        "category": "critical",
    }
    # Enterprise: a + b at risk 10000 of a + b + i = 12000
    # Mid-market: g 1000 of f + g = 4000; SMB: c + d = 13000 of c + d + e + j = 23000
    assert r["by_segment"] == {
        "Enterprise": {"arr_at_risk": 10000.0, "accounts_at_risk": 2, "share": 10000 / 12000},
        "Mid-market": {"arr_at_risk": 1000.0, "accounts_at_risk": 1, "share": 0.25},
        "SMB": {"arr_at_risk": 13000.0, "accounts_at_risk": 2, "share": 13000 / 23000},
    }
    # every CSM with an active customer, zeros included; csm4 has none (h churned)
    assert r["by_csm"] == {
        "csm1": {"arr_at_risk": 13000.0, "accounts_at_risk": 2, "share": 13000 / 22000},
        "csm2": {"arr_at_risk": 10000.0, "accounts_at_risk": 2, "share": 10000 / 12000},
        "csm3": {"arr_at_risk": 1000.0, "accounts_at_risk": 1, "share": 0.25},
        "csm5": {"arr_at_risk": 0.0, "accounts_at_risk": 0, "share": 0.0},
    }
    # active: a, b; saved in P: c (04-01), e (06-30); lost in P: d (06-30)
    assert r["save_plays"] == {"active": 2, "saved": 2, "lost": 1, "success_rate": 2 / 3}


def test_top_n_cuts_the_list_after_ties(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = risk(Context(conn, Q2, settings=MetricSettings(top_n=3)))
    assert [t["customer_id"] for t in r["top_accounts"]] == ["d", "a", "b"]


def test_filters(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        smb = risk(Context(conn, Q2, scope=Scope(segment="SMB")))
        csm1 = risk(Context(conn, Q2, scope=Scope(csm_id="csm1")))
        ent = risk(Context(conn, Q2, scope=Scope(segment="Enterprise")))
    # SMB: c 5000 + d 8000 at risk; csm1 (c, d, e) and csm5 (j) are the CSMs
    assert (smb["arr_at_risk"], smb["critical_arr"]) == (13000.0, 0.0)
    assert smb["by_segment"]["Enterprise"] == {
        "arr_at_risk": 0.0,
        "accounts_at_risk": 0,
        "share": None,
    }
    assert smb["by_segment"]["SMB"]["share"] == 13000 / 23000
    assert sorted(smb["by_csm"]) == ["csm1", "csm5"]
    # save plays of SMB customers: c saved, d lost, e saved; none open at end
    assert smb["save_plays"] == {"active": 0, "saved": 2, "lost": 1, "success_rate": 2 / 3}
    # csm1's book (c, d, e): the plays were run by csm2 but follow the current owner
    assert csm1["arr_at_risk"] == 13000.0
    assert list(csm1["by_csm"]) == ["csm1"]
    assert csm1["save_plays"] == smb["save_plays"]
    # Enterprise plays: a and b open; nothing closed in P -> success_rate null
    assert ent["save_plays"] == {"active": 2, "saved": 0, "lost": 0, "success_rate": None}
    assert [t["customer_id"] for t in ent["top_accounts"]] == ["a", "b"]


def test_empty_scope_gives_zeros_and_nulls(engine: Engine) -> None:
    book(engine)
    with engine.connect() as conn:
        r = risk(
            Context(
                conn,
                Q2,
                scope=Scope(csm_id="csm4"),
                comparison=Period(date(2024, 1, 1), date(2024, 3, 31)),
            )
        )
    # csm4's only customer h churned on 2024-05-01; at 2024-03-31 h was critical (4000)
    assert (r["arr_at_risk"], r["critical_arr"], r["top_accounts"], r["by_csm"]) == (
        0.0,
        0.0,
        [],
        {},
    )
    assert r["trend"] == "improving"  # 4000 -> 0
    assert all(
        s == {"arr_at_risk": 0.0, "accounts_at_risk": 0, "share": None}
        for s in r["by_segment"].values()
    )
    # h's play closed 2024-03-31, before P
    assert r["save_plays"] == {"active": 0, "saved": 0, "lost": 0, "success_rate": None}


@pytest.mark.parametrize(
    ("later", "expected"),
    [
        ([], "stable"),  # 10000 -> 10000
        ([("expansion", "100")], "stable"),  # +100 = exactly 1% of 10000
        ([("expansion", "100.01")], "worsening"),  # more than 1%
        ([("contraction", "-100")], "stable"),  # -1% exactly
        ([("contraction", "-100.01")], "improving"),
    ],
)
def test_trend_threshold_is_one_percent_of_the_earlier_value(
    engine: Engine, later: list[tuple[str, str]], expected: str
) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "x"}],
        arr_events=[
            new("x", 10000),
            *(
                {
                    "customer_id": "x",
                    "event_date": "2024-05-01",
                    "kind": kind,
                    "arr_delta": delta,
                    "expansion_type": "upsell" if kind == "expansion" else None,
                }
                for kind, delta in later
            ),
        ],
        health_scores=[score("x", 50)],
    )
    with engine.connect() as conn:
        comparison = Period(date(2024, 1, 1), date(2024, 3, 31))
        assert risk(Context(conn, Q2, comparison=comparison))["trend"] == expected


def test_trend_from_zero_to_anything_is_worsening(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "x"}],
        arr_events=[new("x", 10)],
        # healthy at the comparison end 2024-03-31, at risk from 2024-04-15
        health_scores=[score("x", 80), score("x", 69, "2024-04-15")],
    )
    with engine.connect() as conn:
        comparison = Period(date(2024, 1, 1), date(2024, 3, 31))
        assert risk(Context(conn, Q2, comparison=comparison))["trend"] == "worsening"
        # and 0 -> 0 is stable
        assert (
            risk(
                Context(conn, comparison, comparison=Period(date(2023, 10, 1), date(2023, 12, 31)))
            )["trend"]
            == "stable"
        )
