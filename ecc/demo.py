"""A deterministic synthetic customer-success portfolio, written as DATA.md CSV files.

``generate(directory, customers=2000, seed=7, today=None)`` writes the ten source
tables of DATA.md; ``build_demo(engine, ...)`` generates them into a temporary folder
and loads them through :func:`ecc.load.load_directory`, the same path as ``ecc load``.
The same ``(customers, seed, today)`` always gives byte-identical files.

The model (a mid-size B2B SaaS company, about 3.5 years of history ending ``today``;
every number below is a constant of this module):

- Segments: 10% Enterprise, 30% Mid-market, 60% SMB customers. One active CSM per
  50 customers (at least 3, at least one per segment), 30% / 40% / 30% of them
  covering Enterprise / Mid-market / SMB, plus CSMs who left (one under 1,000
  customers, two from 1,000): ``active`` false, no current account, activities and
  save plays from before the day they left.
- Signups from 1,278 days before ``today`` up to a few days before it, growing over
  time (density 1 + 1.5 x over the history); the last few signups (at least two)
  fall in the last 12 days, so some customers are not scored yet.
- ARR at signup (``new``) is log-normal: Enterprise median $55K (a handful end
  above $250K after expansions), Mid-market $30K, SMB $5.5K; whole dollars.
- Annual contracts: a renewal is due on each anniversary of the signup (or of the
  reactivation; Feb 29 falls on Feb 28). Within a contract year: Poisson mid-term
  expansions (upsell, cross_sell, upgrade) and rare mid-term contractions. At the
  due date the customer churns with probability
  base(segment) x exp((70 - the year's health level) / 12), else renews flat, down
  (a ``contraction``) or up (an ``expansion``, mostly ``upgrade``), dated on the due
  date. A churn is a ``churn`` event on the due date that brings ARR to exactly 0;
  12% of churned customers come back 60-420 days later with a ``reactivation``.
  At the default size the trailing-twelve-month GRR is about 0.91 and NRR about
  1.07-1.16 in each of the last three years (Enterprise about 0.95 / 1.16, SMB
  about 0.79-0.84 / 0.87-0.94); other seeds stay within GRR 0.89-0.94, NRR 1.05-1.16.
- A renewal closes up to 45 days before or 60 days after its due date (churners
  mostly give notice 1-60 days ahead). One that closes after ``today`` is open at
  ``today`` (late when its due date has passed). The ledger holds only what is
  effective by ``today``: a renewal decided early and due after ``today`` has its
  outcome but no ledger event yet, and the customer has no later renewal.
- Every renewal stage in the current quarter: when no renewal due this quarter is
  renewed (or churned) by ``today``, the most likely one is decided today; when
  fewer than two are open, the latest ones renewed on a recent due date are kept
  open (late) instead; when the open ones all have the same forecast status, the
  lowest-scored is at_risk and the highest-scored on_track. From about 40 customers
  up every stage is present whatever ``today`` is.
- Health: one integer score a week (each customer on its own weekday), from two
  weeks after signup (one week after a reactivation) until the churn or ``today``: a
  mean-reverting random walk (pull 0.3, noise sd 3.5 a week) towards a per-customer
  baseline (sd 15 around 78 / 74 / 70 by segment) moved by a per-contract-year
  level, lower while onboarding, with temporary dips, and falling by 18-32 points
  over the 3-6 months before a churn (80% of churners; the rest churn unexpectedly)
  and by 6-14 points before a contraction, so health predicts churn.
- Renewal forecast_status is at_risk with a probability that grows as the latest
  score falls (0.06 from 70, 0.22, 0.55, 0.85 under 40; at least 0.5 for churned
  ones). Save plays open when a score falls under 40 (or under 50 with a renewal due
  within 90 days), owned by the CSM of that day; saved when the score is back to 60
  or the renewal is renewed, lost at a churned renewal or the churn, else active.
- Every expansion event has a won opportunity of its type and amount closing on
  its date; lost opportunities (win rate about 50%) and open ones (85% expected to
  close within the next 90 days) come on top, stages spread.
- Activities per customer-month by segment, scaled by the owner's activity level
  (0.6-1.5), weekdays only, plus internal tasks without a customer; 60% of emails
  answer a customer (response_hours log-normal, median 3.5 h times the CSM's speed
  0.5-2, clipped to 0.5-72 h, one decimal); 10% of older tasks and half of the last
  two weeks' are not completed. Support tickets with priorities, UTC timestamps and
  response / resolution times by priority; what has not happened by the end of
  ``today`` is empty (open tickets), and 1.5% are never resolved.
- Owners are chosen after the simulation: active customers greedily (largest ARR
  first) so that each CSM's book is near weight x the segment's unit book in both
  accounts and ARR, churned ones at random by weight; every CSM of a segment has the
  unit book as targets. The weights make a few CSMs over capacity (one in SMB and
  one in Mid-market above 1.2 when the segment has two CSMs or more) and some under
  0.8.
- Targets: quarterly rows for the portfolio (segment empty) and each segment, from
  the first quarter that starts with ARR through the end of ``today``'s year: grr
  and nrr as quarterly rates, renewal_rate, expansion_win_rate, and expansion_arr =
  a share of the segment's ARR at the quarter start (the portfolio row is the sum).
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import math
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import OPPORTUNITY_STAGES, SEGMENTS
from .periods import add_months, quarter_start

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["build_demo", "generate"]

CUSTOMER_SHARE = {"Enterprise": 0.10, "Mid-market": 0.30, "SMB": 0.60}
CSM_SHARE = {"Enterprise": 0.30, "Mid-market": 0.40, "SMB": 0.30}
CUSTOMERS_PER_CSM = 50
HISTORY_DAYS = 1278  # about 3.5 years

# ARR at signup: (median, log sd, minimum, maximum, rounding unit)
INITIAL_ARR = {
    "Enterprise": (55_000.0, 0.55, 25_000, 400_000, 500),
    "Mid-market": (30_000.0, 0.35, 12_000, 90_000, 100),
    "SMB": (5_500.0, 0.45, 1_500, 18_000, 10),
}
HEALTH_BASELINE = {"Enterprise": 78.0, "Mid-market": 74.0, "SMB": 70.0}
CHURN_BASE = {"Enterprise": 0.025, "Mid-market": 0.045, "SMB": 0.085}
MIDTERM_EXPANSIONS = {"Enterprise": 0.8, "Mid-market": 0.65, "SMB": 0.3}  # per contract year
MIDTERM_CONTRACTION = 0.04  # probability per contract year
RENEWAL_CONTRACTION = {"Enterprise": 0.10, "Mid-market": 0.10, "SMB": 0.08}
RENEWAL_UPLIFT = 0.30
REACTIVATION = 0.12
LOST_OPPORTUNITIES = {"Enterprise": 1.6, "Mid-market": 1.0, "SMB": 0.45}  # per year
OPEN_OPPORTUNITIES = {"Enterprise": 0.25, "Mid-market": 0.12, "SMB": 0.05}  # per active customer
# activities per customer-month: meeting, email, call, task
ACTIVITY_RATES = {
    "Enterprise": (2.0, 5.0, 1.5, 2.0),
    "Mid-market": (0.8, 2.5, 0.7, 1.0),
    "SMB": (0.15, 0.8, 0.2, 0.3),
}
ACTIVITY_KINDS = ("meeting", "email", "call", "task")
INTERNAL_TASKS_PER_MONTH = 3.0
TICKETS_PER_MONTH = {"Enterprise": 1.6, "Mid-market": 0.8, "SMB": 0.3}
TICKET_PRIORITIES = (("low", 0.30), ("normal", 0.45), ("high", 0.18), ("urgent", 0.07))
# mean seconds to first response and from first response to resolution, by priority
TICKET_TIMES = {
    "low": (14_400.0, 259_200.0),
    "normal": (7_200.0, 129_600.0),
    "high": (2_700.0, 43_200.0),
    "urgent": (900.0, 14_400.0),
}
# the weights of the CSMs of a segment: (first, second, last); the others draw 0.82..1.0
CSM_WEIGHTS = {
    "Enterprise": (1.06, None, 0.74),
    "Mid-market": (1.26, 1.06, 0.72),
    "SMB": (1.36, 1.08, 0.68),
}
QUARTERLY_TARGETS = {
    # metric: (portfolio, Enterprise, Mid-market, SMB)
    "grr": (0.975, 0.985, 0.975, 0.955),
    "nrr": (1.02, 1.035, 1.02, 0.995),
    "renewal_rate": (0.90, 0.95, 0.90, 0.85),
    "expansion_win_rate": (0.45, 0.50, 0.45, 0.40),
}
EXPANSION_TARGET_SHARE = {"Enterprise": 0.05, "Mid-market": 0.035, "SMB": 0.02}

FIRST_NAMES = (
    "Alex", "Amara", "Ben", "Carla", "Chen", "Dana", "Diego", "Elena", "Farah", "Felix",
    "Grace", "Hana", "Ivan", "Jade", "Jonas", "Kai", "Laura", "Leo", "Maya", "Mateo",
    "Nadia", "Noah", "Olivia", "Omar", "Priya", "Quinn", "Rafael", "Rosa", "Sam", "Sara",
    "Tariq", "Tess", "Uma", "Victor", "Wen", "Yara", "Yusuf", "Zoe", "Lucas", "Ines",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes",
    "Ibrahim", "Jansen", "Kowalski", "Lambert", "Moreau", "Nakamura", "Okafor", "Patel",
    "Quintero", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Yilmaz",
    "Zhang", "Andersen", "Brennan", "Costa", "Novak", "Silva", "Kim", "Murphy", "Ortiz",
    "Park", "Reyes", "Sato", "Torres", "Weber", "Lindqvist",
)  # fmt: skip
NAME_PARTS_A = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bright", "Cedar",
    "Cobalt", "Coral", "Crest", "Delta", "Echo", "Ember", "Evergreen", "Falcon", "Fjord",
    "Granite", "Harbor", "Helix", "Horizon", "Iron", "Juniper", "Keystone", "Lumen",
    "Maple", "Meridian", "Nimbus", "Nordic", "North", "Oak", "Orbit", "Pacific", "Pine",
    "Pioneer", "Prism", "Quartz", "Red", "River", "Sable", "Silver", "Solar", "Spruce",
    "Stellar", "Summit", "Swift", "Terra", "Tidal", "Union", "Vantage", "Vector", "Willow",
    "Zenith", "Alder", "Basalt", "Canyon", "Drift", "Granada", "Lakeside",
)  # fmt: skip
NAME_PARTS_B = (
    "Analytics", "Bank", "Bio", "Brands", "Capital", "Cloud", "Consulting", "Dynamics",
    "Energy", "Engineering", "Foods", "Freight", "Health", "Holdings", "Industries",
    "Insurance", "Labs", "Logistics", "Media", "Medical", "Mobility", "Networks",
    "Partners", "Pharma", "Retail", "Robotics", "Software", "Solutions", "Studios",
    "Systems", "Technologies", "Telecom", "Travel", "Ventures", "Works", "Data",
    "Security", "Education", "Manufacturing", "Realty",
)  # fmt: skip
LEGAL_FORMS = ("", "", "", "Inc", "LLC", "Ltd", "GmbH", "Group", "Co", "SA", "AB", "BV")
INDUSTRIES = (
    "Software", "Financial services", "Healthcare", "Manufacturing", "Retail",
    "Logistics", "Media", "Education", "Energy", "Professional services",
)  # fmt: skip
REGIONS = (("North America", 0.45), ("EMEA", 0.35), ("APAC", 0.15), ("LATAM", 0.05))

HEADERS: dict[str, tuple[str, ...]] = {
    "csms": ("csm_id", "name", "email", "segment", "target_accounts", "target_arr", "active"),
    "customers": (
        "customer_id", "name", "segment", "csm_id", "signup_date", "onboarded_on",
        "industry", "region",
    ),
    "arr_events": ("event_id", "customer_id", "event_date", "kind", "arr_delta", "expansion_type"),
    "health_scores": ("customer_id", "scored_on", "score"),
    "renewals": (
        "renewal_id", "customer_id", "due_on", "arr", "forecast_status", "outcome",
        "closed_on", "renewed_arr",
    ),
    "expansion_opportunities": (
        "opportunity_id", "customer_id", "type", "stage", "amount", "created_on",
        "expected_close_on", "outcome", "closed_on",
    ),
    "save_plays": ("play_id", "customer_id", "csm_id", "opened_on", "outcome", "closed_on"),
    "activities": (
        "activity_id", "csm_id", "customer_id", "kind", "occurred_on", "completed",
        "response_hours",
    ),
    "support_tickets": (
        "ticket_id", "customer_id", "opened_at", "first_response_at", "resolved_at", "priority",
    ),
    "targets": ("metric", "period_start", "period_end", "segment", "value"),
}  # fmt: skip
TABLES: tuple[str, ...] = tuple(HEADERS)

Row = tuple[str, ...]


@dataclass(slots=True)
class _Csm:
    csm_id: str
    name: str
    email: str
    segment: str
    active: bool
    weight: float
    activity: float  # multiplies the activity rates of the book
    speed: float  # multiplies email response times
    left_on: int | None = None  # ordinal of the last day, for CSMs who left
    target_accounts: int = 1
    target_arr: int = 1


@dataclass(slots=True)
class _Renewal:
    due: int
    arr: int
    truth: str  # churn | down | up | flat: what happens at the due date
    new_arr: int  # the ARR after the due date when that happens
    closed: int | None  # None: open at today
    renewed_arr: int | None
    outcome: str | None


@dataclass(slots=True)
class _Customer:
    idx: int
    customer_id: str
    name: str
    segment: str
    signup: int
    onboarded: int | None
    industry: str
    region: str
    baseline: float
    events: list[tuple[int, str, int, str]] = field(default_factory=list)
    intervals: list[tuple[int, int]] = field(default_factory=list)  # [start, end) active
    levels: list[tuple[int, float]] = field(default_factory=list)  # (from, health level)
    marks: list[tuple[int, int, int, float]] = field(default_factory=list)  # health dips
    renewals: list[_Renewal] = field(default_factory=list)
    arr_today: int = 0
    csm_id: str = ""
    former_csm: str = ""  # a CSM who left, owner before ``former_until``
    former_until: int = 0


class _Days:
    """ISO strings of the days around ``today``, precomputed (formatting is the hot path)."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo = lo
        self.text = [date.fromordinal(o).isoformat() for o in range(lo, hi + 1)]

    def __call__(self, o: int) -> str:
        i = o - self.lo
        if 0 <= i < len(self.text):
            return self.text[i]
        return date.fromordinal(o).isoformat()

    def stamp(self, seconds: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS`` for seconds since day 0 (UTC)."""
        day, rest = divmod(seconds, 86_400)
        h, rest = divmod(rest, 3_600)
        m, s = divmod(rest, 60)
        return f"{self(day)}T{h:02d}:{m:02d}:{s:02d}"


# ---------------------------------------------------------------- small random helpers


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's product method; normal approximation above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _pick(rng: random.Random, weighted: Iterable[tuple[str, float]]) -> str:
    items = list(weighted)
    u = rng.random() * sum(w for _, w in items)
    for value, w in items:
        u -= w
        if u < 0:
            return value
    return items[-1][0]


def _round_to(x: float, unit: int) -> int:
    return max(unit, round(x / unit) * unit)


def _anniversary(start: int, years: int) -> int:
    d = date.fromordinal(start)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:  # Feb 29 -> Feb 28
        return d.replace(year=d.year + years, day=28).toordinal()


def _weekday_shift(o: int, today: int) -> int:
    """Move a weekend day to the nearest weekday not after today."""
    wd = (o + 6) % 7  # 0 Monday .. 6 Sunday
    if wd == 5:
        return o - 1
    if wd == 6:
        return o + 1 if o + 1 <= today else o - 2
    return o


def _unit_for(segment: str) -> int:
    return INITIAL_ARR[segment][4]


# ---------------------------------------------------------------- CSMs and customers


def _segment_counts(total: int, shares: dict[str, float], minimum: int) -> dict[str, int]:
    """Split ``total`` by ``shares`` (largest remainders), each at least ``minimum``."""
    raw = {s: total * shares[s] for s in SEGMENTS}
    counts = {s: max(minimum, int(raw[s])) for s in SEGMENTS}
    order = sorted(SEGMENTS, key=lambda s: (-(raw[s] - int(raw[s])), SEGMENTS.index(s)))
    i = 0
    while sum(counts.values()) < total:
        counts[order[i % 3]] += 1
        i += 1
    while sum(counts.values()) > total:
        big = max(SEGMENTS, key=lambda s: counts[s])
        counts[big] -= 1
    return counts


def _make_csms(rng: random.Random, n_customers: int, today: int) -> list[_Csm]:
    n_active = max(3, round(n_customers / CUSTOMERS_PER_CSM))
    per_segment = _segment_counts(n_active, CSM_SHARE, 1)
    leavers = ["SMB"] if n_customers < 1000 else ["SMB", "Mid-market"]
    total = n_active + len(leavers)
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    picks = (
        rng.sample(range(combos), total)
        if total <= combos
        else [rng.randrange(combos) for _ in range(total)]
    )
    names = [(FIRST_NAMES[p // len(LAST_NAMES)], LAST_NAMES[p % len(LAST_NAMES)]) for p in picks]
    csms: list[_Csm] = []
    seen_emails: set[str] = set()

    def add(segment: str, active: bool, weight: float) -> _Csm:
        first, last = names[len(csms)]
        email = f"{first}.{last}".lower()
        if email in seen_emails:
            email = f"{email}{len(csms) + 1}"
        seen_emails.add(email)
        csm = _Csm(
            csm_id=f"CSM{len(csms) + 1:03d}",
            name=f"{first} {last}",
            email=f"{email}@example.com",
            segment=segment,
            active=active,
            weight=weight,
            activity=rng.uniform(0.6, 1.5),
            speed=rng.uniform(0.5, 2.0),
        )
        csms.append(csm)
        return csm

    for segment in SEGMENTS:
        n = per_segment[segment]
        first, second, last = CSM_WEIGHTS[segment]
        weights = [rng.uniform(0.82, 1.0) for _ in range(n)]
        if n >= 2:
            weights[0] = first
            weights[-1] = last
        if n >= 4 and second is not None:
            weights[1] = second
        for w in weights:
            add(segment, True, w)
    for k, segment in enumerate(leavers):
        csm = add(segment, False, 1.0)
        csm.left_on = today - (rng.randint(120, 300) if k == 0 else rng.randint(400, 600))
    return csms


def _company_name(rng: random.Random, seen: set[str]) -> str:
    for _ in range(50):
        name = f"{rng.choice(NAME_PARTS_A)} {rng.choice(NAME_PARTS_B)}"
        legal = rng.choice(LEGAL_FORMS)
        if legal:
            name = f"{name} {legal}"
        if name not in seen:
            seen.add(name)
            return name
    name = f"{rng.choice(NAME_PARTS_A)} {rng.choice(NAME_PARTS_B)} {len(seen) + 1}"
    seen.add(name)
    return name


def _signup_day(rng: random.Random, today: int) -> int:
    """A signup day with density growing linearly over the history (1 + g x)."""
    g = 1.5
    u = rng.random()
    x = (-1.0 + math.sqrt(1.0 + 2.0 * g * u * (1.0 + g / 2.0))) / g
    first = today - HISTORY_DAYS
    return first + int(x * (HISTORY_DAYS - 3))


def _make_customers(rng: random.Random, n: int, today: int) -> list[_Customer]:
    counts = _segment_counts(n, CUSTOMER_SHARE, 1 if n >= 3 else 0)
    segments = [s for s in SEGMENTS for _ in range(counts[s])]
    rng.shuffle(segments)
    signups = sorted(_signup_day(rng, today) for _ in range(n))
    # a few customers signed in the last days: onboarding, not scored yet
    for k in range(min(n, max(2, n // 400))):
        signups[-1 - k] = today - rng.randint(2, 12)
    signups.sort()
    seen: set[str] = set()
    out: list[_Customer] = []
    onboarding_days = {"Enterprise": 60.0, "Mid-market": 30.0, "SMB": 10.0}
    for i, (segment, signup) in enumerate(zip(segments, signups, strict=True)):
        onboarded: int | None = signup + max(
            1, int(rng.lognormvariate(math.log(onboarding_days[segment]), 0.5))
        )
        if onboarded is not None and onboarded > today:
            onboarded = None
        out.append(
            _Customer(
                idx=i,
                customer_id=f"C{i + 1:05d}",
                name=_company_name(rng, seen),
                segment=segment,
                signup=signup,
                onboarded=onboarded,
                industry=rng.choice(INDUSTRIES),
                region=_pick(rng, REGIONS),
                baseline=min(92.0, max(30.0, rng.gauss(HEALTH_BASELINE[segment], 15.0))),
            )
        )
    return out


# ---------------------------------------------------------------- the ARR ledger and renewals


def _initial_arr(rng: random.Random, segment: str) -> int:
    median, sd, lo, hi, unit = INITIAL_ARR[segment]
    x = rng.lognormvariate(math.log(median), sd)
    return _round_to(min(hi, max(lo, x)), unit)


def _closing_offset(rng: random.Random, churn: bool) -> int:
    """Days from the due date to the close: churners mostly give notice ahead."""
    u = rng.random()
    if churn:
        return rng.randint(-60, -1) if u < 0.75 else rng.randint(0, 15)
    if u < 0.70:
        return rng.randint(-45, 0)
    if u < 0.95:
        return rng.randint(1, 20)
    return rng.randint(21, 60)


def _simulate(rng: random.Random, c: _Customer, today: int) -> None:
    """The customer's ledger, renewals, active intervals and health levels up to today."""
    seg = c.segment
    unit = _unit_for(seg)
    arr = _initial_arr(rng, seg)
    c.events.append((c.signup, "new", arr, ""))
    start = c.signup  # start of the current contract cycle
    prev = start  # start of the current contract year
    k = 1
    while True:
        due = _anniversary(start, k)
        level = min(95.0, max(20.0, c.baseline + rng.gauss(0.0, 7.0)))
        c.levels.append((prev, level))
        if rng.random() < 0.25:  # a temporary dip that recovers
            mid = rng.randint(prev + 40, due - 40)
            c.marks.append((mid - 35, mid, mid + 60, rng.uniform(12.0, 32.0)))
        # mid-term movements
        moves: list[tuple[int, str]] = []
        for _ in range(_poisson(rng, MIDTERM_EXPANSIONS[seg])):
            moves.append((rng.randint(prev + 30, due - 30), "expansion"))
        if rng.random() < MIDTERM_CONTRACTION:
            moves.append((rng.randint(prev + 30, due - 30), "contraction"))
        moves.sort()
        last_day = -1
        for day, kind in moves:
            if day > today or day == last_day:
                continue
            last_day = day
            if kind == "expansion":
                etype = _pick(rng, (("upsell", 0.55), ("cross_sell", 0.33), ("upgrade", 0.12)))
                delta = _round_to(arr * rng.uniform(0.08, 0.35), unit)
                c.events.append((day, "expansion", delta, etype))
                arr += delta
            else:
                delta = min(arr - unit, _round_to(arr * rng.uniform(0.1, 0.3), unit))
                if delta <= 0:
                    continue
                c.marks.append((day - rng.randint(60, 120), day, day + 30, rng.uniform(6, 12)))
                c.events.append((day, "contraction", -delta, ""))
                arr -= delta
        # the renewal at the due date
        p_churn = min(0.7, CHURN_BASE[seg] * math.exp((70.0 - level) / 12.0))
        u = rng.random()
        if u < p_churn:
            truth, new_arr = "churn", 0
        elif u < p_churn + RENEWAL_CONTRACTION[seg]:
            cut = _round_to(arr * rng.uniform(0.1, 0.4), unit)
            truth, new_arr = "down", max(unit, arr - cut)
        elif u < p_churn + RENEWAL_CONTRACTION[seg] + RENEWAL_UPLIFT:
            truth, new_arr = "up", arr + _round_to(arr * rng.uniform(0.03, 0.25), unit)
        else:
            truth, new_arr = "flat", arr
        if truth == "churn" and rng.random() < 0.8:
            c.marks.append((due - rng.randint(90, 200), due, due, rng.uniform(18.0, 32.0)))
        elif truth == "down":
            c.marks.append((due - rng.randint(60, 120), due, due + 45, rng.uniform(6.0, 14.0)))
        closed = due + _closing_offset(rng, truth == "churn")
        if closed > today:  # open at today (late when due <= today)
            c.renewals.append(_Renewal(due, arr, truth, new_arr, None, None, None))
            c.intervals.append((start, today + 1))
            break
        outcome = "churned" if truth == "churn" else "renewed"
        c.renewals.append(
            _Renewal(
                due, arr, truth, new_arr, closed, new_arr if outcome == "renewed" else None, outcome
            )
        )
        if due > today:  # closed early; effective after today
            c.intervals.append((start, today + 1))
            break
        if truth == "churn":
            c.events.append((due, "churn", -arr, ""))
            c.intervals.append((start, due))
            back = due + rng.randint(60, 420)
            if rng.random() < REACTIVATION and back <= today:
                arr = _round_to(arr * rng.uniform(0.5, 1.0), unit)
                c.events.append((back, "reactivation", arr, ""))
                start = prev = back
                k = 1
                continue
            arr = 0
            break
        if new_arr < arr:
            c.events.append((due, "contraction", new_arr - arr, ""))
        elif new_arr > arr:
            etype = "upgrade" if rng.random() < 0.6 else "upsell"
            c.events.append((due, "expansion", new_arr - arr, etype))
        arr = new_arr
        prev = due
        k += 1
    c.arr_today = arr


# ---------------------------------------------------------------- every renewal stage this quarter


def _quarter_bounds(today: int) -> tuple[int, int]:
    start = quarter_start(date.fromordinal(today))
    return start.toordinal(), add_months(start, 3).toordinal() - 1


def _can_reopen(c: _Customer, r: _Renewal, today: int) -> bool:
    """A renewal renewed on or before today whose customer has done nothing since."""
    return (
        r.outcome == "renewed"
        and r.due <= today
        and len(c.renewals) >= 2
        and c.renewals[-2] is r
        and c.renewals[-1].due > today
        and all(day <= r.due for day, _k, _d, _t in c.events)
    )


def _reopen(c: _Customer, r: _Renewal) -> None:
    """Make a just-due renewal still open (late): undo its outcome and what followed."""
    c.events = [e for e in c.events if e[0] < r.due]
    c.renewals.pop()
    if c.levels and c.levels[-1][0] == r.due:
        c.levels.pop()
    r.closed = r.outcome = r.renewed_arr = None
    c.arr_today = r.arr


def _close_now(rng: random.Random, c: _Customer, r: _Renewal, outcome: str, today: int) -> None:
    """Close an open renewal on or just before today with ``outcome``."""
    r.outcome = outcome
    if r.due > today:  # decided early; the ledger changes after today
        r.closed = today - rng.randint(0, 3)
        r.renewed_arr = (
            (r.new_arr if r.truth != "churn" else r.arr) if outcome == "renewed" else None
        )
        return
    r.closed = today  # a late renewal, decided today
    if outcome == "renewed":
        r.renewed_arr = r.arr
        return
    c.events.append((r.due, "churn", -r.arr, ""))
    c.intervals[-1] = (c.intervals[-1][0], r.due)
    c.arr_today = 0


def _ensure_quarter_stages(rng: random.Random, customers: list[_Customer], today: int) -> None:
    """Nudge a few renewals so the current quarter shows every stage.

    When no renewal due this quarter is renewed (or churned) by today, the one most
    likely to be is closed today (a renewal due later is decided early); when fewer
    than two are open, the latest renewals renewed on their (recent) due date are
    kept open instead (late). Forecast statuses are balanced when they are written.
    """
    qs, qe = _quarter_bounds(today)
    due_in_q = [(c, r) for c in customers for r in c.renewals if qs <= r.due <= qe]
    open_q = [(c, r) for c, r in due_in_q if r.closed is None]
    missing = [o for o in ("churned", "renewed") if not any(r.outcome == o for _, r in due_in_q)]
    need_open = 2 + len(missing)
    if len(open_q) < need_open:
        candidates = sorted(
            ((c, r) for c, r in due_in_q if _can_reopen(c, r, today)),
            key=lambda cr: (-cr[1].due, cr[0].idx),
        )
        for c, r in candidates[: need_open - len(open_q)]:
            _reopen(c, r)
            open_q.append((c, r))
    for outcome in missing:
        if len(open_q) <= 2:
            break
        churn = outcome == "churned"
        open_q.sort(
            key=lambda cr: (
                (cr[1].truth == "churn") != churn,
                cr[1].due <= today,
                cr[0].baseline if churn else -cr[0].baseline,
                cr[0].idx,
            )
        )
        c, r = open_q.pop(0)
        _close_now(rng, c, r, outcome, today)


# ---------------------------------------------------------------- owners and capacity


def _assign(rng: random.Random, customers: list[_Customer], csms: list[_Csm]) -> None:
    """Current owners: active books near weight x the segment's unit book; targets = unit."""
    for segment in SEGMENTS:
        team = [m for m in csms if m.active and m.segment == segment]
        members = [c for c in customers if c.segment == segment]
        live = sorted((c for c in members if c.arr_today > 0), key=lambda c: (-c.arr_today, c.idx))
        total_w = sum(m.weight for m in team)
        unit_n = max(1.0, len(live) / total_w)
        unit_arr = max(1.0, sum(c.arr_today for c in live) / total_w)
        count = [0] * len(team)
        book = [0] * len(team)
        for c in live:
            best = min(
                range(len(team)),
                key=lambda j: (
                    max(
                        (count[j] + 1) / (team[j].weight * unit_n),
                        (book[j] + c.arr_today) / (team[j].weight * unit_arr),
                    ),
                    j,
                ),
            )
            count[best] += 1
            book[best] += c.arr_today
            c.csm_id = team[best].csm_id
        weights = [m.weight for m in team]
        for c in members:
            if not c.csm_id:
                c.csm_id = rng.choices(team, weights=weights)[0].csm_id
        arr_unit = 10_000 if unit_arr >= 50_000 else 1_000
        for m in team:
            m.target_accounts = max(1, round(unit_n))
            m.target_arr = _round_to(unit_arr, arr_unit)
        for m in csms:
            if m.segment == segment and not m.active:
                m.target_accounts = max(1, round(unit_n))
                m.target_arr = _round_to(unit_arr, arr_unit)
                left = m.left_on if m.left_on is not None else 0
                former = [c for c in members if c.signup < left]
                for c in rng.sample(former, min(len(former), max(1, round(unit_n * 1.2)))):
                    c.former_csm = m.csm_id
                    c.former_until = left


# ---------------------------------------------------------------- health and everything after it


def _target(c: _Customer, t: int, level: float) -> float:
    x = level
    since = t - c.signup
    if since < 90:
        x -= (90 - since) / 90 * 12.0
    for a, peak, b, drop in c.marks:
        if a <= t < b:
            if t < peak:
                x -= drop * (t - a) / (peak - a)
            else:
                x -= drop * (b - t) / (b - peak)
    return x


def _scores(rng: random.Random, c: _Customer, today: int) -> list[tuple[int, int]]:
    """Weekly integer scores over the active intervals (a mean-reverting walk)."""
    out: list[tuple[int, int]] = []
    phase = rng.randrange(7)
    levels = c.levels
    li = 0
    gauss = rng.gauss
    for n, (a, b) in enumerate(c.intervals):
        first = a + 14 + phase if n == 0 else a + 7
        last = min(b - 1, today)
        if first > last:
            continue
        while li + 1 < len(levels) and levels[li + 1][0] <= first:
            li += 1
        x = _target(c, first, levels[li][1]) - 5.0 + gauss(0.0, 5.0)
        for t in range(first, last + 1, 7):
            while li + 1 < len(levels) and levels[li + 1][0] <= t:
                li += 1
            x += 0.3 * (_target(c, t, levels[li][1]) - x) + gauss(0.0, 3.5)
            s = int(x + 0.5)
            out.append((t, 0 if s < 0 else 100 if s > 100 else s))
    return out


def _score_at(days: list[int], scores: list[tuple[int, int]], d: int) -> int | None:
    i = bisect.bisect_right(days, d)
    return scores[i - 1][1] if i else None


def _p_at_risk(score: int | None) -> float:
    if score is None:
        return 0.15
    if score < 40:
        return 0.85
    if score < 55:
        return 0.55
    if score < 70:
        return 0.22
    return 0.06


@dataclass(slots=True)
class _Writers:
    rows: dict[str, Any]
    counts: dict[str, int]
    seq: dict[str, int]

    def write(self, table: str, row: Row) -> None:
        self.rows[table].writerow(row)
        self.counts[table] += 1

    def write_many(self, table: str, rows: list[Row]) -> None:
        self.rows[table].writerows(rows)
        self.counts[table] += len(rows)

    def next_id(self, prefix: str, width: int) -> str:
        n = self.seq.get(prefix, 0) + 1
        self.seq[prefix] = n
        return f"{prefix}{n:0{width}d}"


class _Generator:
    def __init__(self, rng: random.Random, today: int, days: _Days, csms: list[_Csm]) -> None:
        self.rng = rng
        self.today = today
        self.days = days
        self.csms = {m.csm_id: m for m in csms}
        self.score_text = [str(i) for i in range(101)]
        self.end_seconds = (today + 1) * 86_400 - 1
        self.activity_seq = 0
        self.renewal_rows: list[Row] = []
        self.quarter = _quarter_bounds(today)
        self.open_in_quarter: list[tuple[int, int]] = []  # (row index, latest score)

    def owner(self, c: _Customer, d: int) -> str:
        if c.former_csm and d <= c.former_until:
            return c.former_csm
        return c.csm_id

    def customer(self, c: _Customer, w: _Writers) -> None:
        rng = self.rng
        ds = self.days
        today = self.today
        scores = _scores(rng, c, today)
        cid = c.customer_id
        st = self.score_text
        w.write_many("health_scores", [(cid, ds(t), st[s]) for t, s in scores])
        days = [t for t, _ in scores]
        self._renewals(c, w, days, scores)
        self._save_plays(c, w, scores)
        self._opportunities(c, w)
        self._activities(c, w)
        self._tickets(c, w)

    def _renewals(
        self, c: _Customer, w: _Writers, days: list[int], scores: list[tuple[int, int]]
    ) -> None:
        rng = self.rng
        ds = self.days
        for r in c.renewals:
            at = r.closed if r.closed is not None else self.today
            p = _p_at_risk(_score_at(days, scores, at))
            if r.outcome == "churned":
                p = max(p, 0.5)
            status = "at_risk" if rng.random() < p else "on_track"
            if r.closed is None and self.quarter[0] <= r.due <= self.quarter[1]:
                score = _score_at(days, scores, self.today)
                self.open_in_quarter.append(
                    (len(self.renewal_rows), 50 if score is None else score)
                )
            self.renewal_rows.append(
                (
                    w.next_id("RN", 6),
                    c.customer_id,
                    ds(r.due),
                    str(r.arr),
                    status,
                    r.outcome or "",
                    ds(r.closed) if r.closed is not None else "",
                    str(r.renewed_arr) if r.renewed_arr is not None else "",
                )
            )

    def write_renewals(self, w: _Writers) -> None:
        """Write the renewals, first making sure the quarter's open ones show both statuses."""
        rows = self.renewal_rows
        ranked = sorted(self.open_in_quarter, key=lambda item: (item[1], item[0]))
        if len(ranked) >= 2:
            statuses = {rows[i][4] for i, _ in ranked}
            if "at_risk" not in statuses:
                i = ranked[0][0]
                rows[i] = (*rows[i][:4], "at_risk", *rows[i][5:])
            if "on_track" not in statuses:
                i = ranked[-1][0]
                rows[i] = (*rows[i][:4], "on_track", *rows[i][5:])
        w.write_many("renewals", rows)

    def _save_plays(self, c: _Customer, w: _Writers, scores: list[tuple[int, int]]) -> None:
        rng = self.rng
        today = self.today
        closings = sorted(
            (r.closed, r.outcome) for r in c.renewals if r.closed is not None and r.outcome
        )
        dues = [r.due for r in c.renewals]
        churns = [e[0] for e in c.events if e[1] == "churn"]
        plays: list[tuple[int, str | None, int | None]] = []
        opened: int | None = None
        cooldown = -(10**9)

        def resolve_before(t: int) -> bool:
            nonlocal opened, cooldown
            assert opened is not None
            for day, outcome in closings:
                if opened < day <= t:
                    plays.append((opened, "saved" if outcome == "renewed" else "lost", day))
                    opened, cooldown = None, day
                    return True
            for day in churns:
                if opened < day <= t:
                    plays.append((opened, "lost", day))
                    opened, cooldown = None, day
                    return True
            return False

        for t, s in scores:
            if opened is not None:
                if resolve_before(t):
                    pass
                elif s >= 60:
                    day = min(today, t + rng.randint(0, 6))
                    plays.append((opened, "saved", day))
                    opened, cooldown = None, day
                continue
            if t - cooldown < 45:
                continue
            if s >= 50:
                continue
            soon = any(0 <= due - t <= 90 for due in dues)
            if (s < 40 and rng.random() < 0.5) or (soon and rng.random() < 0.25):
                opened = min(today, t + rng.randint(0, 3))
        if opened is not None and not resolve_before(today):
            plays.append((opened, None, None))
        for day, outcome, closed in plays:
            w.write(
                "save_plays",
                (
                    w.next_id("SP", 5),
                    c.customer_id,
                    self.owner(c, day),
                    self.days(day),
                    outcome or "",
                    self.days(closed) if closed is not None else "",
                ),
            )

    def _opportunities(self, c: _Customer, w: _Writers) -> None:
        rng = self.rng
        ds = self.days
        today = self.today
        unit = _unit_for(c.segment)
        cid = c.customer_id
        rows: list[Row] = []

        def row(
            kind: str, stage: str, amount: int, created: int, expected: int,
            outcome: str, closed: int | None,
        ) -> None:  # fmt: skip
            rows.append(
                (
                    w.next_id("OP", 6),
                    cid,
                    kind,
                    stage,
                    str(amount),
                    ds(created),
                    ds(expected),
                    outcome,
                    ds(closed) if closed is not None else "",
                )
            )

        arr_by_day: list[tuple[int, int]] = []
        running = 0
        for day, kind, delta, etype in c.events:
            running += delta
            arr_by_day.append((day, running))
            if kind == "expansion":
                created = max(c.signup, day - rng.randint(25, 110))
                stage = "negotiation" if rng.random() < 0.65 else "proposal"
                row(etype, stage, delta, created, created + rng.randint(30, 90), "won", day)
        arr_days = [d for d, _ in arr_by_day]

        def arr_at(d: int) -> int:
            i = bisect.bisect_right(arr_days, d)
            return arr_by_day[i - 1][1] if i else 0

        for a, b in c.intervals:
            end = min(b, today + 1)
            span = end - a - 20
            if span <= 0:
                continue
            for _ in range(_poisson(rng, LOST_OPPORTUNITIES[c.segment] * span / 365.0)):
                created = a + rng.randrange(span)
                base = arr_at(created)
                if base <= 0:
                    continue
                amount = _round_to(base * rng.uniform(0.08, 0.45), unit)
                kind = _pick(rng, (("upsell", 0.5), ("cross_sell", 0.3), ("upgrade", 0.2)))
                stage = _pick(
                    rng,
                    (("identified", 0.3), ("qualified", 0.3), ("proposal", 0.25),
                     ("negotiation", 0.15)),
                )  # fmt: skip
                closed = created + rng.randint(20, 150)
                expected = created + rng.randint(30, 100)
                if b <= today:
                    closed = min(closed, b)
                if closed <= today:
                    row(kind, stage, amount, created, expected, "lost", closed)
                else:
                    row(kind, stage, amount, created, expected, "", None)
        if c.arr_today > 0:
            factor = 1.0 + (c.baseline - 65.0) / 40.0
            for _ in range(_poisson(rng, OPEN_OPPORTUNITIES[c.segment] * max(0.2, factor))):
                age = rng.randint(0, 120)
                created = max(c.signup, today - age)
                amount = _round_to(c.arr_today * rng.uniform(0.08, 0.4), unit)
                kind = _pick(rng, (("upsell", 0.45), ("cross_sell", 0.33), ("upgrade", 0.22)))
                i = min(3, int(age / 30 + rng.random() * 1.5))
                stage = OPPORTUNITY_STAGES[i]
                if rng.random() < 0.85:  # most are expected to close within 90 days
                    expected = today + rng.randint(1, 90)
                elif rng.random() < 0.5:  # overdue
                    expected = today - rng.randint(0, 20)
                else:
                    expected = today + rng.randint(91, 150)
                row(kind, stage, amount, created, max(created, expected), "", None)
        w.write_many("expansion_opportunities", rows)

    def _activities(self, c: _Customer, w: _Writers) -> None:
        rng = self.rng
        today = self.today
        cid = c.customer_id
        rates = ACTIVITY_RATES[c.segment]
        level = self.csms[c.csm_id].activity
        renewal_dues = [r.due for r in c.renewals]
        rows: list[Row] = []
        for a, b in c.intervals:
            end = min(b, today + 1)
            span = end - a
            if span <= 0:
                continue
            months = span / 30.4
            for kind, rate in zip(ACTIVITY_KINDS, rates, strict=True):
                for _ in range(_poisson(rng, rate * months * level)):
                    d = _weekday_shift(a + rng.randrange(span), today)
                    rows.append(self._activity(c, kind, d, cid))
            # renewal meetings in the 60 days before each due date
            for due in renewal_dues:
                if a <= due - 60 and due - 1 <= today and due <= end + 60:
                    d = _weekday_shift(due - rng.randint(1, 60), today)
                    if a <= d < end:
                        rows.append(self._activity(c, "meeting", d, cid))
        w.write_many("activities", rows)

    def _activity(self, c: _Customer | None, kind: str, d: int, cid: str, csm: str = "") -> Row:
        rng = self.rng
        owner = csm or (self.owner(c, d) if c is not None else "")
        completed = "true"
        hours = ""
        if kind == "task":
            recent = d > self.today - 14
            done = rng.random() < (0.5 if recent else 0.9)
            completed = "true" if done else "false"
        elif kind == "email" and rng.random() < 0.6:
            h = rng.lognormvariate(math.log(3.5), 1.0) * self.csms[owner].speed
            hours = f"{min(72.0, max(0.5, h)):.1f}"
        self.activity_seq += 1
        return (f"AC{self.activity_seq:07d}", owner, cid, kind, self.days(d), completed, hours)

    def internal_tasks(self, w: _Writers, first_day: int) -> None:
        rng = self.rng
        rows: list[Row] = []
        for m in self.csms.values():
            last = m.left_on if m.left_on is not None else self.today
            span = last - first_day + 1
            if span <= 0:
                continue
            for _ in range(_poisson(rng, INTERNAL_TASKS_PER_MONTH * span / 30.4)):
                d = _weekday_shift(first_day + rng.randrange(span), last)
                rows.append(self._activity(None, "task", d, "", m.csm_id))
        w.write_many("activities", rows)

    def _tickets(self, c: _Customer, w: _Writers) -> None:
        rng = self.rng
        stamp = self.days.stamp
        today = self.today
        end_s = self.end_seconds
        factor = min(2.0, max(0.5, 1.0 + (70.0 - c.baseline) / 40.0))
        rate = TICKETS_PER_MONTH[c.segment] * factor
        rows: list[Row] = []
        for a, b in c.intervals:
            end = min(b, today + 1)
            span = end - a
            if span <= 0:
                continue
            for _ in range(_poisson(rng, rate * span / 30.4)):
                d = a + rng.randrange(span)
                hour = int(rng.gauss(14.0, 3.5)) % 24
                opened = d * 86_400 + hour * 3_600 + rng.randrange(3_600)
                priority = _pick(rng, TICKET_PRIORITIES)
                first_mean, resolve_mean = TICKET_TIMES[priority]
                first = opened + 60 + int(rng.expovariate(1.0 / first_mean))
                resolved = first + 300 + int(rng.expovariate(1.0 / resolve_mean))
                if opened > end_s:
                    continue
                first_text = stamp(first) if first <= end_s else ""
                stale = rng.random() < 0.015
                resolved_text = stamp(resolved) if resolved <= end_s and not stale else ""
                rows.append(
                    (w.next_id("TK", 6), c.customer_id, stamp(opened), first_text, resolved_text,
                     priority)
                )  # fmt: skip
        w.write_many("support_tickets", rows)


# ---------------------------------------------------------------- targets


def _targets(customers: list[_Customer], first_signup: int, today: int, days: _Days) -> list[Row]:
    """Quarterly targets from the first quarter that starts with ARR to the end of this year."""
    events = sorted((day, delta, c.segment) for c in customers for day, _k, delta, _t in c.events)
    quarters: list[tuple[date, date]] = []
    q = quarter_start(date.fromordinal(first_signup))
    last_year = date.fromordinal(today).year
    while q.year <= last_year:
        nxt = add_months(q, 3)
        quarters.append((q, date.fromordinal(nxt.toordinal() - 1)))
        q = nxt
    rows: list[Row] = []
    arr = dict.fromkeys(SEGMENTS, 0)
    i = 0
    for start, end in quarters:
        at = min(start.toordinal() - 1, today)
        while i < len(events) and events[i][0] <= at:
            arr[events[i][2]] += events[i][1]
            i += 1
        if sum(arr.values()) <= 0:
            continue
        s_text, e_text = days(start.toordinal()), days(end.toordinal())
        year_step = (start.year - date.fromordinal(first_signup).year) * 0.002
        for metric, values in QUARTERLY_TARGETS.items():
            for segment, value in zip(("", *SEGMENTS), values, strict=True):
                bump = year_step if metric in ("grr", "nrr") else 0.0
                rows.append((metric, s_text, e_text, segment, f"{value + bump:.3f}"))
        seg_targets = {s: _round_to(arr[s] * EXPANSION_TARGET_SHARE[s], 1000) for s in SEGMENTS}
        rows.append(("expansion_arr", s_text, e_text, "", str(sum(seg_targets.values()))))
        for s in SEGMENTS:
            rows.append(("expansion_arr", s_text, e_text, s, str(seg_targets[s])))
    return rows


# ---------------------------------------------------------------- public API


def generate(
    directory: Path, *, customers: int = 2000, seed: int = 7, today: date | None = None
) -> dict[str, int]:
    """Write the ten DATA.md CSV files of a synthetic portfolio into ``directory``.

    Deterministic: the same ``(customers, seed, today)`` gives byte-identical files.
    ``today`` (default: the current date) is the last day of the history. Returns the
    number of rows written per table, in load order.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    day0 = (today or date.today()).toordinal()
    rng = random.Random(seed)
    days = _Days(day0 - HISTORY_DAYS - 200, day0 + 400)
    csms = _make_csms(rng, customers, day0)
    people = _make_customers(rng, customers, day0)
    for c in people:
        _simulate(rng, c, day0)
    _ensure_quarter_stages(rng, people, day0)
    _assign(rng, people, csms)
    first_signup = min(c.signup for c in people)

    directory.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(TABLES, 0)
    with contextlib.ExitStack() as stack:
        writers: dict[str, Any] = {}
        for table in TABLES:
            fh = stack.enter_context(
                (directory / f"{table}.csv").open("w", encoding="utf-8", newline="")
            )
            writers[table] = csv.writer(fh, lineterminator="\n")
            writers[table].writerow(HEADERS[table])
        w = _Writers(writers, counts, {})
        w.write_many(
            "csms",
            [
                (m.csm_id, m.name, m.email, m.segment, str(m.target_accounts),
                 str(m.target_arr), "true" if m.active else "false")
                for m in csms
            ],
        )  # fmt: skip
        w.write_many(
            "customers",
            [
                (c.customer_id, c.name, c.segment, c.csm_id, days(c.signup),
                 days(c.onboarded) if c.onboarded is not None else "", c.industry, c.region)
                for c in people
            ],
        )  # fmt: skip
        w.write_many(
            "arr_events",
            [
                (w.next_id("EV", 7), c.customer_id, days(d), kind, str(delta), etype)
                for c in people
                for d, kind, delta, etype in c.events
            ],
        )
        gen = _Generator(rng, day0, days, csms)
        for c in people:
            gen.customer(c, w)
        gen.internal_tasks(w, first_signup)
        gen.write_renewals(w)
        w.write_many("targets", _targets(people, first_signup, day0, days))
    return counts


def build_demo(
    engine: Engine,
    *,
    customers: int = 2000,
    seed: int = 7,
    today: date | None = None,
    progress: bool = False,
) -> dict[str, int]:
    """Generate the demo portfolio into a temporary folder and load it with ``load_directory``.

    Returns the rows loaded per table.
    """
    from .load import load_directory

    with tempfile.TemporaryDirectory(prefix="ecc-demo-") as tmp:
        folder = Path(tmp)
        generate(folder, customers=customers, seed=seed, today=today)
        return load_directory(engine, folder, progress=progress)
