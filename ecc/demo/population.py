"""The CSMs and customers of the demo, before their history is simulated.

The CSMs: one active CSM per 50 customers spread over the segments, with the
weights that make some books larger than others, plus the CSMs who left. The
customers: a segment, a signup day (more signups as the history goes on, and a few
in the last days), an onboarding day, a name, an industry, a region and a health
baseline.
"""

from __future__ import annotations

import math
import random

from ..config import SEGMENTS
from .draws import pick
from .names import FIRST_NAMES, INDUSTRIES, LAST_NAMES, REGIONS, company_name
from .params import (
    CSM_SHARE,
    CSM_WEIGHTS,
    CUSTOMER_SHARE,
    CUSTOMERS_PER_CSM,
    HEALTH_BASELINE,
    HISTORY_DAYS,
)
from .portfolio import Csm, Customer


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


def make_csms(rng: random.Random, n_customers: int, today: int) -> list[Csm]:
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
    csms: list[Csm] = []
    seen_emails: set[str] = set()

    def add(segment: str, active: bool, weight: float) -> Csm:
        first, last = names[len(csms)]
        email = f"{first}.{last}".lower()
        if email in seen_emails:
            email = f"{email}{len(csms) + 1}"
        seen_emails.add(email)
        csm = Csm(
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


def _signup_day(rng: random.Random, today: int) -> int:
    """A signup day with density growing linearly over the history (1 + g x)."""
    g = 1.5
    u = rng.random()
    x = (-1.0 + math.sqrt(1.0 + 2.0 * g * u * (1.0 + g / 2.0))) / g
    first = today - HISTORY_DAYS
    return first + int(x * (HISTORY_DAYS - 3))


def make_customers(rng: random.Random, n: int, today: int) -> list[Customer]:
    counts = _segment_counts(n, CUSTOMER_SHARE, 1 if n >= 3 else 0)
    segments = [s for s in SEGMENTS for _ in range(counts[s])]
    rng.shuffle(segments)
    signups = sorted(_signup_day(rng, today) for _ in range(n))
    # a few customers signed in the last days: onboarding, not scored yet
    for k in range(min(n, max(2, n // 400))):
        signups[-1 - k] = today - rng.randint(2, 12)
    signups.sort()
    seen: set[str] = set()
    out: list[Customer] = []
    onboarding_days = {"Enterprise": 60.0, "Mid-market": 30.0, "SMB": 10.0}
    for i, (segment, signup) in enumerate(zip(segments, signups, strict=True)):
        onboarded: int | None = signup + max(
            1, int(rng.lognormvariate(math.log(onboarding_days[segment]), 0.5))
        )
        if onboarded is not None and onboarded > today:
            onboarded = None
        out.append(
            Customer(
                idx=i,
                customer_id=f"C{i + 1:05d}",
                name=company_name(rng, seen),
                segment=segment,
                signup=signup,
                onboarded=onboarded,
                industry=rng.choice(INDUSTRIES),
                region=pick(rng, REGIONS),
                baseline=min(92.0, max(30.0, rng.gauss(HEALTH_BASELINE[segment], 15.0))),
            )
        )
    return out
