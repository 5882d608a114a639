"""Validation of the DATA.md source CSVs: every rule, one row at a time, in one pass.

:mod:`ecc.load` streams the files and feeds each row to a :class:`TableValidator`;
this module knows what a valid row is and says, for every problem, what is wrong and
how to fix it. Nothing here touches the database.

What is checked
    * types: dates ``YYYY-MM-DD``; timestamps ISO 8601 (``2026-03-01T14:05:00``,
      ``T`` or a space between date and time, optional seconds and fraction, optional
      ``Z`` or ``+hh:mm`` offset; an offset is converted to UTC, no offset means UTC;
      stored as naive UTC); money: a decimal with at most 2 places, below 10^12;
      ints; numbers (``2.5``, ``1e3``; not NaN or infinity); booleans exactly
      ``true`` / ``false``; ids at most 64 characters; enumerations spelled exactly.
    * NULLs: an empty cell is NULL; a column that is not NULL in DATA.md must be filled.
    * ranges: ``target_accounts`` > 0, ``target_arr`` > 0, ``score`` in 0..100 with at
      most 2 places (the database stores 2), ``renewals.arr`` > 0, ``amount`` > 0,
      ``response_hours`` >= 0, ``targets.value`` at most 6 places (the database stores 6).
    * keys: primary keys unique; ``(customer_id, scored_on)`` for health scores and
      ``(metric, period_start, period_end, segment)`` for targets.
    * foreign keys: must name a row of the parent file (parents load first).
    * row rules of DATA.md: the sign of ``arr_delta`` matches ``kind``;
      ``expansion_type`` is set exactly when ``kind = expansion``; ``closed_on`` is set
      exactly when ``outcome`` is; ``renewed_arr`` is set when ``outcome = renewed``;
      ``period_end >= period_start``; a target's ``segment`` is a segment or empty;
      ``completed`` is ``true`` for every activity that is not a task.
    * row rules implied by DATA.md's meanings (reported like the others):
      ``closed_on`` not before ``created_on`` (opportunities) / ``opened_on`` (save
      plays); ``first_response_at`` and ``resolved_at`` not before ``opened_at``;
      ``onboarded_on`` not before ``signup_date``; ``response_hours`` only on emails;
      ``renewed_arr`` > 0; a CSM's ``email`` looks like ``name@host``.
    * the ARR ledger (:class:`Ledger`): ARR_c = running sum of ``arr_delta`` never
      goes below 0; ``churn`` brings it to exactly 0; ``new`` only when ARR is 0 and
      the customer never had ARR; ``reactivation`` only when ARR is 0 after an earlier
      churn; ``expansion`` and ``contraction`` only while ARR > 0, and a contraction
      leaves ARR > 0 (a drop to 0 is a churn; without this, "new" and "reactivation"
      could be bypassed and churned ARR would hide among contractions).

Ledger order and memory
    A customer's events are checked in ``(event_date, line in the file)`` order: the
    file need not be sorted, and events on the same date apply in file order. While
    the file streams, each event is kept as two 64-bit integers in a per-customer
    ``array('q')`` (date, line and kind packed in one, the delta in cents in the
    other): 16 bytes an event, so a million events cost about 16 MB. At the end of the
    file each customer's events are sorted and replayed. Only the first ledger problem
    of a customer is reported (later events would be judged against a balance that
    is already wrong), and a customer with a problem in the ledger columns of one of
    its own rows (date, kind, delta or its sign) is not replayed at all.

Keys and memory
    Primary keys of text ids are kept in a ``set`` of the id strings (parent id sets
    double as the foreign-key lookups). Health-score keys keep, per customer, a bitmap
    of the days seen (about 46 bytes per customer-year instead of ~80 bytes per row).
    A duplicate reports the line of the first occurrence, found by re-reading the
    file's key columns only when duplicates exist.

Problems are located as ``file:line:column``; line numbers are physical lines of the
file (the header is line 1; a quoted value spanning lines counts them all). A problem
about a whole row uses the column ``-``.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from math import isfinite
from operator import attrgetter, itemgetter
from typing import Any, Final

from .config import (
    ACTIVITY_KINDS,
    EVENT_KINDS,
    EXPANSION_TYPES,
    FORECAST_STATUSES,
    OPPORTUNITY_STAGES,
    RENEWAL_OUTCOMES,
    SEGMENTS,
    TARGET_METRICS,
    TICKET_PRIORITIES,
)
from .errors import Problem

__all__ = [
    "BAD",
    "SPECS",
    "Field",
    "Invalid",
    "Ledger",
    "ProblemSink",
    "TableSpec",
    "TableValidator",
    "read_header",
]


class _Bad:
    """The value of a cell that failed its check (distinct from NULL)."""

    def __repr__(self) -> str:
        return "BAD"


#: Marks a value that failed validation; checks that need it are skipped (no cascades).
BAD: Final = _Bad()


class Invalid(Exception):
    """A cell's value is wrong; ``message`` says what is wrong and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Parser = Callable[[str], Any]
