"""The records of the simulated portfolio: CSMs, customers and their renewals.

These mutable records carry what the simulation decides about each CSM (segment,
weights, when they left, targets) and each customer (segment, dates, the ARR
events, active intervals, health levels and dips, renewals and owners), until the
rows of the CSV files are written from them. Days are date ordinals.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Csm:
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
class Renewal:
    due: int
    arr: int
    truth: str  # churn | down | up | flat: what happens at the due date
    new_arr: int  # the ARR after the due date when that happens
    closed: int | None  # None: open at today
    renewed_arr: int | None
    outcome: str | None


@dataclass(slots=True)
class Customer:
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
    renewals: list[Renewal] = field(default_factory=list)
    arr_today: int = 0
    csm_id: str = ""
    former_csm: str = ""  # a CSM who left, owner before ``former_until``
    former_until: int = 0
