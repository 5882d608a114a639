"""What the alerts center shows for a view: the alerts fired in the period under the
filters, counted by severity and by acknowledgement, the newest first, with their
subjects named. One read of ``executive_alerts`` (``ecc.alerts.store``) per view."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from ...alerts.store import SEVERITIES, AlertFilter, AlertRow, latest_id, list_alerts
from ...errors import ConfigError
from ...request import Request
from ...schema import csms, customers, renewals
from ..view import View
from ..viewer import check_viewer

#: Alerts listed before "Show all", and at most with it (a longer list is narrowed by
#: the filters, not scrolled).
FIRST = 50
MOST = 500
STATUSES: tuple[str | None, ...] = (None, "acknowledged", "all")


def check(view: View) -> View:
    """The alerts page's own URL keys made valid: an unknown severity, rule or status, or
    a malformed viewer, is dropped with a message (the default view is shown)."""
    messages = list(view.messages)
    changes: dict[str, Any] = {}
    for key in ("severity", "rule"):
        try:
            AlertFilter(**{key: getattr(view, key)}).check()
        except ConfigError as exc:
            messages.append(str(exc))
            changes[key] = None
    if view.status == "open":  # the default, spelled out
        changes["status"] = None
    elif view.status not in STATUSES:
        messages.append(
            f"unknown status {view.status!r}; choose acknowledged or all "
            "(or leave it out for the unacknowledged alerts)"
        )
        changes["status"] = None
    if view.viewer:
        try:
            check_viewer(view.viewer)
        except ConfigError as exc:
            messages.append(str(exc))
            changes["viewer"] = None
    return replace(view, messages=tuple(messages), **changes)


def _acked(row: AlertRow) -> bool:
    return row["acknowledged_at"] is not None


def load(conn: Connection, req: Request, view: View) -> dict[str, Any]:
    """``{"alerts": {...}}``: ``counts`` by severity and ``by_status`` (open, acknowledged)
    under the other filters, ``rows`` (the newest first, ``FIRST`` of them or up to
    ``MOST`` with ``?list=all``) of ``total``, and whether any alert was ever recorded."""
    period = req.period
    rows = list_alerts(
        conn,
        AlertFilter(
            rule=view.rule, segment=req.scope.segment, since=period.start, until=period.end
        ),
    )
    if req.scope.csm_id:
        rows = in_book(conn, rows, req.scope.csm_id)
    by_status = {"open": 0, "acknowledged": 0}
    for r in rows:
        by_status["acknowledged" if _acked(r) else "open"] += 1
    if view.status is None:
        rows = [r for r in rows if not _acked(r)]
    elif view.status == "acknowledged":
        rows = [r for r in rows if _acked(r)]
    counts = dict.fromkeys(SEVERITIES, 0)
    for r in rows:
        counts[r["severity"]] = counts.get(r["severity"], 0) + 1
    if view.severity:
        rows = [r for r in rows if r["severity"] == view.severity]
    shown = rows[:MOST] if view.list == "all" else rows[:FIRST]
    return {
        "alerts": {
            "counts": counts,
            "by_status": by_status,
            "total": len(rows),
            "cap": FIRST,
            "rows": name_subjects(conn, shown),
            "ever": latest_id(conn) > 0,
            "period_words": f"between {period.start:%b %-d, %Y} and {period.end:%b %-d, %Y}",
        }
    }


#: The severities the executive summary counts.
URGENT = ("critical", "high")


def _fired(conn: Connection, req: Request, since: date, until: date) -> list[AlertRow]:
    """Alerts fired in [since, until] under the request's segment and CSM filters."""
    rows = list_alerts(conn, AlertFilter(segment=req.scope.segment, since=since, until=until))
    return in_book(conn, rows, req.scope.csm_id) if req.scope.csm_id else rows


def open_counts(conn: Connection, req: Request) -> dict[str, int]:
    """Open (unacknowledged) critical and high alerts fired in the period, under the
    filters: what the alerts center lists for the same view."""
    counts = dict.fromkeys(URGENT, 0)
    for r in _fired(conn, req, req.period.start, req.period.end):
        if not _acked(r) and r["severity"] in counts:
            counts[r["severity"]] += 1
    return counts


def urgent_by_month(
    conn: Connection, req: Request, spans: list[tuple[date, date]]
) -> list[float | None]:
    """Critical and high alerts fired in each span, under the filters (acknowledged too)."""
    rows = [r for r in _fired(conn, req, spans[0][0], spans[-1][1]) if r["severity"] in URGENT]
    days = [(a.isoformat(), b.isoformat()) for a, b in spans]
    return [float(sum(1 for r in rows if a <= r["fired_on"] <= b)) for a, b in days]


def in_book(conn: Connection, rows: list[AlertRow], csm_id: str) -> list[AlertRow]:
    """The CSM filter: alerts about the CSM, or about a customer (or its renewal) in the
    CSM's current book (``customers.csm_id``, as everywhere else)."""
    book = set(
        conn.execute(select(customers.c.customer_id).where(customers.c.csm_id == csm_id)).scalars()
    )
    return [
        r
        for r in rows
        if (r["subject_type"] == "csm" and r["subject_id"] == csm_id)
        or (r["subject_type"] != "csm" and r["customer_id"] in book)
    ]


def name_subjects(conn: Connection, rows: list[AlertRow]) -> list[dict[str, Any]]:
    """``rows`` as dicts with ``subject_name`` (the customer's or CSM's name) and, for a
    renewal, ``subject_detail`` (its due date)."""
    cust_ids = sorted({r["customer_id"] for r in rows if r["customer_id"]})
    csm_ids = sorted({r["subject_id"] for r in rows if r["subject_type"] == "csm"})
    ren_ids = sorted({r["subject_id"] for r in rows if r["subject_type"] == "renewal"})
    names: dict[str, str] = {}
    if cust_ids:
        q = select(customers.c.customer_id, customers.c.name)
        q = q.where(customers.c.customer_id.in_(cust_ids))
        names.update({r.customer_id: r.name for r in conn.execute(q)})
    csm_names: dict[str, str] = {}
    if csm_ids:
        q = select(csms.c.csm_id, csms.c.name).where(csms.c.csm_id.in_(csm_ids))
        csm_names.update({r.csm_id: r.name for r in conn.execute(q)})
    due: dict[str, str] = {}
    if ren_ids:
        q = select(renewals.c.renewal_id, renewals.c.due_on).where(
            renewals.c.renewal_id.in_(ren_ids)
        )
        due.update({r.renewal_id: r.due_on.isoformat() for r in conn.execute(q)})
    out: list[dict[str, Any]] = []
    for r in rows:
        row: dict[str, Any] = dict(r)
        if r["subject_type"] == "csm":
            row["subject_name"] = csm_names.get(r["subject_id"])
        else:
            row["subject_name"] = names.get(r["customer_id"] or "")
        row["subject_detail"] = due.get(r["subject_id"]) if r["subject_type"] == "renewal" else None
        out.append(row)
    return out
