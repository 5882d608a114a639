"""How fresh the numbers are: when the data was loaded, how old its latest day is, and
whether the last refresh failed — said on every page and report, and in scheduled mail.

The data is stale when its latest day (``data_today``: the default "today" of every
view) is more than ``ECC_STALE_DAYS`` days (default 2) before the current date: the daily
load has not run. A refresh that failed after the last one that succeeded leaves the
numbers of that earlier refresh in place; they are shown with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from . import variables
from .clock import utcnow
from .errors import ConfigError
from .load import data_version
from .metrics.state import data_today
from .schema import refresh_runs, source_changes


@dataclass(frozen=True)
class Freshness:
    """What a reader should know about the data behind the numbers."""

    now: datetime
    data_as_of: date | None  # the latest day with data
    loaded_at: datetime | None  # when the data now in the database was loaded (UTC)
    failed_at: datetime | None  # the last refresh, when it failed
    failure: str | None  # and why
    stale_days: int

    @property
    def age_days(self) -> int | None:
        return None if self.data_as_of is None else (self.now.date() - self.data_as_of).days

    @property
    def stale(self) -> bool:
        age = self.age_days
        return age is not None and age > self.stale_days

    def loaded_text(self) -> str:
        """``loaded Dec 7, 09:59 UTC`` (empty when the load time is unknown)."""
        if self.loaded_at is None:
            return ""
        return f"loaded {self.loaded_at:%b %-d, %H:%M} UTC"

    def warnings(self) -> list[str]:
        """Sentences for a banner: stale data, a failed refresh (none when all is well)."""
        out = []
        if self.stale and self.data_as_of is not None:
            out.append(
                f"The latest data is from {self.data_as_of:%b %-d, %Y}, {self.age_days} days "
                f"ago (more than {self.stale_days}): the daily load may not have run."
            )
        if self.failed_at is not None:
            reason = (self.failure or "").strip().splitlines()
            why = f" ({reason[-1][:160]})" if reason else ""
            out.append(
                f"The last refresh failed on {self.failed_at:%b %-d, %H:%M} UTC{why}: these are "
                "the numbers of the refresh before it."
            )
        return out


def stale_days(environ: dict[str, str] | None = None) -> int:
    """``ECC_STALE_DAYS`` as a whole number of days (ConfigError says how to fix it)."""
    raw = variables.value("ECC_STALE_DAYS", environ)
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 0:
        raise ConfigError(f"ECC_STALE_DAYS={raw!r} is not a number of days; write e.g. 2")
    return days


def freshness(conn: Connection, now: datetime | None = None, days: int | None = None) -> Freshness:
    """The freshness of the data in ``conn``'s database at ``now`` (default: the clock)."""
    version = data_version(conn)
    loaded = None
    if version is not None:
        loaded = conn.execute(
            select(source_changes.c.recorded_at).where(source_changes.c.data_version == version)
        ).scalar()
    last = conn.execute(
        select(refresh_runs.c.status, refresh_runs.c.finished_at, refresh_runs.c.error)
        .where(refresh_runs.c.status.in_(("succeeded", "failed")))
        .order_by(refresh_runs.c.run_id.desc())
        .limit(1)
    ).first()
    failed = last is not None and last.status == "failed"
    return Freshness(
        now=now or utcnow(),
        data_as_of=data_today(conn),
        loaded_at=loaded,
        failed_at=(last.finished_at or utcnow()) if failed and last is not None else None,
        failure=last.error if failed and last is not None else None,
        stale_days=stale_days() if days is None else days,
    )
