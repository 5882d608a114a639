"""The row rules of the DATA.md source CSVs: checks that span the columns of one row.

Each ``check_*`` function looks at the parsed values of one row (a cell that failed
its own check is :data:`~ecc.validate.cells.BAD` and is skipped, so one mistake is
reported once) and reports each broken rule through ``emit(column, message)``:
the sign of ``arr_delta`` against ``kind``, outcome and closing date together, dates
that cannot come before others, and what only some kinds of activity may have.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..config import EXPANSION_TYPES, RENEWAL_OUTCOMES
from .cells import BAD

Emit = Callable[[str, str], None]
"""emit(column, message): report a problem on the current row."""


def check_customer(v: dict[str, Any], emit: Emit) -> None:
    signup, onboarded = v["signup_date"], v["onboarded_on"]
    if isinstance(signup, date) and isinstance(onboarded, date) and onboarded < signup:
        emit(
            "onboarded_on",
            f"onboarded_on {onboarded} is before signup_date {signup}; go-live cannot "
            "precede the contract start: correct one of the dates",
        )


_POSITIVE_KINDS = frozenset({"new", "expansion", "reactivation"})


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def sign_ok(kind: str, delta: Decimal) -> bool:
    return delta > 0 if kind in _POSITIVE_KINDS else delta < 0


def check_arr_event(v: dict[str, Any], emit: Emit) -> None:
    kind, delta, etype = v["kind"], v["arr_delta"], v["expansion_type"]
    if isinstance(kind, str) and isinstance(delta, Decimal) and not sign_ok(kind, delta):
        if kind in _POSITIVE_KINDS:
            emit(
                "arr_delta",
                f"{_a(kind)} {kind} event adds ARR, so arr_delta must be greater than 0 (it is "
                f"{delta}); ARR that goes down is a contraction or a churn",
            )
        else:
            example = f"-{delta}" if delta > 0 else "-1200.00"
            emit(
                "arr_delta",
                f"a {kind} event removes ARR, so arr_delta must be less than 0 (it is "
                f"{delta}); write the ARR removed as a negative number, e.g. {example}",
            )
    if kind is BAD or etype is BAD:
        return
    if kind == "expansion" and etype is None:
        emit(
            "expansion_type",
            "expansion_type is empty but kind is expansion; use one of "
            f"{', '.join(EXPANSION_TYPES)}",
        )
    elif kind != "expansion" and etype is not None:
        emit(
            "expansion_type",
            f"expansion_type must be empty when kind is {kind} (it is {etype!r}); only "
            "expansion events have a type",
        )


def _check_closed(v: dict[str, Any], emit: Emit, what: str, outcomes: tuple[str, ...]) -> None:
    outcome, closed = v["outcome"], v["closed_on"]
    if outcome is BAD or closed is BAD:
        return
    if outcome is not None and closed is None:
        emit(
            "closed_on",
            f"closed_on is empty but outcome is {outcome}; give the date the {what} closed, "
            f"or leave outcome empty while the {what} is open",
        )
    elif outcome is None and closed is not None:
        emit(
            "outcome",
            f"outcome is empty but closed_on is {closed}; give the outcome "
            f"({' or '.join(outcomes)}), or leave closed_on empty while the {what} is open",
        )


def _check_not_before(v: dict[str, Any], emit: Emit, later: str, earlier: str, why: str) -> None:
    a, b = v[later], v[earlier]
    if isinstance(a, date) and isinstance(b, date) and a < b:
        emit(later, f"{later} {a} is before {earlier} {b}; {why}: correct one of them")


def check_renewal(v: dict[str, Any], emit: Emit) -> None:
    _check_closed(v, emit, "renewal", RENEWAL_OUTCOMES)
    if v["outcome"] == "renewed" and v["renewed_arr"] is None:
        emit(
            "renewed_arr",
            "renewed_arr is empty but outcome is renewed; give the ARR signed at renewal",
        )


def check_opportunity(v: dict[str, Any], emit: Emit) -> None:
    _check_closed(v, emit, "opportunity", ("won", "lost"))
    _check_not_before(
        v, emit, "closed_on", "created_on", "an opportunity cannot close before it is created"
    )


def check_save_play(v: dict[str, Any], emit: Emit) -> None:
    _check_closed(v, emit, "save play", ("saved", "lost"))
    _check_not_before(
        v, emit, "closed_on", "opened_on", "a save play cannot close before it is opened"
    )


def check_activity(v: dict[str, Any], emit: Emit) -> None:
    kind = v["kind"]
    if not isinstance(kind, str) or kind == "task":
        return
    if v["completed"] is False:
        emit(
            "completed",
            f"completed is false but kind is {kind}; only tasks can be not completed: "
            "write true (or use kind task)",
        )
    hours = v["response_hours"]
    if kind != "email" and isinstance(hours, float):
        emit(
            "response_hours",
            f"response_hours is set on a {kind}; it measures email replies only: leave it "
            "empty (or use kind email)",
        )


def check_ticket(v: dict[str, Any], emit: Emit) -> None:
    opened = v["opened_at"]
    if not isinstance(opened, datetime):
        return
    for name in ("first_response_at", "resolved_at"):
        at = v[name]
        if isinstance(at, datetime) and at < opened:
            emit(
                name,
                f"{name} {at.isoformat()} is before opened_at {opened.isoformat()} (UTC); "
                "correct one of them",
            )


def check_target(v: dict[str, Any], emit: Emit) -> None:
    _check_not_before(
        v, emit, "period_end", "period_start", "a target's period ends on or after its start"
    )
