"""ARR retention (METRICS.md, US-002) on hand-made ledgers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ecc.config import MetricSettings
from ecc.metrics.context import Context
from ecc.metrics.plan import DIRECT
from ecc.metrics.retention import cohorts, retention
from ecc.metrics.scope import Scope
from ecc.metrics.sums import retention_sums
from ecc.periods import Period
from tests.support.builders import seed
from tests.support.empty_db import EmptyDatabases

Q1 = Period(date(2024, 1, 1), date(2024, 3, 31))


def ev(cid: str, day: str, kind: str, delta: float) -> dict[str, Any]:
    row: dict[str, Any] = {"customer_id": cid, "event_date": day, "kind": kind, "arr_delta": delta}
    if kind == "expansion":
        row["expansion_type"] = "upsell"
    return row


def ledger(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}, {"csm_id": "csm2"}],
        customers=[
            {"customer_id": "a", "segment": "Enterprise"},
            {"customer_id": "b"},
            {"customer_id": "c", "segment": "Mid-market", "csm_id": "csm2"},
            {"customer_id": "d"},
            {"customer_id": "e", "segment": "Enterprise"},
            {"customer_id": "f"},
        ],
        arr_events=[
            ev("a", "2023-06-01", "new", 1000),
            ev("a", "2024-02-10", "expansion", 200),
            ev("b", "2023-06-01", "new", 500),
            ev("b", "2024-01-01", "churn", -500),  # churn on the first day of P
            ev("c", "2023-06-01", "new", 800),
            ev("c", "2024-03-31", "contraction", -300),  # on the last day of P
            ev("d", "2023-01-15", "new", 400),
            ev("d", "2023-09-30", "churn", -400),
            ev("d", "2024-02-15", "reactivation", 300),  # back after churn
            ev("e", "2024-03-01", "new", 600),
            ev("f", "2023-03-15", "new", 100),
            ev("f", "2024-03-31", "churn", -100),  # churn on the last day of P
        ],
        renewals=[
            # window (2024-03-31, 2024-06-29]
            {"customer_id": "a", "due_on": "2024-04-15", "arr": 1200, "forecast_status": "at_risk"},
            {"customer_id": "c", "due_on": "2024-06-29", "arr": 500},  # end + 90: in
            {"customer_id": "c", "due_on": "2024-06-30", "arr": 999},  # end + 91: out
            {"customer_id": "a", "due_on": "2024-03-31", "arr": 777},  # due at end: out
            {  # closed after end: open at end, in
                "customer_id": "e",
                "due_on": "2024-05-01",
                "arr": 600,
                "forecast_status": "at_risk",
                "outcome": "renewed",
                "closed_on": "2024-04-10",
                "renewed_arr": 600,
            },
            {  # closed on end: not open, out
                "customer_id": "e",
                "due_on": "2024-05-01",
                "arr": 50,
                "outcome": "churned",
                "closed_on": "2024-03-31",
            },
        ],
        expansion_opportunities=[
            {
                "customer_id": "a",
                "stage": "negotiation",
                "amount": 1000,
                "created_on": "2024-03-01",
                "expected_close_on": "2024-04-30",
            },
            {  # created after end: out
                "customer_id": "c",
                "amount": 100,
                "created_on": "2024-04-01",
                "expected_close_on": "2024-05-01",
            },
            {
                "customer_id": "e",
                "stage": "proposal",
                "amount": 300,
                "expected_close_on": "2024-06-29",
            },
            {  # expected at end, not after: out
                "customer_id": "e",
                "stage": "qualified",
                "amount": 400,
                "expected_close_on": "2024-03-31",
            },
            {  # won after end: open at end, in
                "customer_id": "a",
                "stage": "qualified",
                "amount": 200,
                "expected_close_on": "2024-05-01",
                "outcome": "won",
                "closed_on": "2024-04-05",
            },
            {  # lost before end: out
                "customer_id": "a",
                "stage": "qualified",
                "amount": 80,
                "expected_close_on": "2024-05-01",
                "outcome": "lost",
                "closed_on": "2024-03-15",
            },
        ],
    )


def test_retention_over_a_quarter(engine: Engine) -> None:
    ledger(engine)
    with engine.connect() as conn:
        r = retention(Context(conn, Q1))
    # cohort at d0 = 2023-12-31: a 1000, b 500, c 800, f 100 -> B = 2400
    # (d churned in 2023, e starts in P)
    # at end: a 1200, b 0, c 500, f 0 -> kept = 1000 + 0 + 500 + 0 = 1500, ending = 1700
    assert r["grr"] == 1500 / 2400  # 0.625
    assert r["nrr"] == float(Decimal(1700) / Decimal(2400))
    # movements in P: new e 600; expansion a 200; reactivation d 300;
    # contraction c 300; churn b 500 + f 100
    assert r["new_arr"] == 600.0
    assert r["expansion_arr"] == 200.0
    assert r["reactivation_arr"] == 300.0
    assert r["contraction_arr"] == 300.0
    assert r["churned_arr"] == 600.0
    # TTM: d0 = 2023-03-31: d 400, f 100 -> B 500; at end d 300, f 0 -> kept 300, ending 300
    assert (r["grr_ttm"], r["nrr_ttm"]) == (0.6, 0.6)
    # trend: 2024-01-31 (d0 2023-01-31: d 400 -> 0 at 01-31);
    # 2024-02-29 (d0 2023-02-28, leap day: d 400 -> 300); 2024-03-31 as TTM
    assert r["trend"] == [
        {"date": "2024-01-31", "grr_ttm": 0.0, "nrr_ttm": 0.0},
        {"date": "2024-02-29", "grr_ttm": 0.75, "nrr_ttm": 0.75},
        {"date": "2024-03-31", "grr_ttm": 0.6, "nrr_ttm": 0.6},
    ]
    # churn forecast: 1200 x 0.40 + 500 x 0.05 + 600 x 0.40 = 480 + 25 + 240
    # expansion forecast: 1000 x 0.75 + 300 x 0.50 + 200 x 0.25 = 750 + 150 + 50
    assert r["forecast"] == {"churn_arr": 745.0, "expansion_arr": 950.0}


def test_partial_period_trend_ends_at_end_once(engine: Engine) -> None:
    ledger(engine)
    with engine.connect() as conn:
        r = retention(Context(conn, Period(date(2024, 2, 10), date(2024, 2, 20))))
    # no month end inside P: the trend is the single point at end
    # d0 = 2024-02-09: a 1000, c 800, f 100 -> B 1900; at 02-20: a 1200, c 800, f 100
    assert r["grr"] == 1.0
    assert r["nrr"] == float(Decimal(2100) / Decimal(1900))
    assert r["expansion_arr"] == 200.0 and r["reactivation_arr"] == 300.0
    assert r["churned_arr"] == 0.0 and r["new_arr"] == 0.0
    # TTM at 2024-02-20: d0 2023-02-20: d 400 -> 300 at 02-20
    assert r["trend"] == [{"date": "2024-02-20", "grr_ttm": 0.75, "nrr_ttm": 0.75}]


def test_segment_and_csm_filters(engine: Engine) -> None:
    ledger(engine)
    with engine.connect() as conn:
        ent = retention(Context(conn, Q1, scope=Scope(segment="Enterprise")))
        csm2 = retention(Context(conn, Q1, scope=Scope(csm_id="csm2")))
    # Enterprise: cohort a 1000 -> 1200: grr 1.0, nrr 1.2; e is new in P
    assert (ent["grr"], ent["nrr"], ent["new_arr"], ent["churned_arr"]) == (1.0, 1.2, 600.0, 0.0)
    # renewals of a and e: 480 + 240; opportunities all on a and e
    assert ent["forecast"] == {"churn_arr": 720.0, "expansion_arr": 950.0}
    # csm2 owns c: 800 -> 500
    assert (csm2["grr"], csm2["nrr"], csm2["contraction_arr"]) == (0.625, 0.625, 300.0)
    assert csm2["forecast"] == {"churn_arr": 25.0, "expansion_arr": 0.0}
    # TTM: c started 2023-06-01, so no cohort at 2023-03-31 -> null
    assert (csm2["grr_ttm"], csm2["nrr_ttm"]) == (None, None)


def test_empty_period_gives_null_rates_and_zero_sums(engine: Engine) -> None:
    with engine.connect() as conn:
        r = retention(Context(conn, Q1))
    assert (r["grr"], r["nrr"], r["grr_ttm"], r["nrr_ttm"]) == (None, None, None, None)
    assert (r["new_arr"], r["churned_arr"], r["contraction_arr"]) == (0.0, 0.0, 0.0)
    assert r["forecast"] == {"churn_arr": 0.0, "expansion_arr": 0.0}
    assert r["cohorts"] == []
    assert [p["date"] for p in r["trend"]] == ["2024-01-31", "2024-02-29", "2024-03-31"]


# ---------------------------------------------------------------- cohorts


def cohort_book(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "csm1"}, {"csm_id": "csm2"}],
        customers=[
            {"customer_id": "p", "signup_date": "2023-08-10"},  # 2023-Q3
            {"customer_id": "q", "signup_date": "2023-09-30"},  # 2023-Q3, ARR starts in Q4
            {"customer_id": "r", "signup_date": "2023-07-01"},  # 2023-Q3
            {"customer_id": "s", "signup_date": "2023-11-15"},  # 2023-Q4, no ARR ever
            {"customer_id": "t", "signup_date": "2023-12-01"},  # 2023-Q4, ARR starts in Q1
            {"customer_id": "u", "signup_date": "2024-04-02"},  # 2024-Q2
            {"customer_id": "v", "signup_date": "2024-02-01", "csm_id": "csm2"},  # 2024-Q1
        ],
        arr_events=[
            ev("p", "2023-08-10", "new", 1000),
            ev("p", "2023-11-01", "contraction", -200),
            ev("p", "2024-02-01", "churn", -800),
            ev("q", "2023-10-05", "new", 500),
            ev("r", "2023-07-01", "new", 300),
            ev("r", "2023-12-01", "expansion", 300),
            ev("t", "2024-01-10", "new", 700),
            ev("u", "2024-04-02", "new", 50),
            ev("v", "2024-02-01", "new", 200),
        ],
    )


# 2023-Q3 base (active at 2023-09-30): p 1000, r 300 -> 1300 ARR, 2 logos (q starts later)
# k1 at 2023-12-31: p 800 + r 600 = 1400 (q is outside the base); 2 logos
# k2 at 2024-03-31: p 0 + r 600 = 600; 1 logo
Q3_ROW = {
    "quarter": "2023-Q3",
    "arr_retention": [1.0, float(Decimal(1400) / Decimal(1300)), float(Decimal(600) / 1300)],
    "logo_retention": [1.0, 1.0, 0.5],
}
# 2023-Q4: nobody active at 2023-12-31 (s never, t from 2024-01-10): empty base, null ratios
Q4_ROW = {"quarter": "2023-Q4", "arr_retention": [None, None], "logo_retention": [None, None]}
Q1_ROW = {"quarter": "2024-Q1", "arr_retention": [1.0], "logo_retention": [1.0]}


def test_cohorts_mid_quarter_use_full_quarters_only(engine: Engine) -> None:
    cohort_book(engine)
    with engine.connect() as conn:
        # end 2024-05-15: 2024-Q2 has not ended, so u's cohort is left out and k stops at Q1
        r = retention(Context(conn, Period(date(2024, 4, 1), date(2024, 5, 15))))
        assert r["cohorts"] == [Q3_ROW, Q4_ROW, Q1_ROW]
        # end on a quarter end counts that quarter
        assert cohorts(DIRECT, conn, date(2024, 3, 31), Scope()) == [Q3_ROW, Q4_ROW, Q1_ROW]
        # one day earlier 2024-Q1 has not ended
        assert cohorts(DIRECT, conn, date(2024, 3, 30), Scope()) == [
            {**Q3_ROW, "arr_retention": Q3_ROW["arr_retention"][:2], "logo_retention": [1.0, 1.0]},
            {**Q4_ROW, "arr_retention": [None], "logo_retention": [None]},
        ]


def test_cohorts_keep_the_latest_n_quarters_with_signups_in_scope(engine: Engine) -> None:
    cohort_book(engine)
    with engine.connect() as conn:
        two = retention(
            Context(
                conn,
                Period(date(2024, 4, 1), date(2024, 5, 15)),
                settings=MetricSettings(cohort_quarters=2),
            )
        )
        assert two["cohorts"] == [Q4_ROW, Q1_ROW]
        # csm2 owns only v: one cohort
        assert cohorts(DIRECT, conn, date(2024, 6, 30), Scope(csm_id="csm2")) == [
            {"quarter": "2024-Q1", "arr_retention": [1.0, 1.0], "logo_retention": [1.0, 1.0]}
        ]
        # csm1 at 2024-06-30: Q3, Q4, and 2024-Q2 (u, base 50); 2024-Q1 holds no csm1 signup
        rows = cohorts(DIRECT, conn, date(2024, 6, 30), Scope(csm_id="csm1"))
        assert [row["quarter"] for row in rows] == ["2023-Q3", "2023-Q4", "2024-Q2"]
        # Q3 gets k3 at 2024-06-30: r 600 / 1300, 1 logo of 2
        assert rows[0]["arr_retention"][3] == float(Decimal(600) / 1300)
        assert rows[0]["logo_retention"] == [1.0, 1.0, 0.5, 0.5]
        assert rows[2] == {"quarter": "2024-Q2", "arr_retention": [1.0], "logo_retention": [1.0]}


# ---------------------------------------------------------------- properties

START = date(2023, 1, 1)

# one customer's history: (days after the previous event, action, amount)
steps = st.lists(
    st.tuples(
        st.integers(0, 120),
        st.sampled_from(["expansion", "contraction", "churn", "reactivation"]),
        st.integers(1, 100_000),
    ),
    max_size=5,
)


def build_events(cid: str, first_day: int, first_cents: int, plan: list[Any]) -> list[Any]:
    """A valid ledger for one customer (DATA.md rules), skipping actions that do not apply."""
    day, arr = START + timedelta(days=first_day), first_cents
    rows = [(cid, day, "new", first_cents)]
    for gap, kind, cents in plan:
        day += timedelta(days=gap)
        if kind == "expansion" and arr > 0:
            delta = cents
        elif kind == "contraction" and arr > 1:
            delta = -min(cents, arr - 1)
        elif kind == "churn" and arr > 0:
            delta = -arr
        elif kind == "reactivation" and arr == 0:
            delta = cents
        else:
            continue
        arr += delta
        rows.append((cid, day, kind, delta))
    return rows


def arr_on(rows: list[Any], cid: str, d: date) -> int:
    return sum(delta for c, day, _, delta in rows if c == cid and day <= d)


def load(eng: Engine, rows: list[Any], signups: dict[str, date]) -> None:
    """Put these customers and ledger rows into an empty database."""
    seed(
        eng,
        csms=[{"csm_id": "csm1"}],
        customers=[{"customer_id": c, "signup_date": d} for c, d in signups.items()],
        arr_events=[
            {
                "event_id": f"e{n}",
                "customer_id": c,
                "event_date": day,
                "kind": kind,
                "arr_delta": Decimal(delta) / 100,
                "expansion_type": "upsell" if kind == "expansion" else None,
            }
            for n, (c, day, kind, delta) in enumerate(rows)
        ],
    )


histories = st.lists(
    st.tuples(st.integers(0, 400), st.integers(1, 100_000), steps, st.integers(0, 200)),
    min_size=1,
    max_size=4,
)


def ledger_of(customers: list[Any]) -> tuple[list[Any], dict[str, date]]:
    """Ledger rows and signup dates (the first event or up to 200 days before it)."""
    rows: list[Any] = []
    signups: dict[str, date] = {}
    for i, (first_day, first_cents, plan, lead) in enumerate(customers):
        rows += build_events(f"k{i}", first_day, first_cents, plan)
        signups[f"k{i}"] = START + timedelta(days=first_day - lead)
    return rows, signups


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers=histories, d0_day=st.integers(60, 500), length=st.integers(1, 400))
def test_grr_never_exceeds_one_or_nrr_and_matches_a_python_recount(
    empty_dbs: EmptyDatabases, customers: list[Any], d0_day: int, length: int
) -> None:
    rows, signups = ledger_of(customers)
    d0 = START + timedelta(days=d0_day)
    end = d0 + timedelta(days=length)
    with empty_dbs.fresh() as eng:
        load(eng, rows, signups)
        with eng.connect() as conn:
            sums = retention_sums(DIRECT, conn, d0, end, Scope()).get("")
    # the same sums recounted in Python, in cents
    base = kept = ending = 0
    for cid in signups:
        a0, a1 = arr_on(rows, cid, d0), arr_on(rows, cid, end)
        if a0 > 0:
            base, kept, ending = base + a0, kept + min(a0, a1), ending + a1
    event("empty cohort" if base == 0 else "cohort with ARR")
    if base == 0:
        assert sums is None
        return
    assert sums is not None
    assert (sums.base, sums.kept, sums.ending) == tuple(
        Decimal(x) / 100 for x in (base, kept, ending)
    )
    assert sums.grr is not None and sums.nrr is not None
    assert 0 <= sums.grr <= 1
    assert sums.grr <= sums.nrr


def qindex(d: date) -> int:
    return d.year * 4 + (d.month - 1) // 3


def qend(i: int) -> date:
    year, q = divmod(i + 1, 4)
    return date(year, 3 * q + 1, 1) - timedelta(days=1)  # the day before the next quarter


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers=histories, end_day=st.integers(0, 900), keep=st.integers(1, 4))
def test_cohorts_match_a_per_customer_recount(
    empty_dbs: EmptyDatabases, customers: list[Any], end_day: int, keep: int
) -> None:
    rows, signups = ledger_of(customers)
    end = START + timedelta(days=end_day)
    with empty_dbs.fresh() as eng:
        load(eng, rows, signups)
        with eng.connect() as conn:
            got = cohorts(DIRECT, conn, end, Scope(), quarters=keep)
    # the definition, customer by customer: quarters that end by `end`, latest `keep`
    last = qindex(end) if qend(qindex(end)) == end else qindex(end) - 1
    picked = sorted({qindex(s) for s in signups.values() if qindex(s) <= last})[-keep:]
    expected = []
    for c in picked:
        base = [k for k, s in signups.items() if qindex(s) == c and arr_on(rows, k, qend(c)) > 0]
        b_arr = sum(arr_on(rows, k, qend(c)) for k in base)
        arr_ret: list[float | None] = []
        logo_ret: list[float | None] = []
        for q in range(c, last + 1):
            now = [arr_on(rows, k, qend(q)) for k in base]
            arr_ret.append(float(Decimal(sum(now)) / Decimal(b_arr)) if base else None)
            logo_ret.append(sum(1 for a in now if a > 0) / len(base) if base else None)
        expected.append(
            {
                "quarter": f"{c // 4}-Q{c % 4 + 1}",
                "arr_retention": arr_ret,
                "logo_retention": logo_ret,
            }
        )
        event("empty base" if not base else "base with ARR")
    assert got == expected
