"""Executive alert rules (METRICS.md, US-008): each fires exactly when the definition
says, at its boundaries, once per (rule, subject, day) however often or concurrently
the range is evaluated."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from ecc.alerts.evaluate import EVALUATED_THROUGH, run_range, run_since_last
from ecc.alerts.rules import evaluate
from ecc.alerts.store import AlertFilter, Fired, acknowledge, list_alerts, record
from ecc.errors import ConfigError
from ecc.schema import ecc_meta, executive_alerts, renewals
from tests.support.builders import seed
from tests.support.cli import run as ecc

D = date.fromisoformat


def _fired(engine: Engine, since: str, until: str, rule: str) -> set[tuple[str, str, str]]:
    """(subject_id, fired_on, severity) of the rule's alerts over the range."""
    with engine.connect() as conn:
        return {
            (f.subject_id, f.fired_on.isoformat(), f.severity)
            for f in evaluate(conn, D(since), D(until))
            if f.rule == rule
        }


def _new(customer_id: str, arr: str, on: str = "2025-01-01", **kw: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "event_date": on, "kind": "new", "arr_delta": arr, **kw}


# ------------------------------------------------------------ large_account_critical


def test_large_account_critical_fires_above_100k_on_a_first_critical_score(
    engine: Engine,
) -> None:
    ids = ["big", "exact", "was_crit", "first", "prev40", "to40", "grows_late"]
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": c} for c in ids],
        arr_events=[
            _new("big", "100000.01"),  # above the threshold: fires
            _new("exact", "100000"),  # exactly 100,000 is not above: no alert
            _new("was_crit", "200000"),
            _new("first", "200000"),
            _new("prev40", "150000"),
            _new("to40", "150000"),
            _new("grows_late", "90000"),
            # ARR above 100k only from the day after the critical score: no alert
            {
                "customer_id": "grows_late",
                "event_date": "2026-03-09",
                "kind": "expansion",
                "arr_delta": "20000",
            },
        ],
        health_scores=[
            {"customer_id": "big", "scored_on": "2026-03-01", "score": "50"},
            {"customer_id": "big", "scored_on": "2026-03-08", "score": "39.99"},
            {"customer_id": "exact", "scored_on": "2026-03-01", "score": "50"},
            {"customer_id": "exact", "scored_on": "2026-03-08", "score": "39"},
            # the previous score was already critical: no alert
            {"customer_id": "was_crit", "scored_on": "2026-03-01", "score": "30"},
            {"customer_id": "was_crit", "scored_on": "2026-03-08", "score": "20"},
            # no previous score: no alert
            {"customer_id": "first", "scored_on": "2026-03-08", "score": "10"},
            # previous exactly 40 (at risk, not critical): fires
            {"customer_id": "prev40", "scored_on": "2026-02-01", "score": "40"},
            {"customer_id": "prev40", "scored_on": "2026-03-15", "score": "39.5"},
            # down to exactly 40: at risk, not critical: no alert
            {"customer_id": "to40", "scored_on": "2026-03-01", "score": "80"},
            {"customer_id": "to40", "scored_on": "2026-03-08", "score": "40"},
            {"customer_id": "grows_late", "scored_on": "2026-03-01", "score": "60"},
            {"customer_id": "grows_late", "scored_on": "2026-03-08", "score": "30"},
        ],
    )
    assert _fired(engine, "2026-03-01", "2026-03-31", "large_account_critical") == {
        ("big", "2026-03-08", "critical"),
        ("prev40", "2026-03-15", "critical"),
    }
    # the day is the score's: a range that stops the day before finds nothing for "big"
    assert _fired(engine, "2026-03-01", "2026-03-07", "large_account_critical") == set()


# ------------------------------------------------------------ csm_over_capacity


