"""The filters a metric computation is restricted to (METRICS.md, Filters), as SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from ..schema import customers


@dataclass(frozen=True)
class Scope:
    """Filters (METRICS.md, Filters): a segment and/or one CSM's current book."""

    segment: str | None = None
    csm_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"segment": self.segment, "csm": self.csm_id}


def scope_clauses(scope: Scope, cust: Any = customers) -> list[ColumnElement[bool]]:
    """WHERE clauses that restrict a query joined to ``customers`` to the scope."""
    clauses: list[ColumnElement[bool]] = []
    if scope.segment is not None:
        clauses.append(cust.c.segment == scope.segment)
    if scope.csm_id is not None:
        clauses.append(cust.c.csm_id == scope.csm_id)
    return clauses