Emit = Callable[[str, str], None]
"""emit(column, message): report a problem on the current row."""


# ---------------------------------------------------------------- cell parsers

_MONEY_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]{1,2})?")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_RE = re.compile(r"[+-]?[0-9]+")
_TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+")
_MONEY_LIMIT = Decimal(10) ** 12  # numeric(14, 2)
_NUMBER_LIMIT = 1e12  # numeric(18, 6)
_INT_MAX = 2**31 - 1
_ID_MAX = 64
_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")

_DATE_FIX = "write dates as YYYY-MM-DD (e.g. 2026-03-01)"
_TIMESTAMP_FIX = (
    "write an ISO 8601 timestamp such as 2026-03-01T14:05:00 (taken as UTC) "
    "or 2026-03-01T16:05:00+02:00"
)


def parse_date(cell: str) -> date:
    """``YYYY-MM-DD`` exactly (no other ISO 8601 date forms)."""
    if len(cell) == 10 and cell[4] == "-" and cell[7] == "-":
        try:
            return date.fromisoformat(cell)
        except ValueError as exc:
            if cell[:4].isdigit() and cell[5:7].isdigit() and cell[8:].isdigit():
                raise Invalid(f"{cell!r} is not a calendar date ({exc}); {_DATE_FIX}") from None
    raise Invalid(f"{cell!r} is not a date; {_DATE_FIX}")


def parse_timestamp(cell: str) -> datetime:
    """ISO 8601 with a time; an offset is converted to UTC; the result is naive UTC."""
    if _TIMESTAMP_RE.fullmatch(cell):
        try:
            value = datetime.fromisoformat(cell)
        except ValueError as exc:
            raise Invalid(f"{cell!r} is not a real time ({exc}); {_TIMESTAMP_FIX}") from None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if len(cell) == 10 and cell[4] == "-":
        raise Invalid(
            f"{cell!r} is a date without a time; add the time, e.g. {cell}T00:00:00 (UTC)"
        )
    raise Invalid(f"{cell!r} is not a timestamp; {_TIMESTAMP_FIX}")


def _decimal_problem(cell: str, places: int, what: str, limit: Decimal) -> Invalid:
    """Why ``cell`` is not a decimal with at most ``places`` places (the slow path)."""
    if _DECIMAL_RE.fullmatch(cell):
        value = Decimal(cell)
        if abs(value) >= limit:
            return Invalid(f"{cell!r} is too large; {what} must be below {limit:,.0f}")
        quantum = Decimal(1).scaleb(-places)
        return Invalid(
            f"{cell!r} has more than {places} decimal places; round it to {places} "
            f"({value.quantize(quantum)})"
        )
    return Invalid(
        f"{cell!r} is not a decimal number; write digits with a point for decimals, "
        "e.g. 1200.50 (no currency symbol, no thousands separator)"
    )


def parse_money(cell: str) -> Decimal:
    """A decimal with at most 2 places, below 10^12 in absolute value."""
    if _MONEY_RE.fullmatch(cell):
        value = Decimal(cell)
        if abs(value) < _MONEY_LIMIT:
            return value
    raise _decimal_problem(cell, 2, "money", _MONEY_LIMIT)