def _book(
    csm: str, n: int, on: str = "2025-01-01"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    custs = [{"customer_id": f"{csm}_c{i}", "csm_id": csm} for i in range(n)]
    events = [_new(c["customer_id"], "1000", on) for c in custs]
    return custs, events


def test_csm_over_capacity_fires_when_utilization_crosses_above_1_2(engine: Engine) -> None:
    # target 10 accounts (and ARR targets far away): utilization = accounts / 10
    csms = [
        {"csm_id": c, "target_accounts": 10, "target_arr": "10000000", "active": c != "gone"}
        for c in ("cross", "to12", "already", "gone", "back")
    ]
    customers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for csm, n in (("cross", 12), ("to12", 11), ("already", 13), ("gone", 12), ("back", 13)):
        c, e = _book(csm, n)
        customers += c
        events += e
    # cross: 12 accounts (1.2, not over) -> 13 on 03-05 (1.3): fires on 03-05
    customers.append({"customer_id": "cross_new", "csm_id": "cross"})
    events.append(_new("cross_new", "1000", "2026-03-05"))
    # to12: 11 -> 12 on 03-06 = exactly 1.2: no alert
    customers.append({"customer_id": "to12_new", "csm_id": "to12"})
    events.append(_new("to12_new", "1000", "2026-03-06"))
    # already over before the range: no alert; an inactive CSM is not in Workload: none
    customers.append({"customer_id": "gone_new", "csm_id": "gone"})
    events.append(_new("gone_new", "1000", "2026-03-05"))
    # back: 1.3 -> churn to 1.2 on 03-10 -> 1.3 again on 03-20: fires on 03-20 only
    events.append(
        {
            "customer_id": "back_c0",
            "event_date": "2026-03-10",
            "kind": "churn",
            "arr_delta": "-1000",
        }
    )
    customers.append({"customer_id": "back_new", "csm_id": "back"})
    events.append(_new("back_new", "1000", "2026-03-20"))
    seed(engine, csms=csms, customers=customers, arr_events=events)
    assert _fired(engine, "2026-03-01", "2026-03-31", "csm_over_capacity") == {
        ("cross", "2026-03-05", "warning"),
        ("back", "2026-03-20", "warning"),
    }
    # evaluated day by day, the same
    days = set()
    for d in range(1, 32):
        day = f"2026-03-{d:02d}"
        days |= _fired(engine, day, day, "csm_over_capacity")
    assert days == {("cross", "2026-03-05", "warning"), ("back", "2026-03-20", "warning")}


# ------------------------------------------------------------ renewal_at_risk_30d


def test_renewal_at_risk_fires_on_the_first_day_it_is_due_within_30_days(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "c1"}],
        arr_events=[_new("c1", "5000")],
        renewals=[
            # due 2026-03-31 = 03-01 + 30, at risk, open: fires on 03-01
            {"renewal_id": "r_due30", "customer_id": "c1", "due_on": "2026-03-31",
             "arr": "5000", "forecast_status": "at_risk"},
            {"renewal_id": "r_ontrack", "customer_id": "c1", "due_on": "2026-03-31",
             "arr": "5000", "forecast_status": "on_track"},
            # closed on the day itself: not open at d
            {"renewal_id": "r_closed_d", "customer_id": "c1", "due_on": "2026-03-31",
             "arr": "5000", "forecast_status": "at_risk", "outcome": "renewed",
             "closed_on": "2026-03-01"},
            # closed the day after: open at d, fires
            {"renewal_id": "r_closed_later", "customer_id": "c1", "due_on": "2026-03-31",
             "arr": "5000", "forecast_status": "at_risk", "outcome": "renewed",
             "closed_on": "2026-03-02"},
            # 29 days away from 03-01: within the window, fires on the range's first day;
            # 31 days away: not yet
            {"renewal_id": "r_29", "customer_id": "c1", "due_on": "2026-03-30",
             "arr": "5000", "forecast_status": "at_risk"},
            {"renewal_id": "r_31", "customer_id": "c1", "due_on": "2026-04-01",
             "arr": "5000", "forecast_status": "at_risk"},
        ],
    )  # fmt: skip
    assert _fired(engine, "2026-03-01", "2026-03-01", "renewal_at_risk_30d") == {
        ("r_due30", "2026-03-01", "high"),
        ("r_closed_later", "2026-03-01", "high"),
        ("r_29", "2026-03-01", "high"),
    }
    assert _fired(engine, "2026-02-28", "2026-03-02", "renewal_at_risk_30d") == {
        ("r_29", "2026-02-28", "high"),
        ("r_due30", "2026-03-01", "high"),
        ("r_closed_later", "2026-03-01", "high"),
        ("r_31", "2026-03-02", "high"),
    }


