"""The demo portfolio: deterministic, loadable with zero problems, and shaped as promised.

Shape checks read the generated CSV files with :mod:`csv` and recompute what a person
would check by hand (ARR as the running sum of the ledger, utilization as
max(accounts / target_accounts, ARR / target_arr) over the active book, ...).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecc.demo import build_demo, generate
from ecc.load import load_directory
from ecc.periods import quarter_end, quarter_start
from ecc.schema import activities, arr_events, customers, health_scores

TODAY = date(2026, 5, 20)  # mid-quarter: Q2 2026 = 2026-04-01 .. 2026-06-30
SIZE = 300
FILES = (
    "csms",
    "customers",
    "arr_events",
    "health_scores",
    "renewals",
    "expansion_opportunities",
    "save_plays",
    "activities",
    "support_tickets",
    "targets",
)


def read(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def arr_at(events: list[dict[str, str]], day: date) -> dict[str, Decimal]:
    """ARR_c(day): the running sum of the ledger, per customer."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for e in events:
        if date.fromisoformat(e["event_date"]) <= day:
            out[e["customer_id"]] += Decimal(e["arr_delta"])
    return out


def quarter_stages(folder: Path, today: date) -> Counter[str]:
    """Renewals due in today's quarter by stage (METRICS.md, renewals.stages)."""
    start, end = quarter_start(today), quarter_end(today)
    stages: Counter[str] = Counter()
    for r in read(folder, "renewals"):
        if start <= date.fromisoformat(r["due_on"]) <= end:
            closed = r["closed_on"] and date.fromisoformat(r["closed_on"]) <= today
            stages[r["outcome"] if closed else r["forecast_status"]] += 1
    return stages


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    generate(folder, customers=SIZE, seed=7, today=TODAY)
    return folder


def test_same_inputs_give_byte_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    counts_a = generate(a, customers=150, seed=7, today=TODAY)
    counts_b = generate(b, customers=150, seed=7, today=TODAY)
    generate(c, customers=150, seed=8, today=TODAY)
    assert counts_a == counts_b
    assert list(counts_a) == list(FILES)
    for name in FILES:
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes(), name
    differing = [n for n in FILES if (a / f"{n}.csv").read_bytes() != (c / f"{n}.csv").read_bytes()]
    assert "arr_events" in differing and "health_scores" in differing
    # the counts returned are the data rows written (header excluded)
    for name, n in counts_a.items():
        assert len(read(a, name)) == n


def test_demo_loads_through_the_loader_with_zero_problems(engine: Engine, tmp_path: Path) -> None:
    expected = generate(tmp_path, customers=200, seed=7, today=TODAY)
    loaded = build_demo(engine, customers=200, seed=7, today=TODAY)
    assert loaded == expected
    assert loaded["customers"] == 200
    events = read(tmp_path, "arr_events")
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    for e in events:
        by_kind[e["kind"]] += Decimal(e["arr_delta"])
    with engine.connect() as conn:
        # the ledger in the database sums exactly as in the files, kind by kind
        rows = conn.execute(
            select(arr_events.c.kind, func.sum(arr_events.c.arr_delta)).group_by(arr_events.c.kind)
        )
        assert {kind: total for kind, total in rows} == by_kind
        # the latest date with data is today: a score, an activity, a ledger event at most
        assert conn.execute(select(func.max(health_scores.c.scored_on))).scalar() == TODAY
        assert conn.execute(select(func.max(activities.c.occurred_on))).scalar() == TODAY
        assert conn.execute(select(func.max(arr_events.c.event_date))).scalar() <= TODAY
        segments = conn.execute(
            select(customers.c.segment, func.count()).group_by(customers.c.segment)
        )
        assert {segment: n for segment, n in segments} == {
            "Enterprise": 20,
            "Mid-market": 60,
            "SMB": 120,
        }


