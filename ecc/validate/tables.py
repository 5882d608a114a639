"""The table specs of the DATA.md source CSVs: each file's columns, key and row rules.

A :class:`TableSpec` names a source table, its columns (:class:`Field`: the cell
parser, whether it is required, the hint for an empty cell, the parent table of a
foreign key), its primary key and its row rule. :data:`SPECS` lists the ten source
tables in load order, parents first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import (
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
from .cells import (
    ID_MAX,
    Parser,
    parse_bool,
    parse_date,
    parse_email,
    parse_enum,
    parse_id,
    parse_money,
    parse_nonnegative_number,
    parse_positive_int,
    parse_positive_money,
    parse_score,
    parse_target_value,
    parse_text,
    parse_timestamp,
)
from .rules import (
    Emit,
    check_activity,
    check_arr_event,
    check_customer,
    check_opportunity,
    check_renewal,
    check_save_play,
    check_target,
    check_ticket,
)


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
    return Field(name, parse_id, True, f"the {what}'s id (at most {ID_MAX} characters)")


def _fk(name: str, parent: str, *, required: bool = True) -> Field:
    return Field(name, parse_id, required, f"the {name} of a row of {parent}.csv", ref=parent)


def _date(name: str, what: str, *, required: bool = True) -> Field:
    return Field(name, parse_date, required, f"{what} as YYYY-MM-DD (e.g. 2026-03-01)")


def _enum(name: str, choices: tuple[str, ...], *, required: bool = True) -> Field:
    return Field(name, parse_enum(name, choices), required, f"one of {', '.join(choices)}")


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
        check=check_customer,
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
        check=check_arr_event,
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
        check=check_renewal,
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
        check=check_opportunity,
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
        check=check_save_play,
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
        check=check_activity,
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
        check=check_ticket,
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
        check=check_target,
    ),
)