def _at_risk(renewal_id: str, due_on: str, **kw: Any) -> dict[str, Any]:
    return {"renewal_id": renewal_id, "customer_id": "c1", "due_on": due_on, "arr": "5000",
            "forecast_status": "at_risk", **kw}  # fmt: skip


def test_a_renewal_flagged_at_risk_in_its_last_month_alerts_once_at_the_next_evaluation(
    engine: Engine,
) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "c1", "name": "Acme"}],
        arr_events=[_new("c1", "5000")],
        renewals=[_at_risk("late", "2026-03-10"), _at_risk("due_first_day", "2026-03-01")],
    )
    # due 03-10: at risk for the whole range, due within 30 days from its first day on
    assert _fired(engine, "2026-03-01", "2026-03-05", "renewal_at_risk_30d") == {
        ("late", "2026-03-01", "high")  # due on 03-01 itself: not after the day, no alert
    }
    first = run_range(engine, D("2026-03-01"), D("2026-03-05"))
    assert first.fired == 1 and len(first.new) == 1
    with engine.connect() as conn:
        (row,) = list_alerts(conn, AlertFilter(rule="renewal_at_risk_30d"))
    assert row["message"] == (
        "Renewal late of Acme (SMB, $5,000 ARR) is forecast at risk and due in 9 days, "
        "on Mar 10, 2026."
    )
    # once per renewal: later days, and the same days again, fire nothing more
    assert _fired(engine, "2026-03-06", "2026-03-09", "renewal_at_risk_30d") == set()
    # an earlier range: only the renewal not alerted yet (due 03-01: within 30 days of 02-01)
    assert _fired(engine, "2026-02-01", "2026-03-09", "renewal_at_risk_30d") == {
        ("due_first_day", "2026-02-01", "high")
    }


@pytest.mark.parametrize(
    ("days_before_due", "fires_on"),
    [
        (31, "2026-03-01"),  # flagged 02-28, due 03-31: 31 days away, fires once in range: 03-01
        (30, "2026-03-01"),  # flagged 03-01: exactly 30 days away (03-01 < 03-31 <= 03-31)
        (29, "2026-03-02"),  # flagged 03-02: its first evaluated day is the flag's day
        (1, "2026-03-30"),  # flagged the day before due: fires that day
    ],
)
def test_daily_evaluations_fire_once_on_the_first_qualifying_day_after_the_flag(
    engine: Engine, days_before_due: int, fires_on: str
) -> None:
    """The refresh evaluates each new day: the renewal (due 03-31) exists as on_track
    before the flag, at_risk from the flag's day on; the alert comes on the first day it
    is at risk and due within 30 days, and on no later day."""
    due = D("2026-03-31")
    flag = due - timedelta(days=days_before_due)
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "c1"}],
        arr_events=[_new("c1", "5000")],
        renewals=[_at_risk("r1", due.isoformat(), forecast_status="on_track")],
    )
    day, recorded = D("2026-02-20"), []
    while day < due + timedelta(days=3):
        if day == flag:
            with engine.begin() as conn:
                conn.execute(update(renewals).values(forecast_status="at_risk"))
        recorded += [(day.isoformat(), n) for n in run_range(engine, day, day).new]
        day += timedelta(days=1)
    assert [d for d, _ in recorded] == [fires_on]
    # re-evaluating every day, and overlapping ranges, records nothing twice
    assert run_range(engine, D("2026-02-01"), D("2026-04-30")).new == []
    assert run_range(engine, flag, due).new == []