def parse_positive_money(column: str, fix: str) -> Parser:
    """Money > 0; ``fix`` completes the message when it is not."""

    def parse(cell: str) -> Decimal:
        value = parse_money(cell)
        if value <= 0:
            raise Invalid(f"{column} must be greater than 0 (it is {cell}); {fix}")
        return value

    return parse


def parse_score(cell: str) -> Decimal:
    """A number in 0..100 with at most 2 decimal places (the database keeps 2)."""
    if _MONEY_RE.fullmatch(cell):
        value = Decimal(cell)
        if 0 <= value <= 100:
            return value
        raise Invalid(f"score {cell} is outside 0..100; health scores run from 0 to 100")
    if _DECIMAL_RE.fullmatch(cell):
        value = Decimal(cell)
        if 0 <= value <= 100:
            raise Invalid(
                f"{cell!r} has more than 2 decimal places, and the database stores scores "
                f"with 2; round it to {value.quantize(_CENT)}"
            )
        raise Invalid(f"score {cell} is outside 0..100; health scores run from 0 to 100")
    raise Invalid(f"{cell!r} is not a number; write the score as a number from 0 to 100, e.g. 72.5")


def parse_positive_int(column: str, fix: str) -> Parser:
    """A whole number > 0 (and within a 32-bit integer)."""

    def parse(cell: str) -> int:
        if not _INT_RE.fullmatch(cell):
            raise Invalid(f"{cell!r} is not a whole number; write digits only, e.g. 40")
        value = int(cell)
        if value <= 0:
            raise Invalid(f"{column} must be greater than 0 (it is {cell}); {fix}")
        if value > _INT_MAX:
            raise Invalid(f"{cell} is too large; the largest allowed is {_INT_MAX}")
        return value

    return parse


def parse_number(cell: str) -> float:
    """A finite number, ``2.5`` or ``1e3``; below 10^12 in absolute value."""
    if _NUMBER_RE.fullmatch(cell):
        value = float(cell)
        if isfinite(value) and abs(value) < _NUMBER_LIMIT:
            return value
        raise Invalid(f"{cell!r} is too large; numbers must be below {_NUMBER_LIMIT:,.0f}")
    raise Invalid(f"{cell!r} is not a number; write e.g. 2.5 (a point for decimals)")


def parse_target_value(cell: str) -> float:
    """A number with at most 6 decimal places (the database keeps 6)."""
    value = parse_number(cell)
    if "." in cell and "e" not in cell.lower():
        places = len(cell.split(".", 1)[1])
        if places > 6:
            raise Invalid(
                f"{cell!r} has more than 6 decimal places, and the database stores targets "
                f"with 6; round it to {Decimal(cell).quantize(_MICRO)}"
            )
    return value


def parse_nonnegative_number(column: str, fix: str) -> Parser:
    """A number >= 0."""

    def parse(cell: str) -> float:
        value = parse_number(cell)
        if value < 0:
            raise Invalid(f"{column} must not be negative (it is {cell}); {fix}")
        return value

    return parse


def parse_bool(cell: str) -> bool:
    """Exactly ``true`` or ``false``."""
    if cell == "true":
        return True
    if cell == "false":
        return False
    raise Invalid(f"{cell!r} is not a boolean; write true or false (lower case)")


def parse_text(cell: str) -> str:
    return cell


def parse_id(cell: str) -> str:
    """Opaque text of at most 64 characters (the column width)."""
    if len(cell) > _ID_MAX:
        raise Invalid(
            f"this id is {len(cell)} characters long; ids have at most {_ID_MAX} characters"
        )
    return cell


def parse_email(cell: str) -> str:
    if _EMAIL_RE.fullmatch(cell):
        return cell
    raise Invalid(f"{cell!r} is not an email address; write an address like name@example.com")


def _fold(text: str) -> str:
    return text.strip().casefold().replace("-", "_").replace(" ", "_")


def parse_enum(column: str, choices: tuple[str, ...], otherwise: str = "") -> Parser:
    """One of ``choices``, spelled exactly; suggests the intended spelling when close."""
    allowed = frozenset(choices)
    folded = {_fold(c): c for c in choices}
    listing = ", ".join(choices)

    def parse(cell: str) -> str:
        if cell in allowed:
            return cell
        guess = folded.get(_fold(cell))
        hint = f" (did you mean {guess!r}?)" if guess is not None else ""
        raise Invalid(
            f"{cell!r} is not a valid {column}; use one of {listing}, spelled exactly"
            f"{otherwise}{hint}"
        )

    return parse


