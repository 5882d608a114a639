"""The outbox (``mail_outbox``): every message is recorded before it is sent, then
delivered at most once, retried with exponential backoff.

- :func:`enqueue` stores the whole message (with its Message-ID) in the caller's
  transaction — with the run record it belongs to, so neither exists without the other.
- :func:`deliver` sends what is due. Each row is *claimed* first with one conditional
  UPDATE (``pending`` -> ``sending``, only if still pending), so of two processes only
  one gets it; right after the server accepts the message the row becomes ``sent``.
- A failure (no server, a refusal) puts the row back to ``pending`` with the next try
  after 1, 2, 4, ... minutes (at most an hour between tries); after
  :data:`MAX_ATTEMPTS` tries it is ``failed`` and the admins are told.
- A message whose hand-over broke half-way, or whose sender died while sending (a
  claim older than :data:`STALE_CLAIM`), may have been delivered: it becomes ``failed``
  and is not retried automatically; ``ecc scheduler --resend MAIL_ID`` sends it again,
  with the same Message-ID.
"""

from __future__ import annotations

import email.policy
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from ..clock import utcnow
from ..errors import ConfigError
from ..locks import holder_name
from ..schema import mail_outbox
from .compose import admin_message
from .settings import MailSettings
from .smtp import SendFailed, send

log = logging.getLogger("ecc.mail")

MAX_ATTEMPTS = 10
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
#: A claim older than this belongs to a sender that died (an SMTP hand-over takes seconds).
STALE_CLAIM = timedelta(minutes=10)

t = mail_outbox


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4, ... minutes, at most an hour."""
    return min(RETRY_BASE * (1 << min(max(0, attempts - 1), 16)), RETRY_CAP)


def enqueue(
    conn: Connection,
    msg: EmailMessage,
    *,
    kind: str,
    run_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Record ``msg`` to be sent (in the caller's transaction); its mail id."""
    now = now or utcnow()
    recipients = [a for _, a in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))]
    row = {
        "run_id": run_id,
        "kind": kind,
        "message_id": str(msg["Message-ID"]),
        "sender": str(msg["From"]),
        "recipients": json.dumps(recipients),
        "subject": str(msg["Subject"]),
        "message": msg.as_bytes(policy=email.policy.SMTP),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
    return int(conn.execute(insert(t).values(**row).returning(t.c.mail_id)).scalar_one())


@dataclass(frozen=True)
class Delivery:
    """What one try did with one message."""

    mail_id: int
    status: str  # sent | pending | failed
    error: str | None = None


def _claim(engine: Engine, mail_id: int, me: str, now: datetime) -> bool:
    """Take the row for this sender if it is still pending; True when taken."""
    with engine.begin() as conn:
        res = conn.execute(
            update(t)
            .where(t.c.mail_id == mail_id, t.c.status == "pending")
            .values(status="sending", claimed_by=me, claimed_at=now, attempts=t.c.attempts + 1)
        )
        return res.rowcount == 1


def _finish(conn: Connection, mail_id: int, me: str, **values: Any) -> None:
    conn.execute(
        update(t)
        .where(t.c.mail_id == mail_id, t.c.claimed_by == me, t.c.status == "sending")
        .values(**values)
    )


def _tell_admins(
    conn: Connection, settings: MailSettings, row: Any, why: str, now: datetime
) -> None:
    """Queue a note to the admins about an undeliverable mail (never about a note to them)."""
    if row.kind == "admin":
        log.error("mail %s to the admins could not be delivered: %s", row.mail_id, why)
        return
    if not settings.admins:
        log.error(
            "mail %s (%s) could not be delivered and no admin is set (ECC_ADMIN_EMAILS): %s",
            row.mail_id,
            row.subject,
            why,
        )
        return
    what = "a report email" if row.kind == "report" else f"an email ({row.kind})"
    note = admin_message(
        sender=settings.sender,
        admins=list(settings.admins),
        subject=f"{what} could not be delivered (mail {row.mail_id})",
        lines=[
            f"Subject: {row.subject}",
            f"To: {', '.join(json.loads(row.recipients))}",
            f"Message-ID: {row.message_id}",
            f"Tries: {row.attempts}",
            f"Why: {why}",
            "",
            f"Send it again with: ecc scheduler --resend {row.mail_id}",
        ],
    )
    enqueue(conn, note, kind="admin", run_id=row.run_id, now=now)


def _expire_stale(engine: Engine, settings: MailSettings, now: datetime) -> None:
    """Rows left ``sending`` by a sender that died: failed, not resent blindly."""
    why = (
        "the sender stopped while handing it to the SMTP server; it may have been delivered, "
        "so it is not sent again automatically"
    )
    with engine.begin() as conn:
        rows = conn.execute(
            select(t).where(t.c.status == "sending", t.c.claimed_at < now - STALE_CLAIM)
        ).all()
        for row in rows:
            res = conn.execute(
                update(t)
                .where(t.c.mail_id == row.mail_id, t.c.status == "sending")
                .where(t.c.claimed_by == row.claimed_by)
                .values(status="failed", last_error=why)
            )
            if res.rowcount:
                _tell_admins(conn, settings, row, why, now)


def _try(engine: Engine, settings: MailSettings, mail_id: int, me: str, now: datetime) -> Delivery:
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.mail_id == mail_id)).one()
    try:
        smtp = settings.require_smtp()
        refused = send(smtp, row.sender, json.loads(row.recipients), bytes(row.message))
    except (SendFailed, ConfigError) as exc:
        error = str(exc)
        final = getattr(exc, "maybe_delivered", False) or row.attempts >= MAX_ATTEMPTS
        with engine.begin() as conn:
            if final:
                _finish(conn, mail_id, me, status="failed", last_error=error)
                _tell_admins(conn, settings, row, error, now)
            else:
                _finish(
                    conn,
                    mail_id,
                    me,
                    status="pending",
                    last_error=error,
                    next_attempt_at=now + backoff(row.attempts),
                )
        status = "failed" if final else "pending"
        log.warning("mail %s (try %s): %s: %s", mail_id, row.attempts, status, error)
        return Delivery(mail_id, status, error)
    note = f"refused by the server for: {'; '.join(refused)}" if refused else None
    with engine.begin() as conn:
        _finish(conn, mail_id, me, status="sent", sent_at=utcnow(), last_error=note)
    log.info("mail %s sent: %s", mail_id, row.subject)
    return Delivery(mail_id, "sent", note)