@pytest.mark.parametrize("today", [date(2026, 4, 1), date(2026, 6, 30), date(2025, 12, 31)])
def test_quarter_boundaries_still_load_and_show_every_stage(
    engine: Engine, tmp_path: Path, today: date
) -> None:
    counts = generate(tmp_path, customers=150, seed=3, today=today)
    assert set(quarter_stages(tmp_path, today)) == {"on_track", "at_risk", "renewed", "churned"}
    assert load_directory(engine, tmp_path) == counts


def test_segments_sizes_and_heavy_tailed_arr(demo: Path) -> None:
    customers = read(demo, "customers")
    # 10% / 30% / 60% of 300
    assert Counter(c["segment"] for c in customers) == {
        "Enterprise": 30,
        "Mid-market": 90,
        "SMB": 180,
    }
    segment = {c["customer_id"]: c["segment"] for c in customers}
    arr = arr_at(read(demo, "arr_events"), TODAY)
    active = {cid: a for cid, a in arr.items() if a > 0}
    by_seg: dict[str, list[Decimal]] = defaultdict(list)
    for cid, a in active.items():
        by_seg[segment[cid]].append(a)
    assert max(by_seg["Enterprise"]) > 100_000
    assert max(by_seg["SMB"]) < 50_000
    medians = {s: sorted(v)[len(v) // 2] for s, v in by_seg.items()}
    assert medians["Enterprise"] > medians["Mid-market"] > medians["SMB"]
    signups = [date.fromisoformat(c["signup_date"]) for c in customers]
    assert (TODAY - min(signups)).days > 3 * 365 and (TODAY - max(signups)).days < 21


def test_ledger_has_every_kind_and_expansion_type(demo: Path) -> None:
    events = read(demo, "arr_events")
    kinds = Counter(e["kind"] for e in events)
    assert set(kinds) == {"new", "expansion", "contraction", "churn", "reactivation"}
    assert kinds["new"] == SIZE
    types = {e["expansion_type"] for e in events if e["kind"] == "expansion"}
    assert types == {"upsell", "cross_sell", "upgrade"}
    assert all(e["expansion_type"] == "" for e in events if e["kind"] != "expansion")
    # whole dollars (at most 2 places is the contract; the demo uses none)
    assert all("." not in e["arr_delta"] for e in events)
    # nothing happens after today
    assert max(e["event_date"] for e in events) <= TODAY.isoformat()


def test_churned_renewals_match_churn_events(demo: Path) -> None:
    churns = {(e["customer_id"], e["event_date"]) for e in read(demo, "arr_events")
              if e["kind"] == "churn"}  # fmt: skip
    renewals = read(demo, "renewals")
    past_churned = [
        r for r in renewals if r["outcome"] == "churned" and r["due_on"] <= TODAY.isoformat()
    ]
    assert past_churned
    # every churned renewal due by today has its churn event on the due date, and back
    assert {(r["customer_id"], r["due_on"]) for r in past_churned} == churns


def test_every_renewal_stage_in_the_current_quarter_and_some_late(demo: Path) -> None:
    stages = quarter_stages(demo, TODAY)
    assert set(stages) == {"on_track", "at_risk", "renewed", "churned"}
    late = [
        r for r in read(demo, "renewals") if not r["outcome"] and r["due_on"] < TODAY.isoformat()
    ]
    assert late


def test_health_scores_hit_the_thresholds_and_recent_signups_are_unscored(demo: Path) -> None:
    scores = read(demo, "health_scores")
    values = Counter(int(s["score"]) for s in scores)  # integers: int() would fail otherwise
    assert min(values) >= 0 and max(values) <= 100
    assert values[40] > 0 and values[70] > 0
    assert max(s["scored_on"] for s in scores) == TODAY.isoformat()
    scored = {s["customer_id"] for s in scores}
    unscored = [c for c in read(demo, "customers") if c["customer_id"] not in scored]
    assert unscored
    assert all((TODAY - date.fromisoformat(c["signup_date"])).days < 21 for c in unscored)


def test_health_falls_before_churn(demo: Path) -> None:
    by_customer: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for s in read(demo, "health_scores"):
        by_customer[s["customer_id"]].append((s["scored_on"], int(s["score"])))
    before: list[int] = []
    for e in read(demo, "arr_events"):
        if e["kind"] == "churn":
            cutoff = (date.fromisoformat(e["event_date"]) - timedelta(60)).isoformat()
            prior = [v for d, v in by_customer[e["customer_id"]] if d <= cutoff]
            if prior:
                before.append(prior[-1])
    everyone = [v for series in by_customer.values() for _, v in series]
    assert len(before) >= 20
    # two months before a churn the score is well below the average score
    assert sum(before) / len(before) < sum(everyone) / len(everyone) - 10


def test_capacity_spread_and_an_inactive_csm(demo: Path) -> None:
    csms = {m["csm_id"]: m for m in read(demo, "csms")}
    customers = read(demo, "customers")
    arr = arr_at(read(demo, "arr_events"), TODAY)
    # every customer belongs to an active CSM of its segment
    for c in customers:
        owner = csms[c["csm_id"]]
        assert owner["active"] == "true" and owner["segment"] == c["segment"]
    accounts: Counter[str] = Counter()
    book: dict[str, Decimal] = defaultdict(Decimal)
    for c in customers:
        if arr[c["customer_id"]] > 0:
            accounts[c["csm_id"]] += 1
            book[c["csm_id"]] += arr[c["customer_id"]]
    utilization = {
        m: max(accounts[m] / int(v["target_accounts"]), float(book[m]) / float(v["target_arr"]))
        for m, v in csms.items()
        if v["active"] == "true"
    }
    assert len(utilization) == 6  # 300 / 50
    assert max(utilization.values()) > 1.2
    assert min(utilization.values()) < 0.8
    inactive = [m for m, v in csms.items() if v["active"] == "false"]
    assert len(inactive) == 1
    assert not [c for c in customers if c["csm_id"] in inactive]
    past = [a for a in read(demo, "activities") if a["csm_id"] in inactive]
    assert past and max(a["occurred_on"] for a in past) < TODAY.isoformat()


def test_pipelines_activities_tickets_and_targets_cover_every_value(demo: Path) -> None:
    opps = read(demo, "expansion_opportunities")
    open_opps = [o for o in opps if not o["outcome"]]
    assert {o["outcome"] for o in opps} == {"", "won", "lost"}
    assert {o["type"] for o in open_opps} == {"upsell", "cross_sell", "upgrade"}
    assert {o["stage"] for o in open_opps} == {"identified", "qualified", "proposal", "negotiation"}
    horizon = (TODAY + timedelta(90)).isoformat()
    soon = [o for o in open_opps if TODAY.isoformat() < o["expected_close_on"] <= horizon]
    assert len(soon) > len(open_opps) / 2
    assert {p["outcome"] for p in read(demo, "save_plays")} == {"", "saved", "lost"}
    activities = read(demo, "activities")
    assert {a["kind"] for a in activities} == {"meeting", "email", "call", "task"}
    assert {a["completed"] for a in activities if a["kind"] == "task"} == {"true", "false"}
    hours = sorted(float(a["response_hours"]) for a in activities if a["response_hours"])
    assert hours[0] >= 0.5 and hours[-1] <= 72
    assert hours[len(hours) // 2] < 10 < hours[-1]  # skewed: a short median, a long tail
    tickets = read(demo, "support_tickets")
    assert {t["priority"] for t in tickets} == {"low", "normal", "high", "urgent"}
    assert any(not t["resolved_at"] for t in tickets)
    assert all(t["opened_at"][:10] <= TODAY.isoformat() for t in tickets)
    targets = read(demo, "targets")
    assert {t["metric"] for t in targets} == {
        "grr",
        "nrr",
        "renewal_rate",
        "expansion_arr",
        "expansion_win_rate",
    }
    assert {t["segment"] for t in targets} == {"", "Enterprise", "Mid-market", "SMB"}
    # quarterly rows from the history's first quarter to the end of this year
    assert max(t["period_end"] for t in targets) == "2026-12-31"
    assert min(t["period_start"] for t in targets) <= "2023-01-01"