# ---------------------------------------------------------------- table specs


@dataclass(frozen=True, slots=True)
class Field:
    """One column of a source CSV.

    ``required``: not NULL (an empty cell is a problem) and the header must have it;
    a nullable column may be left out of the header (all NULL). ``hint`` completes
    "is empty but required; write ...". ``ref`` names the parent table of a foreign key.
    """

    name: str
    parse: Parser
    required: bool
    hint: str
    ref: str | None = None


RowCheck = Callable[[dict[str, Any], Emit], None]


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A source table: its file, columns, key and the rules that span columns."""

    table: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    check: RowCheck | None = None

    @property
    def file(self) -> str:
        return f"{self.table}.csv"

    @property
    def key_column(self) -> str:
        """The column a duplicate key is reported on (the date for health scores)."""
        return "scored_on" if self.table == "health_scores" else self.key[0]


def _id(name: str, what: str) -> Field:
    return Field(name, parse_id, True, f"the {what}'s id (at most {_ID_MAX} characters)")


def _fk(name: str, parent: str, *, required: bool = True) -> Field:
    return Field(name, parse_id, required, f"the {name} of a row of {parent}.csv", ref=parent)


def _date(name: str, what: str, *, required: bool = True) -> Field:
    return Field(name, parse_date, required, f"{what} as YYYY-MM-DD (e.g. 2026-03-01)")


def _enum(name: str, choices: tuple[str, ...], *, required: bool = True) -> Field:
    return Field(name, parse_enum(name, choices), required, f"one of {', '.join(choices)}")


def _money(cents: int) -> str:
    """Cents as a decimal with 2 places, for messages."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


def _check_customer(v: dict[str, Any], emit: Emit) -> None:
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


def _sign_ok(kind: str, delta: Decimal) -> bool:
    return delta > 0 if kind in _POSITIVE_KINDS else delta < 0


def _check_arr_event(v: dict[str, Any], emit: Emit) -> None:
    kind, delta, etype = v["kind"], v["arr_delta"], v["expansion_type"]
    if isinstance(kind, str) and isinstance(delta, Decimal) and not _sign_ok(kind, delta):
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


def _check_renewal(v: dict[str, Any], emit: Emit) -> None:
    _check_closed(v, emit, "renewal", RENEWAL_OUTCOMES)
    if v["outcome"] == "renewed" and v["renewed_arr"] is None:
        emit(
            "renewed_arr",
            "renewed_arr is empty but outcome is renewed; give the ARR signed at renewal",
        )


def _check_opportunity(v: dict[str, Any], emit: Emit) -> None:
    _check_closed(v, emit, "opportunity", ("won", "lost"))
    _check_not_before(
        v, emit, "closed_on", "created_on", "an opportunity cannot close before it is created"
    )


def _check_save_play(v: dict[str, Any], emit: Emit) -> None:
    _check_closed(v, emit, "save play", ("saved", "lost"))
    _check_not_before(
        v, emit, "closed_on", "opened_on", "a save play cannot close before it is opened"
    )


def _check_activity(v: dict[str, Any], emit: Emit) -> None:
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


def _check_ticket(v: dict[str, Any], emit: Emit) -> None:
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


def _check_target(v: dict[str, Any], emit: Emit) -> None:
    _check_not_before(
        v, emit, "period_end", "period_start", "a target's period ends on or after its start"
    )


_SEGMENT_HINT = f"one of {', '.join(SEGMENTS)}"

