"""Settings in one place: every option has a default and a help line.

Deployment settings come from ``ECC_*`` environment variables; metric tunables
(probabilities, alert thresholds) have the defaults of METRICS.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import variables
from .paths import sqlite_path

SEGMENTS: tuple[str, ...] = ("Enterprise", "Mid-market", "SMB")
CATEGORIES: tuple[str, ...] = ("healthy", "at_risk", "critical")
EVENT_KINDS: tuple[str, ...] = ("new", "expansion", "contraction", "churn", "reactivation")
EXPANSION_TYPES: tuple[str, ...] = ("upsell", "cross_sell", "upgrade")
OPPORTUNITY_STAGES: tuple[str, ...] = ("identified", "qualified", "proposal", "negotiation")
FORECAST_STATUSES: tuple[str, ...] = ("on_track", "at_risk")
RENEWAL_OUTCOMES: tuple[str, ...] = ("renewed", "churned")
ACTIVITY_KINDS: tuple[str, ...] = ("meeting", "email", "call", "task")
TICKET_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
TARGET_METRICS: tuple[str, ...] = (
    "grr",
    "nrr",
    "renewal_rate",
    "expansion_arr",
    "expansion_win_rate",
)
#: Target metrics measured in money (pro-rated by days); the others are rates.
MONEY_TARGETS: frozenset[str] = frozenset({"expansion_arr"})

HEALTHY_MIN = 70  # score >= 70: healthy
AT_RISK_MIN = 40  # 40 <= score < 70: at_risk; below: critical


@dataclass(frozen=True)
class MetricSettings:
    """Tunable numbers of METRICS.md, with its defaults."""

    p_churn: dict[str, float] = field(default_factory=lambda: {"on_track": 0.05, "at_risk": 0.40})
    p_win: dict[str, float] = field(
        default_factory=lambda: {
            "identified": 0.10,
            "qualified": 0.25,
            "proposal": 0.50,
            "negotiation": 0.75,
        }
    )
    forecast_days: int = 90
    top_n: int = 10
    cohort_quarters: int = 12
    over_utilization: float = 1.0
    under_utilization: float = 0.8
    trend_health_points: float = 1.0
    trend_risk_fraction: float = 0.01


@dataclass(frozen=True)
class AlertSettings:
    """Alert thresholds (METRICS.md, Executive alerts)."""

    large_account_arr: float = 100_000.0
    over_capacity_utilization: float = 1.2
    renewal_days: int = 30
    major_expansion_arr: float = 50_000.0


def database_url(explicit: str | None = None) -> str:
    """The SQLAlchemy URL: ``--db`` wins, then ECC_DATABASE_URL, then the SQLite file
    under the project root (:func:`ecc.paths.sqlite_path`)."""
    if explicit:
        return explicit
    env = variables.value("ECC_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{sqlite_path()}"


def absolute_url(url: str) -> str:
    """``url`` with a relative SQLite path made absolute (from the current folder, where
    the person who typed it stands), so that processes started elsewhere — kernels run in
    the notebooks folder, the hub's services in the hub's — open the same file."""
    prefix = "sqlite:///"
    relative = not url.startswith(("sqlite:////", "sqlite:///file:")) and url != "sqlite://"
    if url.startswith(prefix) and relative:
        return prefix + str(Path(url[len(prefix) :]).resolve())
    return url


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<a URL that cannot be read>"
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
