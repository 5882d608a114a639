"""ecc.load: the DATA.md CSVs into the database, every problem reported, all or nothing.

Every rule has a case below that loads a good dataset, then the same dataset with one
bad row, and checks the exact ``file:line:column: message`` and that the good data is
still there. Line numbers are physical lines (header = 1); a row appended to a file of
GOOD lands on the line after its last one (noted in each case).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

import ecc.load as ecc_load
from ecc import schema
from ecc.errors import ConfigError, LoadError, SchemaError
from ecc.load import load_directory
from ecc.validate import SPECS, DayKeys

# ARR ledger of GOOD, by hand:
#   c1: new 1200.00 (2024-01-15) + expansion 300.50 = 1500.50; contraction -100.50 = 1400.00;
#       churn -1400.00 (2025-01-01) = 0; reactivation 900.00 (2025-04-01) = 900.00
#   c2: new 50000 = 50000.00;  c3: no events (ARR 0)
#   total ARR at the end: 900.00 + 50000.00 = 50900.00
GOOD: dict[str, str] = {
    "csms.csv": """\
csm_id,name,email,segment,target_accounts,target_arr,active
m1,Ann Lee,ann@example.com,SMB,40,1000000.00,true
m2,Bo Chen,bo@example.com,Enterprise,10,5000000,false
""",
    "customers.csv": """\
customer_id,name,segment,csm_id,signup_date,onboarded_on,industry,region
c1,Acme,SMB,m1,2024-01-15,2024-02-01,Software,EU
c2,Globex,Enterprise,m2,2024-03-01,,,
c3,Initech,SMB,m1,2024-06-01,,Retail,US
""",
    "arr_events.csv": """\
event_id,customer_id,event_date,kind,arr_delta,expansion_type
e1,c1,2024-01-15,new,1200.00,
e2,c1,2024-06-01,expansion,300.50,upsell
e3,c2,2024-03-01,new,50000,
e4,c1,2024-09-01,contraction,-100.50,
e5,c1,2025-01-01,churn,-1400.00,
e6,c1,2025-04-01,reactivation,900.00,
""",
    "health_scores.csv": """\
customer_id,scored_on,score
c1,2024-02-01,72.5
c1,2024-03-01,64.25
c2,2024-03-08,90
""",
    "renewals.csv": """\
renewal_id,customer_id,due_on,arr,forecast_status,outcome,closed_on,renewed_arr
r1,c1,2025-01-15,1400.00,at_risk,churned,2025-01-01,
r2,c2,2025-03-01,50000.00,on_track,,,
r3,c1,2026-01-15,900,on_track,renewed,2026-01-10,950
""",
    "expansion_opportunities.csv": """\
opportunity_id,customer_id,type,stage,amount,created_on,expected_close_on,outcome,closed_on
o1,c2,upsell,proposal,10000,2025-01-10,2025-06-30,,
o2,c1,cross_sell,negotiation,500.00,2024-04-01,2024-05-31,won,2024-05-20
""",
    "save_plays.csv": """\
play_id,customer_id,csm_id,opened_on,outcome,closed_on
p1,c1,m1,2024-10-01,lost,2025-01-01
p2,c2,m2,2025-02-01,,
""",
    "activities.csv": """\
activity_id,csm_id,customer_id,kind,occurred_on,completed,response_hours
a1,m1,c1,email,2025-01-02,true,3.5
a2,m1,,task,2025-01-03,false,
a3,m2,c2,meeting,2025-01-04,true,
""",
    "support_tickets.csv": """\
ticket_id,customer_id,opened_at,first_response_at,resolved_at,priority
t1,c1,2025-01-02T09:30:00,2025-01-02T10:00:00Z,2025-01-03T08:00:00+02:00,high
t2,c2,2025-01-05T23:30:00-05:00,,,urgent
""",
    "targets.csv": """\
