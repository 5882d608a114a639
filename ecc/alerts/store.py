"""The ``executive_alerts`` table: record fired alerts once, list them, acknowledge them.

A rule fires at most once per (rule, subject, day): the table's unique constraint
``uq_alert_once_per_day`` decides, so two evaluations running at the same time (two
processes, two databases connections) cannot record an alert twice. Inserts use the
database's own "insert unless it exists" (``ON CONFLICT DO NOTHING``), which never
fails a whole batch because one alert is already there. A rule of
:data:`ONCE_PER_SUBJECT` fires at most once per subject on any day: its alert is not
recorded when one for the subject exists already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

from sqlalchemy import Connection, Engine, and_, case, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import utcnow
from ..errors import ConfigError
from ..schema import csms, customers, executive_alerts, renewals

SEVERITIES: tuple[str, ...] = ("critical", "high", "warning", "info")
RULES: tuple[str, ...] = (
    "large_account_critical",
    "csm_over_capacity",
    "renewal_at_risk_30d",
    "unexpected_churn",
    "major_expansion_closed",
)
#: Each rule in the words of METRICS.md, for people.
RULE_WORDS: dict[str, str] = {
    "large_account_critical": "Large account turned critical",
    "csm_over_capacity": "CSM over capacity",
    "renewal_at_risk_30d": "Renewal at risk, due within 30 days",
    "unexpected_churn": "Unexpected churn",
    "major_expansion_closed": "Major expansion closed",
}
#: A mark per severity that reads without colour (pages, PDF, mail).
SEVERITY_MARK: dict[str, str] = {"critical": "■", "high": "▲", "warning": "●", "info": "○"}
SUBJECT_TYPES: tuple[str, ...] = ("customer", "csm", "renewal")


@dataclass(frozen=True)
class Fired:
    """An alert a rule produced for a day (not yet recorded)."""

    rule: str
    severity: str
    subject_type: str
    subject_id: str
    fired_on: date
    message: str


class AlertRow(TypedDict):
    """One alert as ``ecc alerts list --format json`` prints it (METRICS.md), plus extras."""

    alert_id: int
    rule: str
    severity: str
    subject_type: str
    subject_id: str
    fired_on: str
    message: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    created_at: str
    segment: str | None
    customer_id: str | None


def _insert(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(executive_alerts).on_conflict_do_nothing(
            constraint="uq_alert_once_per_day"
        )
    if conn.dialect.name == "sqlite":
        return sqlite.insert(executive_alerts).on_conflict_do_nothing()
    raise ConfigError(f"alerts need SQLite or PostgreSQL, not {conn.dialect.name}")


#: Rules that fire at most once per subject (METRICS.md: ``renewal_at_risk_30d``, once
#: per renewal, on the first evaluated day it qualifies).
ONCE_PER_SUBJECT = frozenset({"renewal_at_risk_30d"})


def alerted(rule: str, subject_id: Any) -> Any:
    """EXISTS (an alert of ``rule`` for the subject ``subject_id``, on any day)."""
    a = executive_alerts.alias("earlier_alert")
    return exists().where(a.c.rule == rule, a.c.subject_id == subject_id)


def record(conn: Connection, fired: Iterable[Fired]) -> list[int]:
    """Record the alerts not recorded yet; return the ids of the new ones (oldest first)."""
    now = utcnow()
    new: list[int] = []
    stmt = _insert(conn).returning(executive_alerts.c.alert_id)
    for f in fired:
        if (
            f.rule in ONCE_PER_SUBJECT
            and conn.execute(select(alerted(f.rule, f.subject_id))).scalar()
        ):
            continue  # recorded on an earlier day (by another evaluation meanwhile)
        alert_id = conn.execute(
            stmt.values(
                rule=f.rule,
                severity=f.severity,
                subject_type=f.subject_type,
                subject_id=f.subject_id,
                fired_on=f.fired_on,
                message=f.message,
                created_at=now,
            )
        ).scalar()
        if alert_id is not None:
            new.append(int(alert_id))
    return new


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to list: every field narrows (None: any)."""

    severity: str | None = None
    rule: str | None = None
    segment: str | None = None
    acknowledged: bool | None = None
    since: date | None = None
    until: date | None = None
    after_id: int | None = None  # only alerts recorded after this one
    ids: Sequence[int] | None = None

    def check(self) -> None:
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ConfigError(
                f"unknown severity {self.severity!r}; choose one of: {', '.join(SEVERITIES)}"
            )
        if self.rule is not None and self.rule not in RULES:
            raise ConfigError(f"unknown rule {self.rule!r}; choose one of: {', '.join(RULES)}")


def _severity_order() -> Any:
    return case(
        *((executive_alerts.c.severity == s, i) for i, s in enumerate(SEVERITIES)),
        else_=len(SEVERITIES),
    )


