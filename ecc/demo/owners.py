"""The owners of the demo's customers and the CSMs' capacity targets.

Once every customer's history is known, the active customers of a segment go to its
active CSMs (largest ARR first, each to the CSM whose book stays closest to its
weight times the segment's unit book), churned ones at random by weight, and some
older customers to the CSMs who left. Every CSM of a segment gets the unit book as
targets.
"""

from __future__ import annotations

import random

from ..config import SEGMENTS
from .draws import round_to
from .portfolio import Csm, Customer


def assign(rng: random.Random, customers: list[Customer], csms: list[Csm]) -> None:
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
            m.target_arr = round_to(unit_arr, arr_unit)
        for m in csms:
            if m.segment == segment and not m.active:
                m.target_accounts = max(1, round(unit_n))
                m.target_arr = round_to(unit_arr, arr_unit)
                left = m.left_on if m.left_on is not None else 0
                former = [c for c in members if c.signup < left]
                for c in rng.sample(former, min(len(former), max(1, round(unit_n * 1.2)))):
                    c.former_csm = m.csm_id
                    c.former_until = left