def test_a_renewal_closed_on_its_first_qualifying_day_never_alerts(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "c1"}],
        arr_events=[_new("c1", "5000")],
        # first qualifying day 03-01 (= due - 30); closed that day: not open on 03-01
        renewals=[_at_risk("r1", "2026-03-31", outcome="renewed", closed_on="2026-03-01")],
    )
    for day in ("2026-02-28", "2026-03-01", "2026-03-02"):
        assert run_range(engine, D(day), D(day)).new == []
    assert run_range(engine, D("2026-02-01"), D("2026-03-31")).new == []


def test_an_alert_recorded_before_the_rule_changed_is_not_fired_again(engine: Engine) -> None:
    """The old rule fired on due - 30 exactly; a database holding such an alert keeps it,
    and evaluating later days (or the same ones) records nothing more for that renewal."""
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": "c1"}],
        arr_events=[_new("c1", "5000")],
        renewals=[_at_risk("r1", "2026-03-31")],
    )
    old = Fired(
        rule="renewal_at_risk_30d", severity="high", subject_type="renewal",
        subject_id="r1", fired_on=D("2026-03-01"), message="recorded by the earlier rule",
    )  # fmt: skip
    with engine.begin() as conn:
        assert len(record(conn, [old])) == 1
    assert run_range(engine, D("2026-03-02"), D("2026-03-20")).new == []
    assert run_range(engine, D("2026-02-01"), D("2026-03-30")).new == []
    # recording what an evaluation fired before the old alert was there: skipped too
    with engine.begin() as conn:
        assert record(conn, [replace(old, fired_on=D("2026-03-05"))]) == []
        (row,) = list_alerts(conn, AlertFilter(rule="renewal_at_risk_30d"))
    assert row["message"] == "recorded by the earlier rule"


# ------------------------------------------------------------ unexpected_churn


def test_unexpected_churn_is_critical_without_a_warning_sign(engine: Engine) -> None:
    names = ["healthy", "unscored", "at_risk_d1", "scored_on_d", "renewal_open", "renewal_closed"]
    churn = [
        {"customer_id": c, "event_date": "2026-03-10", "kind": "churn", "arr_delta": "-5000"}
        for c in names
    ]
    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": c} for c in names],
        arr_events=[_new(c, "5000") for c in names] + churn,
        health_scores=[
            {"customer_id": "healthy", "scored_on": "2026-02-01", "score": "80"},
            # the score on d - 1 is the health at d - 1: a warning sign
            {"customer_id": "at_risk_d1", "scored_on": "2026-03-09", "score": "69.99"},
            # a bad score on d itself comes too late to be a warning
            {"customer_id": "scored_on_d", "scored_on": "2026-02-01", "score": "90"},
            {"customer_id": "scored_on_d", "scored_on": "2026-03-10", "score": "20"},
            {"customer_id": "renewal_open", "scored_on": "2026-02-01", "score": "75"},
            {"customer_id": "renewal_closed", "scored_on": "2026-02-01", "score": "75"},
        ],
        renewals=[
            # at risk and open at d - 1 (closed on d): a warning sign
            {"renewal_id": "rw1", "customer_id": "renewal_open", "due_on": "2026-06-30",
             "arr": "5000", "forecast_status": "at_risk", "outcome": "churned",
             "closed_on": "2026-03-10"},
            # closed on d - 1: not open at d - 1, no warning
            {"renewal_id": "rw2", "customer_id": "renewal_closed", "due_on": "2026-06-30",
             "arr": "5000", "forecast_status": "at_risk", "outcome": "churned",
             "closed_on": "2026-03-09"},
        ],
    )  # fmt: skip
    assert _fired(engine, "2026-03-01", "2026-03-31", "unexpected_churn") == {
        ("healthy", "2026-03-10", "critical"),
        ("unscored", "2026-03-10", "critical"),
        ("at_risk_d1", "2026-03-10", "high"),
        ("scored_on_d", "2026-03-10", "critical"),
        ("renewal_open", "2026-03-10", "high"),
        ("renewal_closed", "2026-03-10", "critical"),
    }
    assert _fired(engine, "2026-03-11", "2026-03-31", "unexpected_churn") == set()


