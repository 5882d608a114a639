"""The state of a summary tile: green, amber or red, in words and a mark as well as colour.

- Against a target: a rate at or above its target is on target, within 2 points below
  it near target, further below behind; money (pro-rated to the period) at or above its
  target on target, at 90 % or more near, below that behind.
- Without a target, against the comparison: better by more than 0.5 % of the earlier
  value is improving, worse by more than that worsening, else steady; no comparison, no
  state.
- Counts: open alerts are clear with none, to review with high ones only, need attention
  with any critical one; CSMs over capacity are clear with none, a few (at most 10 % of
  the team) to review, more need attention.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How far below a rate target is still near it (2 points), and below a money target (90 %).
NEAR_RATE = 0.02
NEAR_MONEY = 0.9
#: A change smaller than this share of the earlier value is steady.
STEADY = 0.005
#: More CSMs over capacity than this share of the team need attention.
CAPACITY_SHARE = 0.1


@dataclass(frozen=True)
class State:
    tone: str  # good | warn | bad | "" (no state)
    mark: str  # ✓ ! ✕ ■, or a dash without a state: readable without colour
    words: str

    @staticmethod
    def none(words: str = "no comparison") -> State:
        return State("", "–", words)


GOOD, WARN, BAD = "good", "warn", "bad"
MARKS = {GOOD: "✓", WARN: "!", BAD: "✕"}


def _state(tone: str, words: str) -> State:
    return State(tone, MARKS[tone], words)


def against_target(value: float | None, target: float | None, unit: str) -> State | None:
    """The state against a target; None when there is no value or no target."""
    if value is None or target is None:
        return None
    if unit == "money":
        if target <= 0:
            return _state(GOOD, "on target") if value >= target else _state(BAD, "behind target")
        share = value / target
        near = share >= NEAR_MONEY
    else:
        share = 1.0 if value >= target else 0.0
        near = value >= target - NEAR_RATE
    if share >= 1.0:
        return _state(GOOD, "on target")
    return _state(WARN, "near target") if near else _state(BAD, "behind target")


def against_comparison(value: float | None, before: float | None, *, good: str) -> State:
    """The state against the comparison value (``good``: "up" or "down" is better)."""
    if value is None or before is None:
        return State.none()
    change = value - before
    if abs(change) <= STEADY * abs(before):
        return State("", "■", "steady")
    better = (change > 0) == (good == "up")
    return _state(GOOD, "improving") if better else _state(BAD, "worsening")


def alerts_state(critical: int, high: int) -> State:
    """Open alerts: none clear, high ones only to review, any critical one needs attention."""
    if critical:
        return _state(BAD, "needs attention")
    return _state(WARN, "to review") if high else _state(GOOD, "all clear")


def capacity_state(over: int, team: int) -> State:
    """CSMs over capacity among ``team`` active CSMs."""
    if over == 0:
        return _state(GOOD, "all clear")
    if team and over / team <= CAPACITY_SHARE:
        return _state(WARN, "to review")
    return _state(BAD, "needs attention")