#: The source tables in load order (parents first), as in ``ecc.schema.SOURCE_TABLES``.
SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        "csms",
        (
            _id("csm_id", "CSM"),
            Field("name", parse_text, True, "the CSM's display name"),
            Field("email", parse_email, True, "the CSM's email address"),
            _enum("segment", SEGMENTS),
            Field(
                "target_accounts",
                parse_positive_int(
                    "target_accounts", "give the ideal number of accounts in the book"
                ),
                True,
                "a whole number greater than 0",
            ),
            Field(
                "target_arr",
                parse_positive_money("target_arr", "give the ideal ARR of the book"),
                True,
                "a decimal greater than 0",
            ),
            Field("active", parse_bool, True, "true or false"),
        ),
        key=("csm_id",),
    ),
    TableSpec(
        "customers",
        (
            _id("customer_id", "customer"),
            Field("name", parse_text, True, "the customer's name"),
            _enum("segment", SEGMENTS),
            _fk("csm_id", "csms"),
            _date("signup_date", "the contract start date"),
            _date("onboarded_on", "the go-live date", required=False),
            Field("industry", parse_text, False, ""),
            Field("region", parse_text, False, ""),
        ),
        key=("customer_id",),
        check=_check_customer,
    ),
    TableSpec(
        "arr_events",
        (
            _id("event_id", "event"),
            _fk("customer_id", "customers"),
            _date("event_date", "the effective date"),
            _enum("kind", EVENT_KINDS),
            Field("arr_delta", parse_money, True, "the signed ARR change, e.g. 1200.00"),
            _enum("expansion_type", EXPANSION_TYPES, required=False),
        ),
        key=("event_id",),
        check=_check_arr_event,
    ),
    TableSpec(
        "health_scores",
        (
            _fk("customer_id", "customers"),
            _date("scored_on", "the scoring date"),
            Field("score", parse_score, True, "a number from 0 to 100"),
        ),
        key=("customer_id", "scored_on"),
    ),
    TableSpec(
        "renewals",
        (
            _id("renewal_id", "renewal"),
            _fk("customer_id", "customers"),
            _date("due_on", "the renewal date"),
            Field(
                "arr",
                parse_positive_money("arr", "give the ARR up for renewal"),
                True,
                "the ARR up for renewal, greater than 0",
            ),
            _enum("forecast_status", FORECAST_STATUSES),
            _enum("outcome", RENEWAL_OUTCOMES, required=False),
            _date("closed_on", "the closing date", required=False),
            Field(
                "renewed_arr",
                parse_positive_money(
                    "renewed_arr",
                    "give the ARR signed at renewal (a renewal that keeps "
                    "no ARR has outcome churned)",
                ),
                False,
                "",
            ),
        ),
        key=("renewal_id",),
        check=_check_renewal,
    ),
    TableSpec(
        "expansion_opportunities",
        (
            _id("opportunity_id", "opportunity"),
            _fk("customer_id", "customers"),
            _enum("type", EXPANSION_TYPES),
            _enum("stage", OPPORTUNITY_STAGES),
            Field(
                "amount",
                parse_positive_money("amount", "give the ARR the opportunity adds"),
                True,
                "the ARR the opportunity adds, greater than 0",
            ),
            _date("created_on", "the creation date"),
            _date("expected_close_on", "the expected close date"),
            _enum("outcome", ("won", "lost"), required=False),
            _date("closed_on", "the closing date", required=False),
        ),
        key=("opportunity_id",),
        check=_check_opportunity,
    ),
    TableSpec(
        "save_plays",
        (
            _id("play_id", "save play"),
            _fk("customer_id", "customers"),
            _fk("csm_id", "csms"),
            _date("opened_on", "the opening date"),
            _enum("outcome", ("saved", "lost"), required=False),
            _date("closed_on", "the closing date", required=False),
        ),
        key=("play_id",),
        check=_check_save_play,
    ),
    TableSpec(
        "activities",
        (
            _id("activity_id", "activity"),
            _fk("csm_id", "csms"),
            _fk("customer_id", "customers", required=False),
            _enum("kind", ACTIVITY_KINDS),
            _date("occurred_on", "the date of the activity"),
            Field("completed", parse_bool, True, "true or false"),
            Field(
                "response_hours",
                parse_nonnegative_number(
                    "response_hours",
                    "give the hours from the customer's message to this reply",
                ),
                False,
                "",
            ),
        ),
        key=("activity_id",),
        check=_check_activity,
    ),
    TableSpec(
        "support_tickets",
        (
            _id("ticket_id", "ticket"),
            _fk("customer_id", "customers"),
            Field("opened_at", parse_timestamp, True, "a timestamp, e.g. 2026-03-01T14:05:00"),
            Field("first_response_at", parse_timestamp, False, ""),
            Field("resolved_at", parse_timestamp, False, ""),
            _enum("priority", TICKET_PRIORITIES),
        ),
        key=("ticket_id",),
        check=_check_ticket,
    ),
    TableSpec(
        "targets",
        (
            _enum("metric", TARGET_METRICS),
            _date("period_start", "the first day of the target's period"),
            _date("period_end", "the last day of the target's period"),
            Field(
                "segment",
                parse_enum("segment", SEGMENTS, ", or leave it empty for the whole portfolio"),
                False,
                f"{_SEGMENT_HINT}, or empty for the whole portfolio",
            ),
            Field(
                "value",
                parse_target_value,
                True,
                "the goal, rates as fractions (0.92), money as ARR",
            ),
        ),
        key=("metric", "period_start", "period_end", "segment"),
        check=_check_target,
    ),
)


