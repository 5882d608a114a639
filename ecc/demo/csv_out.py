"""The CSV files the demo writes: their columns, in load order, and the row writers.

:data:`HEADERS` gives the columns of each of the ten DATA.md files in the order of
:data:`TABLES` (parents first). :class:`Writers` writes rows to the open files,
counts them per table and numbers the ids of each kind (``EV0000001``, ``RN000001``,
...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEADERS: dict[str, tuple[str, ...]] = {
    "csms": ("csm_id", "name", "email", "segment", "target_accounts", "target_arr", "active"),
    "customers": (
        "customer_id", "name", "segment", "csm_id", "signup_date", "onboarded_on",
        "industry", "region",
    ),
    "arr_events": ("event_id", "customer_id", "event_date", "kind", "arr_delta", "expansion_type"),
    "health_scores": ("customer_id", "scored_on", "score"),
    "renewals": (
        "renewal_id", "customer_id", "due_on", "arr", "forecast_status", "outcome",
        "closed_on", "renewed_arr",
    ),
    "expansion_opportunities": (
        "opportunity_id", "customer_id", "type", "stage", "amount", "created_on",
        "expected_close_on", "outcome", "closed_on",
    ),
    "save_plays": ("play_id", "customer_id", "csm_id", "opened_on", "outcome", "closed_on"),
    "activities": (
        "activity_id", "csm_id", "customer_id", "kind", "occurred_on", "completed",
        "response_hours",
    ),
    "support_tickets": (
        "ticket_id", "customer_id", "opened_at", "first_response_at", "resolved_at", "priority",
    ),
    "targets": ("metric", "period_start", "period_end", "segment", "value"),
}  # fmt: skip
TABLES: tuple[str, ...] = tuple(HEADERS)

Row = tuple[str, ...]


@dataclass(slots=True)
class Writers:
    """The open CSV writers per table, the rows written per table and the id counters."""

    rows: dict[str, Any]
    counts: dict[str, int]
    seq: dict[str, int]

    def write(self, table: str, row: Row) -> None:
        self.rows[table].writerow(row)
        self.counts[table] += 1

    def write_many(self, table: str, rows: list[Row]) -> None:
        self.rows[table].writerows(rows)
        self.counts[table] += len(rows)

    def next_id(self, prefix: str, width: int) -> str:
        n = self.seq.get(prefix, 0) + 1
        self.seq[prefix] = n
        return f"{prefix}{n:0{width}d}"
