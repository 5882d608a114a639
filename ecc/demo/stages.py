"""Every renewal stage in the current quarter of the demo, whatever ``today`` is.

After the simulation a few renewals due this quarter are nudged: one is closed
today when none is renewed (or churned) yet, and the latest ones renewed on a
recent due date are kept open (late) when fewer than two are open, so the renewal
pages always have something to show in each stage.
"""

from __future__ import annotations

import random

from .dates import quarter_bounds
from .portfolio import Customer, Renewal


def _can_reopen(c: Customer, r: Renewal, today: int) -> bool:
    """A renewal renewed on or before today whose customer has done nothing since."""
    return (
        r.outcome == "renewed"
        and r.due <= today
        and len(c.renewals) >= 2
        and c.renewals[-2] is r
        and c.renewals[-1].due > today
        and all(day <= r.due for day, _k, _d, _t in c.events)
    )


def _reopen(c: Customer, r: Renewal) -> None:
    """Make a just-due renewal still open (late): undo its outcome and what followed."""
    c.events = [e for e in c.events if e[0] < r.due]
    c.renewals.pop()
    if c.levels and c.levels[-1][0] == r.due:
        c.levels.pop()
    r.closed = r.outcome = r.renewed_arr = None
    c.arr_today = r.arr


def _close_now(rng: random.Random, c: Customer, r: Renewal, outcome: str, today: int) -> None:
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


def ensure_quarter_stages(rng: random.Random, customers: list[Customer], today: int) -> None:
    """Nudge a few renewals so the current quarter shows every stage.

    When no renewal due this quarter is renewed (or churned) by today, the one most
    likely to be is closed today (a renewal due later is decided early); when fewer
    than two are open, the latest renewals renewed on their (recent) due date are
    kept open instead (late). Forecast statuses are balanced when they are written.
    """
    qs, qe = quarter_bounds(today)
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
