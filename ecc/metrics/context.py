"""What every metric family receives: the connection, the period, filters, settings and
the plan of how to read."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection

from ..config import AlertSettings, MetricSettings
from ..periods import Period
from .plan import DIRECT, Plan
from .scope import Scope


@dataclass(frozen=True)
class Context:
    """Inputs of one metric computation.

    ``comparison`` is the comparison period when one was asked for and can be computed;
    it is None otherwise, and always None while computing ``comparison_values``.
    ``plan`` says how to read (snapshots, state tables, results shared in a refresh); it
    never changes a number.
    """

    conn: Connection
    period: Period
    scope: Scope = field(default_factory=Scope)
    comparison: Period | None = None
    settings: MetricSettings = field(default_factory=MetricSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    plan: Plan = DIRECT


def money(value: Decimal | None) -> float:
    """Money for JSON: a number in currency units (cents exact); None counts as 0."""
    if value is None:
        return 0.0
    return float(value.quantize(Decimal("0.01")))


def ratio(numerator: Decimal | int | float, denominator: Decimal | int | float) -> float | None:
    """numerator / denominator as a float, None when the denominator is 0."""
    if denominator == 0:
        return None
    if isinstance(numerator, Decimal) or isinstance(denominator, Decimal):
        return float(Decimal(numerator) / Decimal(denominator))
    return numerator / denominator