# ---------------------------------------------------------------- problems


class ProblemSink:
    """The problems of one file: counts all, keeps the ``cap`` with the lowest lines.

    Problems may arrive out of line order (ledger and duplicate checks report at the
    end of the file); :meth:`problems` returns the kept ones sorted by line, in
    arrival order within a line.
    """

    def __init__(self, file: str, cap: int) -> None:
        self.file = file
        self.cap = cap
        self.total = 0
        self._kept: list[Problem] = []

    def add(self, line: int, column: str, message: str) -> None:
        self.total += 1
        if self.cap <= 0:
            return
        self._kept.append(Problem(self.file, line, column, message))
        if len(self._kept) >= 2 * self.cap + 64:
            self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=attrgetter("line"))
        del self._kept[self.cap :]

    def problems(self) -> list[Problem]:
        self._trim()
        return list(self._kept)


# ---------------------------------------------------------------- header


def read_header(spec: TableSpec, header: list[str], sink: ProblemSink) -> dict[str, int]:
    """Map each known column to its index; report missing required and doubled columns.

    Unknown columns are ignored; nullable columns may be absent (read as NULL).
    """
    index: dict[str, int] = {}
    known = {f.name for f in spec.fields}
    for i, name in enumerate(header):
        if name not in known:
            continue
        if name in index:
            sink.add(
                1,
                name,
                f"column {name} appears twice in the header (columns {index[name] + 1} and "
                f"{i + 1}); keep one",
            )
            continue
        index[name] = i
    folded = {h.strip().casefold(): h for h in header}
    for f in spec.fields:
        if f.required and f.name not in index:
            near = folded.get(f.name)
            hint = (
                f" (found {near!r}: header names are exact, lower case as in DATA.md; "
                f"rename it to {f.name})"
                if near is not None
                else "; add it to the header line (and a value to every row)"
            )
            sink.add(1, f.name, f"required column {f.name} is missing{hint}")
    return index


# ---------------------------------------------------------------- keys


class _StrKeys:
    """Seen keys in a set: the id string, or the tuple of a composite key."""

    def __init__(self) -> None:
        self.values: set[Hashable] = set()

    def seen(self, key: Hashable) -> bool:
        if key in self.values:
            return True
        self.values.add(key)
        return False


#: Beyond this span of days a customer's bitmap becomes a set (pathological dates).
_MAX_BITMAP_DAYS = 366 * 60


