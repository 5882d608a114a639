"""The cell parsers of the DATA.md source CSVs: one function per kind of value.

Each parser takes the text of one non-empty cell and returns its Python value (a
date, a naive UTC datetime, a Decimal, an int, a float, a bool or the text), or
raises :class:`Invalid` with a message that says what is wrong and how to fix it.
:data:`BAD` stands for the value of a cell that failed, so that later checks can
skip it. Nothing here knows about tables or rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from math import isfinite
from typing import Any, Final


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
ID_MAX = 64
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
    if len(cell) > ID_MAX:
        raise Invalid(
            f"this id is {len(cell)} characters long; ids have at most {ID_MAX} characters"
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
