"""The demo's quarterly targets, for the portfolio and each segment.

From the first quarter that starts with ARR through the end of ``today``'s year:
grr, nrr, renewal_rate and expansion_win_rate as fixed quarterly rates (grr and nrr
rising a little each year), and expansion_arr as a share of each segment's ARR at
the quarter start, the portfolio's row being the sum of the segments'.
"""

from __future__ import annotations

from datetime import date

from ..config import SEGMENTS
from ..periods import add_months, quarter_start
from .csv_out import Row
from .dates import Days
from .draws import round_to
from .params import EXPANSION_TARGET_SHARE, QUARTERLY_TARGETS
from .portfolio import Customer


def targets(customers: list[Customer], first_signup: int, today: int, days: Days) -> list[Row]:
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
        seg_targets = {s: round_to(arr[s] * EXPANSION_TARGET_SHARE[s], 1000) for s in SEGMENTS}
        rows.append(("expansion_arr", s_text, e_text, "", str(sum(seg_targets.values()))))
        for s in SEGMENTS:
            rows.append(("expansion_arr", s_text, e_text, s, str(seg_targets[s])))
    return rows
