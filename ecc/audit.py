"""The audit trail: who did what from the pages, and when.

Every action that shares data or sends it somewhere is appended to ``audit_events`` in
the same transaction as the action itself (both happen, or neither): a link shared or
withdrawn, a subscription made, changed, paused, resumed, removed or approved. The
dashboards' database role may add events and never change or delete one.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select

from .clock import utcnow
from .schema import audit_events


def record(conn: Connection, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Append one event: ``actor`` did ``action`` to ``subject`` (e.g. "link 3f2a…")."""
    conn.execute(
        insert(audit_events).values(
            at=utcnow(),
            actor=actor,
            action=action,
            subject=subject,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )


def events(conn: Connection, *, limit: int = 500) -> list[dict[str, Any]]:
    """The latest events, newest first, their details decoded."""
    t = audit_events
    rows = conn.execute(select(t).order_by(t.c.event_id.desc()).limit(limit)).mappings()
    return [dict(r) | {"detail": json.loads(r["detail"])} for r in rows]