class _DayKeys:
    """(customer_id, date) keys as one bitmap of days per customer.

    A bitmap covers ``[base, base + 8 * len(bits))`` in date ordinals and grows in
    either direction; weekly scores over 3 years cost ~140 bytes per customer.
    """

    def __init__(self) -> None:
        self._bitmaps: dict[str, tuple[int, bytearray] | set[int]] = {}

    def seen(self, key: tuple[str, date]) -> bool:
        customer_id: str = key[0]
        day: int = key[1].toordinal()
        entry = self._bitmaps.get(customer_id)
        if entry is None:
            self._bitmaps[customer_id] = (day & ~7, bytearray(16))
            entry = self._bitmaps[customer_id]
        if isinstance(entry, set):
            if day in entry:
                return True
            entry.add(day)
            return False
        base, bits = entry
        offset = day - base
        if offset < 0 or offset >= 8 * len(bits):
            entry = self._grow(customer_id, base, bits, day)
            if isinstance(entry, set):
                return self.seen(key)
            base, bits = entry
            offset = day - base
        byte, mask = offset >> 3, 1 << (offset & 7)
        if bits[byte] & mask:
            return True
        bits[byte] |= mask
        return False

    def _grow(
        self, customer_id: str, base: int, bits: bytearray, day: int
    ) -> tuple[int, bytearray] | set[int]:
        start = day & ~7
        low, high = min(base, start), max(base + 8 * len(bits), start + 8)
        if high - low > _MAX_BITMAP_DAYS:
            days = {base + i for i in range(8 * len(bits)) if bits[i >> 3] & (1 << (i & 7))}
            self._bitmaps[customer_id] = days
            return days
        step = max(len(bits), 16)  # grow by at least the current size: linear total cost
        if day < base:
            new_base = min(start, base - 8 * step)
            entry = (new_base, bytearray((base - new_base) >> 3) + bits)
        else:
            bits.extend(bytes(max(((high - base) >> 3) - len(bits), step)))
            entry = (base, bits)
        self._bitmaps[customer_id] = entry
        return entry


# ---------------------------------------------------------------- the ARR ledger

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


# ---------------------------------------------------------------- rows


