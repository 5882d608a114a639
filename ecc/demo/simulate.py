"""The history of one demo customer: its ARR ledger, renewals and health levels.

Contract year after contract year from the signup until ``today``: mid-term
expansions and contractions, then the renewal at the due date (churn, down, up or
flat, the chance of churn rising as the year's health level falls), its closing
date, a possible reactivation after a churn, and the dips in health before a churn
or a contraction.
"""

from __future__ import annotations

import math
import random

from .dates import anniversary
from .draws import pick, poisson, round_to, unit_for
from .params import (
    CHURN_BASE,
    INITIAL_ARR,
    MIDTERM_CONTRACTION,
    MIDTERM_EXPANSIONS,
    REACTIVATION,
    RENEWAL_CONTRACTION,
    RENEWAL_UPLIFT,
)
from .portfolio import Customer, Renewal


def _initial_arr(rng: random.Random, segment: str) -> int:
    median, sd, lo, hi, unit = INITIAL_ARR[segment]
    x = rng.lognormvariate(math.log(median), sd)
    return round_to(min(hi, max(lo, x)), unit)


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


def simulate(rng: random.Random, c: Customer, today: int) -> None:
    """The customer's ledger, renewals, active intervals and health levels up to today."""
    seg = c.segment
    unit = unit_for(seg)
    arr = _initial_arr(rng, seg)
    c.events.append((c.signup, "new", arr, ""))
    start = c.signup  # start of the current contract cycle
    prev = start  # start of the current contract year
    k = 1
    while True:
        due = anniversary(start, k)
        level = min(95.0, max(20.0, c.baseline + rng.gauss(0.0, 7.0)))
        c.levels.append((prev, level))
        if rng.random() < 0.25:  # a temporary dip that recovers
            mid = rng.randint(prev + 40, due - 40)
            c.marks.append((mid - 35, mid, mid + 60, rng.uniform(12.0, 32.0)))
        # mid-term movements
        moves: list[tuple[int, str]] = []
        for _ in range(poisson(rng, MIDTERM_EXPANSIONS[seg])):
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
                etype = pick(rng, (("upsell", 0.55), ("cross_sell", 0.33), ("upgrade", 0.12)))
                delta = round_to(arr * rng.uniform(0.08, 0.35), unit)
                c.events.append((day, "expansion", delta, etype))
                arr += delta
            else:
                delta = min(arr - unit, round_to(arr * rng.uniform(0.1, 0.3), unit))
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
            cut = round_to(arr * rng.uniform(0.1, 0.4), unit)
            truth, new_arr = "down", max(unit, arr - cut)
        elif u < p_churn + RENEWAL_CONTRACTION[seg] + RENEWAL_UPLIFT:
            truth, new_arr = "up", arr + round_to(arr * rng.uniform(0.03, 0.25), unit)
        else:
            truth, new_arr = "flat", arr
        if truth == "churn" and rng.random() < 0.8:
            c.marks.append((due - rng.randint(90, 200), due, due, rng.uniform(18.0, 32.0)))
        elif truth == "down":
            c.marks.append((due - rng.randint(60, 120), due, due + 45, rng.uniform(6.0, 14.0)))
        closed = due + _closing_offset(rng, truth == "churn")
        if closed > today:  # open at today (late when due <= today)
            c.renewals.append(Renewal(due, arr, truth, new_arr, None, None, None))
            c.intervals.append((start, today + 1))
            break
        outcome = "churned" if truth == "churn" else "renewed"
        c.renewals.append(
            Renewal(
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
                arr = round_to(arr * rng.uniform(0.5, 1.0), unit)
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