# ------------------------------------------------------------ major_expansion_closed


def test_major_expansion_fires_from_exactly_50k(engine: Engine) -> None:
    def exp(c: str, amount: str, on: str = "2026-03-05") -> dict[str, Any]:
        return {"customer_id": c, "event_date": on, "kind": "expansion", "arr_delta": amount,
                "expansion_type": "upsell"}  # fmt: skip

    seed(
        engine,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": c} for c in ("exact", "below", "two")],
        arr_events=[
            _new("exact", "10000"),
            _new("below", "10000"),
            _new("two", "10000"),
            exp("exact", "50000"),
            exp("below", "49999.99"),
            exp("two", "60000"),
            exp("two", "70000"),  # two on one day: one alert for the customer and day
        ],
    )
    assert _fired(engine, "2026-03-01", "2026-03-31", "major_expansion_closed") == {
        ("exact", "2026-03-05", "info"),
        ("two", "2026-03-05", "info"),
    }
    with engine.connect() as conn:
        (two,) = [
            f for f in evaluate(conn, D("2026-03-05"), D("2026-03-05")) if f.subject_id == "two"
        ]
    assert "$130,000" in two.message and "2 deals" in two.message


# ------------------------------------------------------------ recording once


@pytest.fixture
def mixed(engine: Engine) -> Engine:
    seed(
        engine,
        csms=[{"csm_id": "csm1", "segment": "Enterprise"}],
        customers=[
            {"customer_id": "e1", "segment": "Enterprise"},
            {"customer_id": "s1", "segment": "SMB"},
        ],
        arr_events=[
            _new("e1", "200000"),
            _new("s1", "8000"),
            {"customer_id": "e1", "event_date": "2026-03-05", "kind": "expansion",
             "arr_delta": "80000", "expansion_type": "upsell"},
            {"customer_id": "s1", "event_date": "2026-03-12", "kind": "churn",
             "arr_delta": "-8000"},
        ],
        health_scores=[
            {"customer_id": "e1", "scored_on": "2026-03-01", "score": "72"},
            {"customer_id": "e1", "scored_on": "2026-03-08", "score": "35"},
        ],
        renewals=[
            {"renewal_id": "re1", "customer_id": "e1", "due_on": "2026-04-09",
             "arr": "280000", "forecast_status": "at_risk"},
        ],
    )  # fmt: skip
    return engine


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(executive_alerts)).scalar_one())


def test_rerunning_a_range_records_nothing_twice(mixed: Engine) -> None:
    first = run_range(mixed, D("2026-03-01"), D("2026-03-31"))
    assert first.fired == len(first.new) == 4
    again = run_range(mixed, D("2026-03-01"), D("2026-03-31"))
    # the at-risk renewal fires once per renewal: the rule produces it no more
    assert again.fired == 3 and again.new == []
    overlapping = run_range(mixed, D("2026-03-08"), D("2026-03-12"))
    assert overlapping.new == [] and _count(mixed) == 4