def deliver(
    engine: Engine,
    settings: MailSettings,
    *,
    ids: list[int] | None = None,
    now: datetime | None = None,
    ignore_backoff: bool = False,
) -> list[Delivery]:
    """Try every due message (or those of ``ids``) once; what became of each.

    ``ignore_backoff`` tries pending messages that are not due yet too (at a scheduler's
    start). Messages queued while this runs (notes to the admins) are tried as well.
    """
    now = now or utcnow()
    me = f"{holder_name()}:{uuid.uuid4().hex[:8]}"
    _expire_stale(engine, settings, now)
    done: list[Delivery] = []
    seen: set[int] = set()
    while True:
        q = select(t.c.mail_id).where(t.c.status == "pending").order_by(t.c.mail_id)
        if not ignore_backoff:
            q = q.where(t.c.next_attempt_at <= now)
        if ids is not None:
            q = q.where(t.c.mail_id.in_(ids) | (t.c.kind == "admin"))
        with engine.connect() as conn:
            todo = [i for i in conn.execute(q).scalars() if i not in seen]
        if not todo:
            return done
        for mail_id in todo:
            seen.add(mail_id)
            if _claim(engine, mail_id, me, now):
                done.append(_try(engine, settings, mail_id, me, now))


def resend(engine: Engine, mail_id: int, *, now: datetime | None = None) -> None:
    """Put a failed message back in the queue, tries counted afresh (same Message-ID)."""
    with engine.begin() as conn:
        row = conn.execute(select(t.c.status, t.c.sent_at).where(t.c.mail_id == mail_id)).first()
        if row is None:
            raise ConfigError(f"no mail {mail_id} in the outbox; `ecc scheduler --list` shows them")
        if row.status != "failed":
            when = f" at {row.sent_at:%Y-%m-%d %H:%M} UTC" if row.sent_at else ""
            raise ConfigError(
                f"mail {mail_id} is {row.status}{when}; only a failed mail can be sent again"
            )
        conn.execute(
            update(t)
            .where(t.c.mail_id == mail_id, t.c.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now or utcnow())
        )


def counts(conn: Connection) -> dict[str, int]:
    """Messages by status."""
    rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
    return {str(s): int(n) for s, n in rows}


def unsent(conn: Connection, limit: int = 20) -> list[Any]:
    """Messages not sent (pending, sending or failed), oldest first."""
    return list(
        conn.execute(
            select(
                t.c.mail_id,
                t.c.run_id,
                t.c.kind,
                t.c.status,
                t.c.attempts,
                t.c.subject,
                t.c.next_attempt_at,
                t.c.last_error,
            )
            .where(t.c.status != "sent")
            .order_by(t.c.mail_id)
            .limit(limit)
        ).all()
    )