def _with_subjects() -> tuple[Any, Any, Any]:
    """executive_alerts joined to its subject: (from clause, segment, customer_id).

    The segment is the customer's (a customer, or the customer of a renewal) or the
    CSM's; the customer is the account the alert links to (none for a CSM)."""
    a = executive_alerts.c
    cust = customers.alias("alert_customer")
    ren = renewals.alias("alert_renewal")
    ren_cust = customers.alias("alert_renewal_customer")
    csm = csms.alias("alert_csm")
    joined = (
        executive_alerts.outerjoin(
            cust, and_(a.subject_type == "customer", cust.c.customer_id == a.subject_id)
        )
        .outerjoin(ren, and_(a.subject_type == "renewal", ren.c.renewal_id == a.subject_id))
        .outerjoin(ren_cust, ren_cust.c.customer_id == ren.c.customer_id)
        .outerjoin(csm, and_(a.subject_type == "csm", csm.c.csm_id == a.subject_id))
    )
    segment = func.coalesce(cust.c.segment, ren_cust.c.segment, csm.c.segment)
    customer_id = func.coalesce(cust.c.customer_id, ren.c.customer_id)
    return joined, segment, customer_id


def list_alerts(
    conn: Connection, filt: AlertFilter | None = None, limit: int | None = None
) -> list[AlertRow]:
    """Alerts newest first (by day, then severity, then id), with the subject's segment."""
    filt = filt or AlertFilter()
    filt.check()
    a = executive_alerts.c
    joined, segment, customer_id = _with_subjects()
    q = select(
        executive_alerts, segment.label("segment"), customer_id.label("customer_id")
    ).select_from(joined)
    if filt.severity is not None:
        q = q.where(a.severity == filt.severity)
    if filt.rule is not None:
        q = q.where(a.rule == filt.rule)
    if filt.segment is not None:
        q = q.where(segment == filt.segment)
    if filt.acknowledged is not None:
        q = q.where(
            a.acknowledged_at.is_not(None) if filt.acknowledged else a.acknowledged_at.is_(None)
        )
    if filt.since is not None:
        q = q.where(a.fired_on >= filt.since)
    if filt.until is not None:
        q = q.where(a.fired_on <= filt.until)
    if filt.after_id is not None:
        q = q.where(a.alert_id > filt.after_id)
    if filt.ids is not None:
        q = q.where(a.alert_id.in_(list(filt.ids)))
    q = q.order_by(a.fired_on.desc(), _severity_order(), a.alert_id.desc())
    if limit is not None:
        q = q.limit(limit)
    return [
        AlertRow(
            alert_id=int(r.alert_id),
            rule=r.rule,
            severity=r.severity,
            subject_type=r.subject_type,
            subject_id=r.subject_id,
            fired_on=r.fired_on.isoformat(),
            message=r.message,
            acknowledged_by=r.acknowledged_by,
            acknowledged_at=None
            if r.acknowledged_at is None
            else r.acknowledged_at.isoformat(timespec="seconds"),
            created_at=r.created_at.isoformat(timespec="seconds"),
            segment=r.segment,
            customer_id=r.customer_id,
        )
        for r in conn.execute(q)
    ]


def count_alerts(conn: Connection, filt: AlertFilter | None = None) -> dict[str, int]:
    """severity -> number of alerts matching the filter (every severity present, 0 when none)."""
    filt = filt or AlertFilter()
    rows = list_alerts(conn, filt)
    out = dict.fromkeys(SEVERITIES, 0)
    for r in rows:
        out[r["severity"]] = out.get(r["severity"], 0) + 1
    return out


def acknowledge(engine: Engine, alert_ids: Iterable[int], user: str) -> int:
    """Mark the alerts acknowledged by ``user`` now; already acknowledged ones keep who and
    when they were first acknowledged. Returns how many were newly acknowledged."""
    user = user.strip()
    if not user:
        raise ConfigError("say who acknowledges the alerts (a user name)")
    ids = sorted({int(i) for i in alert_ids})
    if not ids:
        return 0
    with engine.begin() as conn:
        known = set(
            conn.execute(
                select(executive_alerts.c.alert_id).where(executive_alerts.c.alert_id.in_(ids))
            ).scalars()
        )
        missing = [i for i in ids if i not in known]
        if missing:
            raise ConfigError(
                f"no alert with id {', '.join(map(str, missing))}; `ecc alerts list` shows the ids"
            )
        result = conn.execute(
            update(executive_alerts)
            .where(
                executive_alerts.c.alert_id.in_(ids),
                executive_alerts.c.acknowledged_at.is_(None),
            )
            .values(acknowledged_by=user, acknowledged_at=utcnow())
        )
        return int(result.rowcount or 0)


def latest_id(conn: Connection) -> int:
    """The id of the newest recorded alert (0 when none)."""
    return int(
        conn.execute(select(func.coalesce(func.max(executive_alerts.c.alert_id), 0))).scalar_one()
    )


def alerts_state(conn: Connection) -> str:
    """A word that changes whenever an alert is recorded or acknowledged (the newest id,
    how many are acknowledged and the latest acknowledgement): what a page's rendering of
    the open alerts is kept by."""
    a = executive_alerts.c
    newest, acked, last = conn.execute(
        select(func.max(a.alert_id), func.count(a.acknowledged_at), func.max(a.acknowledged_at))
    ).one()
    return f"{newest or 0}:{acked}:{last.isoformat() if last is not None else '-'}"