def test_concurrent_evaluations_record_each_alert_once(mixed: Engine) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            run_range(mixed, D("2026-03-01"), D("2026-03-31"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker did not finish within 120 s"
    assert errors == []
    assert _count(mixed) == 4
    with mixed.connect() as conn:
        keys = [(r["rule"], r["subject_id"], r["fired_on"]) for r in list_alerts(conn)]
    assert len(keys) == len(set(keys)) == 4


def test_listing_filters_and_acknowledging(mixed: Engine) -> None:
    run_range(mixed, D("2026-03-01"), D("2026-03-31"))
    with mixed.connect() as conn:
        rows = list_alerts(conn)
        # newest day first; within a day by severity
        assert [r["fired_on"] for r in rows] == sorted((r["fired_on"] for r in rows), reverse=True)
        assert {r["rule"] for r in rows} == {
            "large_account_critical",
            "renewal_at_risk_30d",
            "unexpected_churn",
            "major_expansion_closed",
        }
        smb = list_alerts(conn, AlertFilter(segment="SMB"))
        # the renewal's segment is its customer's
        ent = list_alerts(conn, AlertFilter(segment="Enterprise"))
        crit = list_alerts(conn, AlertFilter(severity="critical"))
    assert [r["subject_id"] for r in smb] == ["s1"]
    assert {r["subject_id"] for r in ent} == {"e1", "re1"}
    assert next(r for r in ent if r["subject_id"] == "re1")["customer_id"] == "e1"
    assert {r["rule"] for r in crit} == {"large_account_critical", "unexpected_churn"}
    ids = [r["alert_id"] for r in crit]
    assert acknowledge(mixed, ids, "vp.alice") == 2
    assert acknowledge(mixed, ids, "admin.bob") == 0  # the first acknowledgement stays
    with mixed.connect() as conn:
        acked = list_alerts(conn, AlertFilter(acknowledged=True))
        open_ = list_alerts(conn, AlertFilter(acknowledged=False))
    assert {r["acknowledged_by"] for r in acked} == {"vp.alice"}
    assert all(r["acknowledged_at"] for r in acked) and len(open_) == 2
    with pytest.raises(ConfigError, match="no alert with id 999"):
        acknowledge(mixed, [999], "vp.alice")
    with pytest.raises(ConfigError, match="unknown severity"), mixed.connect() as conn:
        list_alerts(conn, AlertFilter(severity="urgent"))


def test_cli_run_list_json_and_ack(mixed: Engine, db_url: str) -> None:
    out = ecc("alerts", "run", "--since", "2026-03-01", "--until", "2026-03-31", "--db", db_url)
    assert out.returncode == 0, out.stderr
    assert "4 fired, 4 new" in out.stdout
    out = ecc("alerts", "list", "--format", "json", "--db", db_url)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 4
    contract = {
        "rule",
        "severity",
        "subject_type",
        "subject_id",
        "fired_on",
        "message",
        "acknowledged_by",
        "acknowledged_at",
    }
    assert all(contract <= set(r) for r in rows)
    churn = next(r for r in rows if r["rule"] == "unexpected_churn")
    assert churn == churn | {
        "severity": "critical",
        "subject_type": "customer",
        "subject_id": "s1",
        "fired_on": "2026-03-12",
        "acknowledged_by": None,
    }
    out = ecc("alerts", "ack", str(churn["alert_id"]), "--by", "vp.alice", "--db", db_url)
    assert out.returncode == 0 and "1 acknowledged" in out.stdout
    out = ecc("alerts", "ack", "999", "--by", "vp.alice", "--db", db_url)
    assert out.returncode == 2 and "no alert with id 999" in out.stderr
    out = ecc("alerts", "run", "--since", "2026-03-31", "--until", "2026-03-01", "--db", db_url)
    assert out.returncode == 2 and "swap them" in out.stderr


def test_a_refresh_evaluates_the_days_since_the_last_evaluation(mixed: Engine) -> None:
    # the first evaluation looks back 30 days from today
    result = run_since_last(mixed, D("2026-03-31"))
    assert result is not None and (result.since, result.until) == (D("2026-03-02"), D("2026-03-31"))
    assert len(result.new) == 4
    with mixed.connect() as conn:
        through = conn.execute(
            select(ecc_meta.c.value).where(ecc_meta.c.key == EVALUATED_THROUGH)
        ).scalar()
    assert through == "2026-03-31"
    assert run_since_last(mixed, D("2026-03-31")) is None  # nothing new to evaluate
    nxt = run_since_last(mixed, D("2026-04-02"))
    assert nxt is not None and (nxt.since, nxt.until) == (D("2026-04-01"), D("2026-04-02"))