metric,period_start,period_end,segment,value
grr,2025-01-01,2025-03-31,,0.92
nrr,2025-01-01,2025-03-31,SMB,1.05
expansion_arr,2025-01-01,2025-12-31,Enterprise,250000
""",
}

GOOD_COUNTS = {
    "csms": 2,
    "customers": 3,
    "arr_events": 6,
    "health_scores": 3,
    "renewals": 3,
    "expansion_opportunities": 2,
    "save_plays": 2,
    "activities": 3,
    "support_tickets": 2,
    "targets": 3,
}


def write_dir(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8", newline="")
    return path


_runs = {"n": 0}


def load(engine: Engine, tmp_path: Path, files: dict[str, str], **kw: int) -> dict[str, int]:
    """Write ``files`` into a new folder and load it."""
    _runs["n"] += 1
    return load_directory(engine, write_dir(tmp_path / f"run{_runs['n']}", files), **kw)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in schema.SOURCE_TABLES
        }


def assert_good_intact(engine: Engine) -> None:
    """The database still holds exactly GOOD."""
    assert table_counts(engine) == GOOD_COUNTS
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(schema.arr_events.c.arr_delta))).scalar_one()
        names = conn.execute(select(schema.customers.c.name).order_by("customer_id")).scalars()
        assert total == Decimal("50900.00")
        assert list(names) == ["Acme", "Globex", "Initech"]


def with_rows(file: str, *rows: str) -> dict[str, str]:
    """GOOD with ``rows`` appended to ``file``."""
    return {**GOOD, file: GOOD[file] + "".join(row + "\n" for row in rows)}


def load_bad(
    engine: Engine, tmp_path: Path, files: dict[str, str], max_problems: int = 50
) -> LoadError:
    """Load GOOD, then ``files``: the LoadError, after checking GOOD is intact."""
    load(engine, tmp_path, GOOD)
    with pytest.raises(LoadError) as info:
        load(engine, tmp_path, files, max_problems=max_problems)
    assert_good_intact(engine)
    return info.value


def messages(error: LoadError) -> list[str]:
    return [str(p) for p in error.problems]


# ---------------------------------------------------------------- a good load


def test_valid_directory_loads_and_values_read_back(engine: Engine, tmp_path: Path) -> None:
    counts = load(engine, tmp_path, GOOD, progress=True)
    assert counts == GOOD_COUNTS
    assert_good_intact(engine)
    s = schema
    with engine.connect() as conn:
        m2 = conn.execute(select(s.csms).where(s.csms.c.csm_id == "m2")).one()
        assert (m2.target_accounts, m2.target_arr, m2.active) == (10, Decimal("5000000.00"), False)
        c2 = conn.execute(select(s.customers).where(s.customers.c.customer_id == "c2")).one()
        assert (c2.signup_date, c2.onboarded_on, c2.industry) == (date(2024, 3, 1), None, None)
        scores = conn.execute(select(s.health_scores.c.score).order_by("scored_on")).scalars()
        assert list(scores) == [Decimal("72.50"), Decimal("64.25"), Decimal("90.00")]
        r3 = conn.execute(select(s.renewals).where(s.renewals.c.renewal_id == "r3")).one()
        assert (r3.outcome, r3.closed_on, r3.renewed_arr) == (
            "renewed",
            date(2026, 1, 10),
            Decimal("950.00"),
        )
        a2 = conn.execute(select(s.activities).where(s.activities.c.activity_id == "a2")).one()
        assert (a2.customer_id, a2.completed, a2.response_hours) == (None, False, None)
        hours = conn.execute(
            select(s.activities.c.response_hours).where(s.activities.c.activity_id == "a1")
        ).scalar_one()
        assert hours == 3.5
        targets = conn.execute(
            select(s.targets.c.metric, s.targets.c.segment, s.targets.c.value).order_by("metric")
        ).all()
        assert [tuple(t) for t in targets] == [
            ("expansion_arr", "Enterprise", 250000.0),
            ("grr", None, 0.92),
            ("nrr", "SMB", 1.05),
        ]


def test_values_are_stored_as_core_binds_them(engine: Engine, tmp_path: Path) -> None:
    """The bulk path stores what a Core insert would: equality filters find every row."""
    load(engine, tmp_path, GOOD)
    s = schema
    probes = [
        (s.support_tickets.c.opened_at == datetime(2025, 1, 2, 9, 30), 1),  # t1
        (s.support_tickets.c.resolved_at == datetime(2025, 1, 3, 6, 0), 1),  # t1, from +02:00
        (s.health_scores.c.scored_on == date(2024, 3, 1), 1),
        (s.health_scores.c.score == Decimal("72.50"), 1),
        (s.arr_events.c.arr_delta == Decimal("300.50"), 1),  # e2
        (s.csms.c.active.is_(False), 1),  # m2
        (s.csms.c.target_arr == Decimal("5000000"), 1),
        (s.activities.c.response_hours == 3.5, 1),
        (s.targets.c.value == 0.92, 1),
        (s.arr_events.c.event_date <= date(2024, 9, 1), 4),  # e1..e4
    ]
    with engine.connect() as conn:
        for clause, expected in probes:
            assert conn.execute(select(func.count()).where(clause)).scalar_one() == expected, clause


def test_timestamps_with_offsets_are_stored_as_naive_utc(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, GOOD)
    t = schema.support_tickets
    with engine.connect() as conn:
        rows = {r.ticket_id: r for r in conn.execute(select(t))}
    # no offset: taken as UTC as written
    assert rows["t1"].opened_at == datetime(2025, 1, 2, 9, 30)
    # Z is UTC
    assert rows["t1"].first_response_at == datetime(2025, 1, 2, 10, 0)
    # 08:00 at +02:00 is 06:00 UTC
    assert rows["t1"].resolved_at == datetime(2025, 1, 3, 6, 0)
    # 23:30 at -05:00 is 04:30 UTC the next day
    assert rows["t2"].opened_at == datetime(2025, 1, 6, 4, 30)
    assert rows["t2"].first_response_at is None


def test_reactivation_after_churn_is_accepted(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, GOOD)
    e = schema.arr_events

    def arr_c1(d: date) -> Decimal:
        with engine.connect() as conn:
            q = select(func.coalesce(func.sum(e.c.arr_delta), 0)).where(
                e.c.customer_id == "c1", e.c.event_date <= d
            )
            return Decimal(conn.execute(q).scalar_one())

    assert arr_c1(date(2025, 1, 1)) == 0  # churned to exactly 0.00
    assert arr_c1(date(2025, 4, 1)) == Decimal("900.00")  # reactivated


def customer_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(schema.customers.c.customer_id).order_by("customer_id")).scalars()
        )


SMALLER = {
    "csms.csv": "csm_id,name,email,segment,target_accounts,target_arr,active\n"
    "m9,Zoe,zoe@example.com,SMB,5,1000,true\n",
    "customers.csv": "customer_id,name,segment,csm_id,signup_date\nc9,Umbrella,SMB,m9,2025-01-01\n",
    "arr_events.csv": "event_id,customer_id,event_date,kind,arr_delta\ne1,c9,2025-01-01,new,10\n",
}


def test_reload_replaces_previous_data(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, GOOD)
    counts = load(engine, tmp_path, SMALLER)
    assert counts == {**dict.fromkeys(GOOD_COUNTS, 0), "csms": 1, "customers": 1, "arr_events": 1}
    assert table_counts(engine) == counts
    assert customer_ids(engine) == ["c9"]
    with engine.connect() as conn:
        # event id e1 is reused: the old e1 (c1, 1200.00) is gone
        assert conn.execute(select(schema.arr_events.c.arr_delta)).scalar_one() == Decimal("10.00")


def test_readers_see_the_old_data_until_the_load_commits(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(engine, tmp_path, GOOD)
    seen: list[list[str]] = []
    run = ecc_load._FileLoader.run

    def run_and_look(self: ecc_load._FileLoader, show: bool) -> int:
        if self.spec.table == "targets":  # the last file: every other table is replaced
            seen.append(customer_ids(engine))  # another connection, mid-transaction
        return run(self, show)

    monkeypatch.setattr(ecc_load._FileLoader, "run", run_and_look)
    write_dir(tmp_path / "smaller", {**SMALLER, "targets.csv": GOOD["targets.csv"]})
    load_directory(engine, tmp_path / "smaller")
    assert seen == [["c1", "c2", "c3"]]
    assert customer_ids(engine) == ["c9"]


def test_an_empty_database_gets_the_schema(engine: Engine, tmp_path: Path) -> None:
    schema.metadata.drop_all(engine)
    assert load(engine, tmp_path, GOOD) == GOOD_COUNTS


def test_an_incompatible_database_is_a_schema_error(engine: Engine, tmp_path: Path) -> None:
    schema.ecc_meta.drop(engine)  # tables without a schema version: made by another version
    with pytest.raises(SchemaError, match="ecc init --reset"):
        load(engine, tmp_path, GOOD)


def test_unsorted_ledger_rows_are_checked_in_date_order(engine: Engine, tmp_path: Path) -> None:
    # GOOD's events reversed: in file order the churn would come before the new event
    header, *rows = GOOD["arr_events.csv"].splitlines()
    shuffled = {**GOOD, "arr_events.csv": "\n".join([header, *reversed(rows)]) + "\n"}
    assert load(engine, tmp_path, shuffled)["arr_events"] == 6
    assert_good_intact(engine)
    # in file order this reads new 100 then expansion 50; in date order the expansion
    # (2024-01-01, line 9) comes first, while c3 has no ARR
    bad = with_rows(
        "arr_events.csv",
        "e7,c3,2024-03-01,new,100,",  # line 8
        "e8,c3,2024-01-01,expansion,50,upsell",  # line 9
    )
    error = load_bad(engine, tmp_path, bad)
    assert messages(error) == [
        "arr_events.csv:9:kind: expansion while ARR is 0 (the customer has no ARR before "
        "this event); use kind new for a first contract or reactivation after a churn, or "
        "date this event later"
    ]


def test_events_on_the_same_date_apply_in_file_order(engine: Engine, tmp_path: Path) -> None:
    # c2 (50000.00) churns and comes back on the same day: churn first in the file is valid
    ok = with_rows(
        "arr_events.csv",
        "e7,c2,2025-06-01,churn,-50000,",
        "e8,c2,2025-06-01,reactivation,20000,",
    )
    assert load(engine, tmp_path, ok)["arr_events"] == 8
    # the same two rows in the other order: the reactivation (line 8) meets ARR 50000.00
    swapped = with_rows(
        "arr_events.csv",
        "e8,c2,2025-06-01,reactivation,20000,",
        "e7,c2,2025-06-01,churn,-50000,",
    )
    with pytest.raises(LoadError) as info:
        load(engine, tmp_path, swapped)
    assert messages(info.value) == [
        "arr_events.csv:8:kind: reactivation only when ARR is 0 (ARR before this event is "
        "50000.00); use kind expansion to add ARR to an active customer"
    ]


# ---------------------------------------------------------------- one case per rule

CASES = [
    # ---- types
    pytest.param(
        with_rows("customers.csv", "c4,Hooli,SMB,m1,01/02/2024,,,"),
        "customers.csv:5:signup_date: '01/02/2024' is not a date; write dates as YYYY-MM-DD "
        "(e.g. 2026-03-01)",
        id="date-format",
    ),
    pytest.param(
        with_rows("customers.csv", "c4,Hooli,SMB,m1,2024-02-30,,,"),
        "customers.csv:5:signup_date: '2024-02-30' is not a calendar date (day is out of "
        "range for month); write dates as YYYY-MM-DD (e.g. 2026-03-01)",
        id="date-calendar",
    ),
    pytest.param(
        with_rows("support_tickets.csv", "t3,c1,2025-01-02 9:30,,,low"),
        "support_tickets.csv:4:opened_at: '2025-01-02 9:30' is not a timestamp; write an "
        "ISO 8601 timestamp such as 2026-03-01T14:05:00 (taken as UTC) or "
        "2026-03-01T16:05:00+02:00",
        id="timestamp-format",
    ),
    pytest.param(
        with_rows("support_tickets.csv", "t3,c1,2025-01-02,,,low"),
        "support_tickets.csv:4:opened_at: '2025-01-02' is a date without a time; add the "
        "time, e.g. 2025-01-02T00:00:00 (UTC)",
        id="timestamp-date-only",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-02-01,expansion,10.555,upsell"),
        "arr_events.csv:8:arr_delta: '10.555' has more than 2 decimal places; round it to 2 "
        "(10.56)",
        id="money-places",
    ),
    pytest.param(
        with_rows("arr_events.csv", 'e7,c2,2025-02-01,expansion,"1,200",upsell'),
        "arr_events.csv:8:arr_delta: '1,200' is not a decimal number; write digits with a "
        "point for decimals, e.g. 1200.50 (no currency symbol, no thousands separator)",
        id="money-not-a-number",
    ),
    pytest.param(
        with_rows("renewals.csv", "r4,c2,2026-03-01,1000000000000,on_track,,,"),
        "renewals.csv:5:arr: '1000000000000' is too large; money must be below 1,000,000,000,000",
        id="money-too-large",
    ),
    pytest.param(
        with_rows("csms.csv", "m3,Cy,cy@example.com,SMB,4.5,100,true"),
        "csms.csv:4:target_accounts: '4.5' is not a whole number; write digits only, e.g. 40",
        id="int",
    ),
    pytest.param(
        with_rows("csms.csv", "m3,Cy,cy@example.com,SMB,4,100,TRUE"),
        "csms.csv:4:active: 'TRUE' is not a boolean; write true or false (lower case)",
        id="bool",
    ),
    pytest.param(
        with_rows("activities.csv", "a4,m1,c1,email,2025-01-05,true,fast"),
        "activities.csv:5:response_hours: 'fast' is not a number; write e.g. 2.5 (a point "
        "for decimals)",
        id="number",
    ),
    pytest.param(
        with_rows("customers.csv", "c4," + "x" * 70 + ",SMB,m1,2024-01-01,,,"),
        None,  # a long name is fine (text); see id-too-long for ids
        id="long-text-is-fine",
    ),
    pytest.param(
        with_rows("customers.csv", "x" * 65 + ",Hooli,SMB,m1,2024-01-01,,,"),
        "customers.csv:5:customer_id: this id is 65 characters long; ids have at most 64 "
        "characters",
        id="id-too-long",
    ),
    # ---- NULLs
    pytest.param(
        with_rows("customers.csv", "c4,,SMB,m1,2024-01-01,,,"),
        "customers.csv:5:name: name is empty but required; write the customer's name",
        id="required-empty",
    ),
    pytest.param(
        with_rows("save_plays.csv", "p3,c1,,2025-01-01,,"),
        "save_plays.csv:4:csm_id: csm_id is empty but required; write the csm_id of a row "
        "of csms.csv",
        id="required-empty-foreign-key",
    ),
    # ---- enumerations
    pytest.param(
        with_rows("customers.csv", "c4,Hooli,smb,m1,2024-01-01,,,"),
        "customers.csv:5:segment: 'smb' is not a valid segment; use one of Enterprise, "
        "Mid-market, SMB, spelled exactly (did you mean 'SMB'?)",
        id="enum-case",
    ),
    pytest.param(
        with_rows("support_tickets.csv", "t3,c1,2025-01-02T09:00:00,,,critical"),
        "support_tickets.csv:4:priority: 'critical' is not a valid priority; use one of low, "
        "normal, high, urgent, spelled exactly",
        id="enum",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,expansion,10,cross-sell"),
        "arr_events.csv:8:expansion_type: 'cross-sell' is not a valid expansion_type; use one "
        "of upsell, cross_sell, upgrade, spelled exactly (did you mean 'cross_sell'?)",
        id="expansion-type-invalid",
    ),
    pytest.param(
        with_rows("targets.csv", "grr,2025-04-01,2025-06-30,All,0.9"),
        "targets.csv:5:segment: 'All' is not a valid segment; use one of Enterprise, "
        "Mid-market, SMB, spelled exactly, or leave it empty for the whole portfolio",
        id="target-segment",
    ),
    # ---- ranges
    pytest.param(
        with_rows("csms.csv", "m3,Cy,cy@example.com,SMB,0,100,true"),
        "csms.csv:4:target_accounts: target_accounts must be greater than 0 (it is 0); give "
        "the ideal number of accounts in the book",
        id="target-accounts-positive",
    ),
    pytest.param(
        with_rows("csms.csv", "m3,Cy,cy@example.com,SMB,4,-5,true"),
        "csms.csv:4:target_arr: target_arr must be greater than 0 (it is -5); give the ideal "
        "ARR of the book",
        id="target-arr-positive",
    ),
    pytest.param(
        with_rows("health_scores.csv", "c2,2024-04-01,100.5"),
        "health_scores.csv:5:score: score 100.5 is outside 0..100; health scores run from 0 to 100",
        id="score-range",
    ),
    pytest.param(
        with_rows("health_scores.csv", "c2,2024-04-01,72.555"),
        "health_scores.csv:5:score: '72.555' has more than 2 decimal places, and the "
        "database stores scores with 2; round it to 72.56",
        id="score-places",
    ),
    pytest.param(
        with_rows("renewals.csv", "r4,c2,2026-03-01,0,on_track,,,"),
        "renewals.csv:5:arr: arr must be greater than 0 (it is 0); give the ARR up for renewal",
        id="renewal-arr-positive",
    ),
    pytest.param(
        with_rows(
            "expansion_opportunities.csv", "o3,c2,upgrade,identified,-1,2025-01-01,2025-02-01,,"
        ),
        "expansion_opportunities.csv:4:amount: amount must be greater than 0 (it is -1); give "
        "the ARR the opportunity adds",
        id="amount-positive",
    ),
    pytest.param(
        with_rows("activities.csv", "a4,m1,c1,email,2025-01-05,true,-2"),
        "activities.csv:5:response_hours: response_hours must not be negative (it is -2); "
        "give the hours from the customer's message to this reply",
        id="response-hours-not-negative",
    ),
    pytest.param(
        with_rows("targets.csv", "grr,2025-04-01,2025-06-30,,0.1234567"),
        "targets.csv:5:value: '0.1234567' has more than 6 decimal places, and the database "
        "stores targets with 6; round it to 0.123457",
        id="target-value-places",
    ),
    # ---- keys
    pytest.param(
        with_rows("arr_events.csv", "e1,c2,2025-02-01,expansion,10,upsell"),
        "arr_events.csv:8:event_id: event_id 'e1' is already used on line 2; give every row "
        "its own event_id",
        id="primary-key",
    ),
    pytest.param(
        with_rows("health_scores.csv", "c1,2024-03-01,50"),
        "health_scores.csv:5:scored_on: customer 'c1' already has a score on 2024-03-01 (on "
        "line 3); keep one score per customer and day",
        id="health-score-key",
    ),
    pytest.param(
        with_rows("targets.csv", "grr,2025-01-01,2025-03-31,,0.95"),
        "targets.csv:5:metric: a grr target for 2025-01-01..2025-03-31 and the whole "
        "portfolio is already given on line 2; keep one target per metric, period and segment",
        id="target-key",
    ),
    pytest.param(
        with_rows("customers.csv", "c4,Hooli,SMB,m9,2024-01-01,,,"),
        "customers.csv:5:csm_id: 'm9' is not a csm_id in csms.csv; use the id of an existing "
        "row or add 'm9' to csms.csv",
        id="foreign-key",
    ),
    pytest.param(
        with_rows("activities.csv", "a4,m1,c9,call,2025-01-05,true,"),
        "activities.csv:5:customer_id: 'c9' is not a customer_id in customers.csv; use the id "
        "of an existing row or add 'c9' to customers.csv",
        id="foreign-key-nullable",
    ),
    # ---- rules across columns
    pytest.param(
        with_rows("targets.csv", "grr,2025-04-01,2025-03-31,,0.9"),
        "targets.csv:5:period_end: period_end 2025-03-31 is before period_start 2025-04-01; "
        "a target's period ends on or after its start: correct one of them",
        id="period-end-before-start",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,expansion,-10,upsell"),
        "arr_events.csv:8:arr_delta: an expansion event adds ARR, so arr_delta must be "
        "greater than 0 (it is -10); ARR that goes down is a contraction or a churn",
        id="sign-positive-kinds",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,churn,50000,"),
        "arr_events.csv:8:arr_delta: a churn event removes ARR, so arr_delta must be less "
        "than 0 (it is 50000); write the ARR removed as a negative number, e.g. -50000",
        id="sign-negative-kinds",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,expansion,10,"),
        "arr_events.csv:8:expansion_type: expansion_type is empty but kind is expansion; use "
        "one of upsell, cross_sell, upgrade",
        id="expansion-type-required",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,contraction,-10,upsell"),
        "arr_events.csv:8:expansion_type: expansion_type must be empty when kind is "
        "contraction (it is 'upsell'); only expansion events have a type",
        id="expansion-type-forbidden",
    ),
    pytest.param(
        with_rows("renewals.csv", "r4,c2,2026-03-01,100,on_track,churned,,"),
        "renewals.csv:5:closed_on: closed_on is empty but outcome is churned; give the date "
        "the renewal closed, or leave outcome empty while the renewal is open",
        id="closed-on-required",
    ),
    pytest.param(
        with_rows("renewals.csv", "r4,c2,2026-03-01,100,on_track,,2026-03-01,"),
        "renewals.csv:5:outcome: outcome is empty but closed_on is 2026-03-01; give the "
        "outcome (renewed or churned), or leave closed_on empty while the renewal is open",
        id="outcome-required",
    ),
    pytest.param(
        with_rows(
            "expansion_opportunities.csv",
            "o3,c2,upgrade,identified,10,2025-01-01,2025-02-01,won,",
        ),
        "expansion_opportunities.csv:4:closed_on: closed_on is empty but outcome is won; give "
        "the date the opportunity closed, or leave outcome empty while the opportunity is open",
        id="opportunity-closed-on-required",
    ),
    pytest.param(
        with_rows("save_plays.csv", "p3,c1,m1,2025-01-01,,2025-02-01"),
        "save_plays.csv:4:outcome: outcome is empty but closed_on is 2025-02-01; give the "
        "outcome (saved or lost), or leave closed_on empty while the save play is open",
        id="save-play-outcome-required",
    ),
    pytest.param(
        with_rows("renewals.csv", "r4,c2,2026-03-01,100,on_track,renewed,2026-03-01,"),
        "renewals.csv:5:renewed_arr: renewed_arr is empty but outcome is renewed; give the "
        "ARR signed at renewal",
        id="renewed-arr-required",
    ),
    pytest.param(
        with_rows("activities.csv", "a4,m1,c1,call,2025-01-05,false,"),
        "activities.csv:5:completed: completed is false but kind is call; only tasks can be "
        "not completed: write true (or use kind task)",
        id="completed-only-tasks-may-be-false",
    ),
    # ---- the ARR ledger (c2 has ARR 50000.00 from 2024-03-01; c3 never had ARR)
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,churn,-40000,"),
        "arr_events.csv:8:arr_delta: churn must bring ARR to exactly 0 (ARR before this event "
        "is 50000.00, so arr_delta must be -50000.00)",
        id="ledger-churn-to-zero",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,contraction,-60000.25,"),
        "arr_events.csv:8:arr_delta: contraction would take ARR below 0 (ARR before this "
        "event is 50000.00, arr_delta -60000.25); a contraction removes less than the current "
        "ARR: use kind churn with arr_delta -50000.00 when the customer leaves",
        id="ledger-never-below-zero",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,new,100,"),
        "arr_events.csv:8:kind: new only when ARR is 0 (ARR before this event is 50000.00); "
        "use kind expansion to add ARR to an active customer",
        id="ledger-new-only-at-zero",
    ),
    pytest.param(
        # c1 churned on 2025-01-01 and is reactivated on 2025-04-01 in GOOD
        with_rows("arr_events.csv", "e7,c1,2025-02-01,new,100,"),
        "arr_events.csv:8:kind: new only for a customer that never had ARR (it churned on "
        "2025-01-01); use kind reactivation for a customer coming back",
        id="ledger-new-only-without-history",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,reactivation,100,"),
        "arr_events.csv:8:kind: reactivation only when ARR is 0 (ARR before this event is "
        "50000.00); use kind expansion to add ARR to an active customer",
        id="ledger-reactivation-only-at-zero",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c3,2025-06-01,reactivation,100,"),
        "arr_events.csv:8:kind: reactivation only after an earlier churn (this customer has "
        "no churn before 2025-06-01); use kind new for a first contract",
        id="ledger-reactivation-only-after-churn",
    ),
    # ---- extra checks implied by DATA.md (see ecc.validate)
    pytest.param(
        with_rows("arr_events.csv", "e7,c2,2025-06-01,contraction,-50000,"),
        "arr_events.csv:8:kind: contraction brings ARR to exactly 0 (ARR before this event is "
        "50000.00); a drop to 0 is a churn: use kind churn",
        id="extra-ledger-contraction-to-zero-is-churn",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c3,2025-06-01,expansion,100,upsell"),
        "arr_events.csv:8:kind: expansion while ARR is 0 (the customer has no ARR before this "
        "event); use kind new for a first contract or reactivation after a churn, or date "
        "this event later",
        id="extra-ledger-expansion-needs-arr",
    ),
    pytest.param(
        with_rows("arr_events.csv", "e7,c3,2025-06-01,churn,-100,"),
        "arr_events.csv:8:kind: churn while ARR is already 0 (nothing to churn); remove this "
        "event or date it after the event that gave the customer ARR",
        id="extra-ledger-churn-needs-arr",
    ),
    pytest.param(
        with_rows("renewals.csv", "r4,c2,2026-03-01,100,on_track,renewed,2026-03-01,0"),
        "renewals.csv:5:renewed_arr: renewed_arr must be greater than 0 (it is 0); give the "
        "ARR signed at renewal (a renewal that keeps no ARR has outcome churned)",
        id="extra-renewed-arr-positive",
    ),
    pytest.param(
        with_rows(
            "expansion_opportunities.csv",
            "o3,c2,upgrade,identified,10,2025-01-10,2025-02-01,lost,2025-01-09",
        ),
        "expansion_opportunities.csv:4:closed_on: closed_on 2025-01-09 is before created_on "
        "2025-01-10; an opportunity cannot close before it is created: correct one of them",
        id="extra-opportunity-closed-after-created",
    ),
    pytest.param(
        with_rows("save_plays.csv", "p3,c1,m1,2025-01-10,saved,2025-01-09"),
        "save_plays.csv:4:closed_on: closed_on 2025-01-09 is before opened_on 2025-01-10; a "
        "save play cannot close before it is opened: correct one of them",
        id="extra-save-play-closed-after-opened",
    ),
    pytest.param(
        # 10:00 at +02:00 is 08:00 UTC; the response at 07:59 UTC comes before it
        with_rows(
            "support_tickets.csv", "t3,c1,2025-01-02T10:00:00+02:00,2025-01-02T07:59:00,,low"
        ),
        "support_tickets.csv:4:first_response_at: first_response_at 2025-01-02T07:59:00 is "
        "before opened_at 2025-01-02T08:00:00 (UTC); correct one of them",
        id="extra-ticket-response-after-opened",
    ),
    pytest.param(
        with_rows("customers.csv", "c4,Hooli,SMB,m1,2024-05-01,2024-04-30,,"),
        "customers.csv:5:onboarded_on: onboarded_on 2024-04-30 is before signup_date "
        "2024-05-01; go-live cannot precede the contract start: correct one of the dates",
        id="extra-onboarded-after-signup",
    ),
    pytest.param(
        with_rows("activities.csv", "a4,m1,c1,meeting,2025-01-05,true,2"),
        "activities.csv:5:response_hours: response_hours is set on a meeting; it measures "
        "email replies only: leave it empty (or use kind email)",
        id="extra-response-hours-only-on-emails",
    ),
    pytest.param(
        with_rows("csms.csv", "m3,Cy,cy.example.com,SMB,4,100,true"),
        "csms.csv:4:email: 'cy.example.com' is not an email address; write an address like "
        "name@example.com",
        id="extra-email",
    ),
    # ---- the shape of a row
    pytest.param(
        with_rows("customers.csv", "c4,Hooli,SMB"),
        "customers.csv:5:csm_id: this row has 3 values but the header has 8 columns (the row "
        "ends before csm_id); add the missing values, an empty value is nothing between two "
        "commas",
        id="row-too-short",
    ),
    pytest.param(
        with_rows("customers.csv", "c4,Hooli, Inc.,SMB,m1,2024-01-01,,,"),
        "customers.csv:5:-: this row has 9 values but the header has 8 columns; put quotes "
        'around values that contain a comma, e.g. "Acme, Inc."',
        id="row-too-long",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_rule(engine: Engine, tmp_path: Path, files: dict[str, str], expected: str | None) -> None:
    if expected is None:
        load(engine, tmp_path, files)
        return
    error = load_bad(engine, tmp_path, files)
    assert messages(error) == [expected]
    assert error.total == 1
    assert str(error).endswith("1 problem(s) found; the database was not changed")


# ---------------------------------------------------------------- reporting


def test_problems_are_capped_and_the_rest_counted(engine: Engine, tmp_path: Path) -> None:
    bad = with_rows("health_scores.csv", *(f"c2,2024-04-0{d},101" for d in range(1, 6)))
    error = load_bad(engine, tmp_path, bad, max_problems=3)
    # five bad scores on lines 5..9; the first three are listed
    assert [(p.line, p.column) for p in error.problems] == [
        (5, "score"),
        (6, "score"),
        (7, "score"),
    ]
    assert error.total == 5
    assert str(error).splitlines()[-2:] == [
        "... and 2 more problem(s) not shown",
        "5 problem(s) found; the database was not changed",
    ]


def test_problems_are_listed_by_file_then_line(engine: Engine, tmp_path: Path) -> None:
    files = {
        **with_rows("customers.csv", "c4,Hooli,smb,m1,2024-01-01,,,"),  # customers line 5
        "arr_events.csv": GOOD["arr_events.csv"]
        + "e7,c2,2025-06-01,churn,-1,\n"  # line 8: ledger, found at the end of the file
        + "e8,c2,2025-07-01,expansion,1,\n",  # line 9: row problem, found while reading
    }
    error = load_bad(engine, tmp_path, files)
    assert [(p.file, p.line, p.column) for p in error.problems] == [
        ("customers.csv", 5, "segment"),
        ("arr_events.csv", 8, "arr_delta"),
        ("arr_events.csv", 9, "expansion_type"),
    ]


def test_only_the_first_ledger_problem_of_a_customer(engine: Engine, tmp_path: Path) -> None:
    bad = with_rows(
        "arr_events.csv",
        "e7,c2,2025-06-01,churn,-40000,",  # line 8: leaves 10000.00
        "e8,c2,2025-07-01,reactivation,5,",  # line 9: would also fail, not reported
        "e9,c3,2025-06-01,churn,-1,",  # line 10: another customer, reported
    )
    error = load_bad(engine, tmp_path, bad)
    assert [(p.line, p.column) for p in error.problems] == [(8, "arr_delta"), (10, "kind")]


def test_a_row_problem_skips_that_customers_ledger(engine: Engine, tmp_path: Path) -> None:
    # the churn's date is wrong: replaying c2 without it would be a guess, so only the
    # date is reported (not "reactivation only when ARR is 0" for line 9)
    bad = with_rows(
        "arr_events.csv",
        "e7,c2,2025-06-31,churn,-50000,",
        "e8,c2,2025-07-01,reactivation,5,",
    )
    error = load_bad(engine, tmp_path, bad)
    assert [(p.line, p.column) for p in error.problems] == [(8, "event_date")]


def test_a_parent_with_problems_still_counts_for_foreign_keys(
    engine: Engine, tmp_path: Path
) -> None:
    # c4's segment is wrong, but its id is fine: its event and score are not reported
    files = {
        **with_rows("customers.csv", "c4,Hooli,smb,m1,2024-01-01,,,"),
        "arr_events.csv": GOOD["arr_events.csv"] + "e7,c4,2024-01-01,new,10,\n",
        "health_scores.csv": GOOD["health_scores.csv"] + "c4,2024-01-01,50\n",
    }
    error = load_bad(engine, tmp_path, files)
    assert [(p.file, p.line, p.column) for p in error.problems] == [("customers.csv", 5, "segment")]


# ---------------------------------------------------------------- headers and files


def test_unknown_columns_are_ignored(engine: Engine, tmp_path: Path) -> None:
    csms = GOOD["csms.csv"].splitlines()
    extra = [csms[0] + ",Notes,phone"] + [
        line + ',"free text, with comma",555' for line in csms[1:]
    ]
    counts = load(engine, tmp_path, {**GOOD, "csms.csv": "\n".join(extra) + "\n"})
    assert counts == GOOD_COUNTS
    assert_good_intact(engine)


def test_nullable_columns_may_be_left_out(engine: Engine, tmp_path: Path) -> None:
    files = {
        **GOOD,
        "customers.csv": "customer_id,name,segment,csm_id,signup_date\n"
        "c1,Acme,SMB,m1,2024-01-15\nc2,Globex,Enterprise,m2,2024-03-01\n"
        "c3,Initech,SMB,m1,2024-06-01\n",
    }
    assert load(engine, tmp_path, files) == GOOD_COUNTS
    with engine.connect() as conn:
        c = schema.customers
        assert conn.execute(select(func.count()).where(c.c.region.is_(None))).scalar_one() == 3


def test_missing_required_column_is_one_problem(engine: Engine, tmp_path: Path) -> None:
    lines = [line.split(",") for line in GOOD["customers.csv"].splitlines()]
    without = "\n".join(",".join(cells[:4] + cells[5:]) for cells in lines) + "\n"
    error = load_bad(engine, tmp_path, {**GOOD, "customers.csv": without})
    assert messages(error) == [
        "customers.csv:1:signup_date: required column signup_date is missing; add it to the "
        "header line (and a value to every row)"
    ]


def test_header_names_are_exact(engine: Engine, tmp_path: Path) -> None:
    text = GOOD["customers.csv"].replace("customer_id,", "Customer_ID,", 1)
    error = load_bad(engine, tmp_path, {**GOOD, "customers.csv": text})
    # one problem: foreign keys into customers are not checked while its ids are unknown
    assert messages(error) == [
        "customers.csv:1:customer_id: required column customer_id is missing (found "
        "'Customer_ID': header names are exact, lower case as in DATA.md; rename it to "
        "customer_id)"
    ]


def test_a_column_named_twice(engine: Engine, tmp_path: Path) -> None:
    header, *rows = GOOD["csms.csv"].splitlines()
    text = "\n".join([header + ",name", *(row + ",Again" for row in rows)]) + "\n"
    error = load_bad(engine, tmp_path, {**GOOD, "csms.csv": text})
    assert messages(error) == [
        "csms.csv:1:name: column name appears twice in the header (columns 2 and 8); keep one"
    ]


def test_line_numbers_are_physical_lines(engine: Engine, tmp_path: Path) -> None:
    # a quoted name on lines 5-6 and a blank line 7: the bad row is on line 8
    files = with_rows(
        "customers.csv", 'c4,"Two\nLines",SMB,m1,2024-01-01,,,', "", "c5,X,SMB,m1,bad,,,"
    )
    error = load_bad(engine, tmp_path, files)
    assert [(p.line, p.column) for p in error.problems] == [(8, "signup_date")]


def test_byte_order_mark_is_accepted(engine: Engine, tmp_path: Path) -> None:
    assert load(engine, tmp_path, {**GOOD, "csms.csv": "\ufeff" + GOOD["csms.csv"]}) == GOOD_COUNTS


def test_empty_file(engine: Engine, tmp_path: Path) -> None:
    error = load_bad(engine, tmp_path, {**GOOD, "targets.csv": ""})
    assert messages(error) == [
        "targets.csv:1:-: the file is empty; write at least the header line "
        "metric,period_start,period_end,segment,value"
    ]


def test_a_file_that_is_not_utf8(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, GOOD)
    folder = write_dir(tmp_path / "latin1", GOOD)
    text = GOOD["customers.csv"].replace("Initech", "Caf\u00e9")
    (folder / "customers.csv").write_bytes(text.encode("latin-1"))
    with pytest.raises(LoadError) as info:
        load_directory(engine, folder)
    assert messages(info.value) == [
        "customers.csv:4:-: this line is not UTF-8 text (byte 0xe9 at character 7); save the "
        "file as UTF-8"
    ]
    assert_good_intact(engine)


def test_missing_required_files_are_a_config_error(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, GOOD)
    files = {k: v for k, v in GOOD.items() if k not in ("csms.csv", "arr_events.csv")}
    with pytest.raises(ConfigError) as info:
        load(engine, tmp_path, files)
    message = str(info.value)
    assert "missing required file(s) in " in message
    assert ": csms.csv, arr_events.csv." in message
    assert "`ecc load` needs csms.csv, customers.csv, arr_events.csv" in message
    assert "health_scores.csv, renewals.csv" in message  # the optional ones are named too
    assert_good_intact(engine)


def test_optional_files_may_be_missing(engine: Engine, tmp_path: Path) -> None:
    required = {k: GOOD[k] for k in ("csms.csv", "customers.csv", "arr_events.csv")}
    counts = load(engine, tmp_path, required)
    assert counts == {**dict.fromkeys(GOOD_COUNTS, 0), "csms": 2, "customers": 3, "arr_events": 6}


def test_a_misnamed_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    files = {**GOOD, "Renewals.csv": GOOD["renewals.csv"]}
    del files["renewals.csv"]
    with pytest.raises(ConfigError, match=r"found Renewals.csv \(rename it to renewals.csv"):
        load(engine, tmp_path, files)


def test_a_missing_folder_is_a_config_error(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_directory(engine, tmp_path / "nowhere")


# ---------------------------------------------------------------- building blocks


def test_specs_cover_exactly_the_schema_columns() -> None:
    assert [s.table for s in SPECS] == [t.name for t in schema.SOURCE_TABLES]
    for spec, table in zip(SPECS, schema.SOURCE_TABLES, strict=True):
        assert [f.name for f in spec.fields] == [c.name for c in table.columns]
        # NOT NULL in the schema is required in the CSV, and the other way round
        assert [f.required for f in spec.fields] == [not c.nullable for c in table.columns]


def test_day_keys_find_duplicates_in_any_order() -> None:
    keys = DayKeys()
    start = date(2024, 1, 1)
    days = [start + timedelta(days=7 * i) for i in range(200)]  # ~4 years of weekly scores
    random.Random(3).shuffle(days)
    assert not any(keys.seen(("c1", d)) for d in days)  # grows left and right
    assert all(keys.seen(("c1", d)) for d in days)  # every one is now a repeat
    assert not keys.seen(("c2", days[0]))  # other customer, own days
    assert not keys.seen(("c1", start + timedelta(days=1)))  # a day between two scores
    # a span beyond 60 years switches that customer to a set; answers stay the same
    assert not keys.seen(("c1", date(1900, 1, 1)))
    assert keys.seen(("c1", date(1900, 1, 1)))
    assert keys.seen(("c1", days[5]))


def test_each_load_records_a_new_data_version(engine: Engine, tmp_path: Path) -> None:
    """Pages prepared before a load can tell that they are stale."""
    from ecc.demo import generate
    from ecc.load import data_version

    folder = tmp_path / "csv"
    generate(folder, customers=20, seed=1, today=date(2026, 11, 24))
    load_directory(engine, folder)
    with engine.connect() as conn:
        first = data_version(conn)
    load_directory(engine, folder)
    with engine.connect() as conn:
        second = data_version(conn)
    assert first and second and first != second
