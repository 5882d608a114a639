"""The ARR ledger rules: each customer's events replayed in date order.

A :class:`Ledger` collects the events of ``arr_events.csv`` as the file streams (16
bytes an event) and, at the end of the file, sorts each customer's events by
``(event_date, line in the file)`` and replays them: ARR never goes below 0, a churn
brings it to exactly 0, ``new`` and ``reactivation`` only when ARR is 0, expansions
and contractions only while ARR is above 0. Only the first problem of a customer is
reported.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Final

from ..config import EVENT_KINDS


def _money(cents: int) -> str:
    """Cents as a decimal with 2 places, for messages."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


_KIND_CODE: Final = {kind: code for code, kind in enumerate(EVENT_KINDS)}
_NEW, _EXPANSION, _CONTRACTION, _CHURN, _REACTIVATION = (
    _KIND_CODE[k] for k in ("new", "expansion", "contraction", "churn", "reactivation")
)
_LINE_BITS = 40


class Ledger:
    """The ARR ledger rules, checked per customer in (event_date, file line) order.

    :meth:`add` keeps each event as two int64 (16 bytes); :meth:`check` sorts each
    customer's events and replays them, reporting the first violation per customer.
    """

    def __init__(self) -> None:
        self._events: dict[str, array[int]] = {}
        self._skipped: set[str] = set()

    def add(self, customer_id: str, day: date, line: int, kind: str, delta: Decimal) -> None:
        if customer_id in self._skipped:
            return
        events = self._events.get(customer_id)
        if events is None:
            events = self._events[customer_id] = array("q")
        events.append(((day.toordinal() << _LINE_BITS | line) << 3) | _KIND_CODE[kind])
        events.append(int(delta * 100))

    def skip(self, customer_id: str) -> None:
        """Do not replay this customer (one of its rows has a ledger-column problem)."""
        self._skipped.add(customer_id)
        self._events.pop(customer_id, None)

    def check(self, report: Callable[[int, str, str], None]) -> None:
        """Replay every customer; ``report(line, column, message)`` for each first problem."""
        for events in self._events.values():
            keys = events[0::2]
            cents = events[1::2]
            order = sorted(range(len(keys)), key=keys.__getitem__)
            _replay(((keys[i], cents[i]) for i in order), report)
        self._events.clear()


def _replay(events: Iterable[tuple[int, int]], report: Callable[[int, str, str], None]) -> None:
    """One customer's events in order; stop at the first problem."""
    arr = 0
    had_arr = False
    last_churn: date | None = None
    for packed, delta in events:
        kind = packed & 7
        line = (packed >> 3) & ((1 << _LINE_BITS) - 1)
        day = date.fromordinal(packed >> (_LINE_BITS + 3))
        name = EVENT_KINDS[kind]
        after = arr + delta
        problem: tuple[str, str] | None = None
        if kind == _NEW and arr != 0:
            problem = (
                "kind",
                f"new only when ARR is 0 (ARR before this event is {_money(arr)}); use kind "
                "expansion to add ARR to an active customer",
            )
        elif kind == _NEW and had_arr:
            problem = (
                "kind",
                f"new only for a customer that never had ARR (it churned on {last_churn}); "
                "use kind reactivation for a customer coming back",
            )
        elif kind == _REACTIVATION and arr != 0:
            problem = (
                "kind",
                f"reactivation only when ARR is 0 (ARR before this event is {_money(arr)}); "
                "use kind expansion to add ARR to an active customer",
            )
        elif kind == _REACTIVATION and last_churn is None:
            problem = (
                "kind",
                f"reactivation only after an earlier churn (this customer has no churn "
                f"before {day}); use kind new for a first contract",
            )
        elif kind in (_EXPANSION, _CONTRACTION) and arr == 0:
            problem = (
                "kind",
                f"{name} while ARR is 0 (the customer has no ARR before this event); use "
                "kind new for a first contract or reactivation after a churn, or date "
                "this event later",
            )
        elif kind == _CHURN and arr == 0:
            problem = (
                "kind",
                "churn while ARR is already 0 (nothing to churn); remove this event or date "
                "it after the event that gave the customer ARR",
            )
        elif kind == _CHURN and after != 0:
            problem = (
                "arr_delta",
                f"churn must bring ARR to exactly 0 (ARR before this event is {_money(arr)}, "
                f"so arr_delta must be {_money(-arr)})",
            )
        elif kind == _CONTRACTION and after < 0:
            problem = (
                "arr_delta",
                f"contraction would take ARR below 0 (ARR before this event is "
                f"{_money(arr)}, arr_delta {_money(delta)}); a contraction removes less than "
                f"the current ARR: use kind churn with arr_delta {_money(-arr)} when the "
                "customer leaves",
            )
        elif kind == _CONTRACTION and after == 0:
            problem = (
                "kind",
                f"contraction brings ARR to exactly 0 (ARR before this event is "
                f"{_money(arr)}); a drop to 0 is a churn: use kind churn",
            )
        if problem is not None:
            report(line, *problem)
            return
        arr = after
        had_arr = had_arr or arr > 0
        if kind == _CHURN:
            last_churn = day