class TableValidator:
    """Validates the rows of one file against its spec and the rows seen before.

    ``parent_keys`` maps a parent table to its set of ids (None when that file's key
    column was missing: foreign keys into it are then not checked). After the file,
    call :meth:`duplicates` and :meth:`resolve_duplicates` (a re-read of the key
    columns) to report duplicate keys with the line of their first occurrence.
    """

    def __init__(
        self,
        spec: TableSpec,
        header: list[str],
        sink: ProblemSink,
        parent_keys: dict[str, set[Hashable] | None],
        ledger: Ledger | None = None,
    ) -> None:
        self.spec = spec
        self.sink = sink
        self.index = read_header(spec, header, sink)
        self.width = len(header)
        self.header = header
        self.ledger = ledger
        self.complete = all(f.name in self.index for f in spec.fields if f.required)
        # (index, name, parser, required, hint, ids of the parent for a foreign key)
        self._present: list[tuple[int, str, Parser, bool, str, set[Hashable] | None]] = [
            (
                self.index[f.name],
                f.name,
                f.parse,
                f.required,
                f.hint,
                parent_keys.get(f.ref) if f.ref is not None else None,
            )
            for f in spec.fields
            if f.name in self.index
        ]
        self._parent = {f.name: f.ref for f in spec.fields if f.ref is not None}
        self._absent = {
            f.name: (BAD if f.required else None) for f in spec.fields if f.name not in self.index
        }
        self.has_key = all(k in self.index for k in spec.key)
        self._single = len(spec.key) == 1
        self._key_of = itemgetter(*spec.key)
        self.keys: _StrKeys | _DayKeys = _DayKeys() if spec.table == "health_scores" else _StrKeys()
        self._seen = self.keys.seen
        self._check = spec.check
        self._pending: list[tuple[int, tuple[Any, ...]]] = []
        self._line = 0
        self._row_problems = 0

    def key_set(self) -> set[Hashable] | None:
        """The ids of this file (for foreign keys into it); None if its key column is missing."""
        if not self.has_key or not isinstance(self.keys, _StrKeys):
            return None
        return self.keys.values

    def _emit(self, column: str, message: str) -> None:
        self._row_problems += 1
        self.sink.add(self._line, column, message)

    def row(self, line: int, cells: list[str]) -> dict[str, Any] | None:
        """Check one row; its values (Python types) when it has no problem, else None."""
        self._line = line
        if len(cells) != self.width:
            self._bad_width(line, cells)
            return None
        self._row_problems = 0
        values: dict[str, Any] = self._absent.copy() if self._absent else {}
        for i, name, parse, required, hint, known in self._present:
            cell = cells[i]
            if not cell:
                if required:
                    self._emit(name, f"{name} is empty but required; write {hint}")
                    values[name] = BAD
                else:
                    values[name] = None
                continue
            try:
                value = parse(cell)
            except Invalid as exc:
                self._emit(name, exc.message)
                value = BAD
            else:
                if known is not None and value not in known:
                    self._unknown_parent(name, value)
                    value = BAD
            values[name] = value
        if self.has_key:
            key = self._key_of(values)
            if (key is not BAD if self._single else BAD not in key) and self._seen(key):
                self._duplicate(line, key)
        if self._check is not None:
            self._check(values, self._emit)
        if self.ledger is not None:
            self._to_ledger(values)
        if self._row_problems or not self.complete:
            return None
        return values

    def _unknown_parent(self, name: str, value: Any) -> None:
        parent = self._parent[name]
        self._emit(
            name,
            f"{value!r} is not a {name} in {parent}.csv; use the id of an existing row or add "
            f"{value!r} to {parent}.csv",
        )

    def _duplicate(self, line: int, key: Any) -> None:
        self._row_problems += 1
        if len(self._pending) < max(self.sink.cap, 1):
            self._pending.append((line, key if isinstance(key, tuple) else (key,)))
        else:  # beyond the cap: counted, never shown
            self.sink.add(line, self.spec.key_column, "duplicate key")

    def _to_ledger(self, v: dict[str, Any]) -> None:
        assert self.ledger is not None
        customer_id = v["customer_id"]
        if customer_id is BAD:
            return
        day, kind, delta = v["event_date"], v["kind"], v["arr_delta"]
        if day is BAD or kind is BAD or delta is BAD or not _sign_ok(kind, delta):
            self.ledger.skip(customer_id)
        else:
            self.ledger.add(customer_id, day, self._line, kind, delta)

    def _bad_width(self, line: int, cells: list[str]) -> None:
        n, width = len(cells), self.width
        if n < width:
            self.sink.add(
                line,
                self.header[n],
                f"this row has {n} values but the header has {width} columns (the row ends "
                f"before {self.header[n]}); add the missing values, an empty value is "
                "nothing between two commas",
            )
        else:
            self.sink.add(
                line,
                "-",
                f"this row has {n} values but the header has {width} columns; put quotes "
                'around values that contain a comma, e.g. "Acme, Inc."',
            )

    # -------------------------------------------------------- duplicates (second pass)

    def duplicates(self) -> bool:
        """True when duplicate keys wait for :meth:`resolve_duplicates`."""
        return bool(self._pending)

    def resolve_duplicates(self, rows: Iterable[tuple[int, list[str]]]) -> None:
        """Re-read ``(line, cells)`` to find each duplicate key's first line, and report."""
        wanted = {key for _, key in self._pending}
        last = max(line for line, _ in self._pending)
        first: dict[tuple[Any, ...], int] = {}
        by_name = {f.name: f for f in self.spec.fields}
        parsers = [(self.index[k], by_name[k].parse) for k in self.spec.key]
        for line, cells in rows:
            if line >= last:
                break
            if len(cells) != self.width:
                continue
            try:
                key = tuple(None if cells[i] == "" else parse(cells[i]) for i, parse in parsers)
            except Invalid:
                continue
            if key in wanted and key not in first:
                first[key] = line
        for line, key in self._pending:
            self.sink.add(line, self.spec.key_column, self._duplicate_message(key, first.get(key)))
        self._pending.clear()

    def _duplicate_message(self, key: tuple[Any, ...], first: int | None) -> str:
        where = f"on line {first}" if first is not None else "on an earlier line"
        table = self.spec.table
        if table == "health_scores":
            return (
                f"customer {key[0]!r} already has a score on {key[1]} ({where}); keep one "
                "score per customer and day"
            )
        if table == "targets":
            metric, start, end, segment = key
            scope = f"segment {segment}" if segment is not None else "the whole portfolio"
            return (
                f"a {metric} target for {start}..{end} and {scope} is already given {where}; "
                "keep one target per metric, period and segment"
            )
        name = self.spec.key[0]
        return f"{name} {key[0]!r} is already used {where}; give every row its own {name}"
