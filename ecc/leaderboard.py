"""The nightly CSM leaderboard (FR-9), stored with its history.

Once per data day the refresh records the leaderboard of the quarter to date — every
CSM's overall rank and the three component ranks with the numbers behind them — in
``leaderboard_history``. Earlier days are never rewritten, so "where did this CSM rank
last month" has an answer even after accounts change hands.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from .clock import utcnow
from .config import MetricSettings
from .metrics.compute import compute_all
from .periods import preset_period
from .schema import leaderboard_history

PRESET = "this_quarter"


def record_leaderboard(
    engine: Engine,
    today: date,
    *,
    settings: MetricSettings | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> int:
    """Record the leaderboard for ``today`` unless already recorded; rows written.

    ``rows`` are the ``csms.rows`` of the unfiltered quarter-to-date request when the
    caller has them (the refresh does); otherwise they are computed.
    """
    period = preset_period(PRESET, today)
    with engine.begin() as conn:
        if _recorded(conn, today):
            return 0
        if rows is None:
            rows = compute_all(conn, period, areas=["csms"], settings=settings)["csms"]["rows"]
        now = utcnow()
        values = [
            {
                "ranked_on": today,
                "period_start": period.start,
                "period_end": period.end,
                "csm_id": r["csm_id"],
                "segment": r["segment"],
                "rank": r["rank"],
                "nrr_rank": r["rank_nrr"],
                "expansion_rank": r["rank_expansion"],
                "health_rank": r["rank_health_change"],
                "nrr": r["nrr"],
                "expansion_arr": r["expansion_arr"],
                "health_change": r["health_change"],
                "recorded_at": now,
            }
            for r in rows
        ]
        if values:
            conn.execute(insert(leaderboard_history), values)
    return len(values)


def _recorded(conn: Connection, day: date) -> bool:
    found = conn.execute(
        select(leaderboard_history.c.ranked_on)
        .where(leaderboard_history.c.ranked_on == day)
        .limit(1)
    ).first()
    return found is not None


def rank_history(conn: Connection, csm_id: str, limit: int = 90) -> list[dict[str, Any]]:
    """A CSM's recorded ranks, newest first."""
    t = leaderboard_history
    rows = conn.execute(
        select(t).where(t.c.csm_id == csm_id).order_by(t.c.ranked_on.desc()).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


#: Rank movement compares the latest recorded day with the one this many days before it
#: (or the earliest recorded day after that, in the same quarter).
MOVE_DAYS = 7


def rank_moves(conn: Connection, day: date) -> tuple[date | None, dict[str, int]]:
    """Places each CSM moved on the leaderboard up to ``day``: the recorded rank about a
    week before the latest recorded day on or before ``day``, minus the rank that day
    (positive: moved up), with the earlier day. Nothing without two recorded days of
    the same quarter."""
    t = leaderboard_history
    last = conn.execute(select(func.max(t.c.ranked_on)).where(t.c.ranked_on <= day)).scalar()
    if last is None:
        return None, {}
    quarter = conn.execute(select(t.c.period_start).where(t.c.ranked_on == last).limit(1)).scalar()
    before = conn.execute(
        select(func.min(t.c.ranked_on)).where(
            t.c.ranked_on >= last - timedelta(days=MOVE_DAYS),
            t.c.ranked_on < last,
            t.c.period_start == quarter,
        )
    ).scalar()
    if before is None:
        return None, {}
    ranks = {
        (r.ranked_on, r.csm_id): r.rank
        for r in conn.execute(
            select(t.c.ranked_on, t.c.csm_id, t.c.rank).where(t.c.ranked_on.in_((last, before)))
        )
    }
    moves = {
        csm_id: ranks[(before, csm_id)] - rank
        for (on, csm_id), rank in ranks.items()
        if on == last and (before, csm_id) in ranks
    }
    return before, moves
