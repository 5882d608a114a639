"""Alert emails: immediate mail for critical alerts, daily and weekly digests.

Each subscriber (``alert_subscribers``) chooses one cadence:

- ``immediate``: the critical alerts, mailed as soon as the scheduler sees them (it looks
  every minute);
- ``daily`` / ``weekly``: a digest of every alert recorded since their last digest,
  grouped by severity, mailed by the scheduler at the digest times.

No duplicate and no gap: what was mailed to whom is recorded in ``alert_deliveries``
(primary key: person and alert) in the same transaction that puts the message in the
outbox (:mod:`ecc.mail.outbox`), which then delivers it at most once, retrying while the
SMTP server is away. A digest takes every alert not yet delivered to that person —
whatever its id, whenever it was committed — so an alert recorded while a digest was
being made goes into the next one. Alerts recorded before someone subscribed are not
mailed to them.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection, Engine, and_, exists, insert, select
from sqlalchemy.exc import IntegrityError

from .. import variables
from ..clock import utcnow
from ..errors import ConfigError
from ..freshness import freshness
from ..mail.outbox import enqueue
from ..schema import alert_deliveries, alert_subscribers, executive_alerts
from .store import RULE_WORDS, SEVERITIES, SEVERITY_MARK, AlertFilter, AlertRow, list_alerts

log = logging.getLogger("ecc.alerts")

CADENCES: tuple[str, ...] = ("immediate", "daily", "weekly")
#: A mail lists at most this many alerts of each severity (the rest: a link).
PER_SEVERITY = 25
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEVERITY_COLOURS: dict[str, str] = {
    "critical": "#b42318",
    "high": "#c4320a",
    "warning": "#8a6100",
    "info": "#1f4e8c",
}


# ------------------------------------------------------------------ subscribers


def subscribe(engine: Engine, email: str, cadence: str, name: str | None = None) -> bool:
    """Add a subscriber or change their cadence; True when they are new."""
    email = email.strip().lower()
    if not _ADDRESS.match(email):
        raise ConfigError(f"{email!r} is not an email address; write e.g. vp@example.com")
    if cadence not in CADENCES:
        raise ConfigError(f"unknown cadence {cadence!r}; choose one of: {', '.join(CADENCES)}")
    s = alert_subscribers.c
    with engine.begin() as conn:
        known = conn.execute(select(s.email).where(s.email == email)).first() is not None
        if known:
            values: dict[str, Any] = {"cadence": cadence}
            if name is not None:
                values["name"] = name
            conn.execute(alert_subscribers.update().where(s.email == email).values(**values))
        else:
            conn.execute(
                insert(alert_subscribers).values(
                    email=email, name=name, cadence=cadence, subscribed_at=utcnow()
                )
            )
    return not known


def unsubscribe(engine: Engine, email: str) -> bool:
    """Remove a subscriber (what they were sent stays recorded); True when they existed."""
    with engine.begin() as conn:
        res = conn.execute(
            alert_subscribers.delete().where(alert_subscribers.c.email == email.strip().lower())
        )
        return bool(res.rowcount)


def subscribers(conn: Connection, cadence: str | None = None) -> list[Any]:
    q = select(alert_subscribers).order_by(alert_subscribers.c.email)
    if cadence is not None:
        q = q.where(alert_subscribers.c.cadence == cadence)
    return list(conn.execute(q))


def default_subscribers(engine: Engine, environ: Mapping[str, str] | None = None) -> int:
    """With no subscriber at all, subscribe ``ECC_ALERT_EMAILS`` (default cadence daily;
    ``vp@example.com:immediate`` picks one): VP and Admin addresses, as deployed. The
    number added."""
    env = os.environ if environ is None else environ
    raw = [e.strip() for e in variables.value("ECC_ALERT_EMAILS", env).split(",") if e.strip()]
    with engine.connect() as conn:
        if not raw or subscribers(conn):
            return 0
    added = 0
    for item in raw:
        email, _, cadence = item.partition(":")
        try:
            added += subscribe(engine, email, cadence or "daily")
        except ConfigError as exc:
            raise ConfigError(f"ECC_ALERT_EMAILS: {exc}") from None
    return added


# ------------------------------------------------------------------ links


def dashboards_url(environ: Mapping[str, str] | None = None) -> str:
    """Where the dashboard pages are, for links in mail: ``ECC_DASHBOARDS_URL``, else the
    hub's dashboards service when ``ECC_HUB_URL`` is set, else ``ecc serve``'s address."""
    env = os.environ if environ is None else environ
    explicit = variables.value("ECC_DASHBOARDS_URL", env)
    if explicit:
        base = explicit
    elif variables.given("ECC_HUB_URL", env):
        from ..hub.settings import hub_settings

        base = hub_settings(env).dashboards_url
    else:
        base = "http://127.0.0.1:8866/"
    return base.rstrip("/") + "/voila/render/"


def subject_url(base: str, row: AlertRow) -> str:
    """The page of the alert's subject: the account (a customer, a renewal's customer) or
    the CSM's portfolio."""
    if row["subject_type"] == "csm":
        return f"{base}csm.ipynb?{urlencode({'csm': row['subject_id']})}"
    if row["customer_id"]:
        return f"{base}account.ipynb?{urlencode({'customer': row['customer_id']})}"
    return f"{base}alerts.ipynb"


# ------------------------------------------------------------------ the message


@dataclass(frozen=True)
class Digest:
    cadence: str
    rows: list[AlertRow]  # newest first
    # what a reader should know first: stale data, a failed refresh (ecc.freshness)
    warnings: tuple[str, ...] = ()

    def by_severity(self) -> list[tuple[str, list[AlertRow]]]:
        return [
            (sev, [r for r in self.rows if r["severity"] == sev])
            for sev in SEVERITIES
            if any(r["severity"] == sev for r in self.rows)
        ]

    def subject(self) -> str:
        counts = ", ".join(f"{len(rows)} {sev}" for sev, rows in self.by_severity())
        if self.cadence == "immediate":
            if len(self.rows) == 1:
                # one line: a name from the data may hold line breaks or control characters
                message = " ".join(self.rows[0]["message"].split())
                return f"[ECC] Critical alert: {message}"[:200]
            return f"[ECC] {len(self.rows)} critical alerts"
        return f"[ECC] {self.cadence.capitalize()} alert digest: {counts}"


def _day(iso: str) -> str:
    return f"{datetime.fromisoformat(iso):%b %-d, %Y}"


def compose(sender: str, to: str, name: str | None, digest: Digest, base: str) -> EmailMessage:
    """A multipart message: plain text and HTML, alerts grouped by severity with links."""
    msg = EmailMessage()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring="ecc-alerts", domain=domain)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = digest.subject()
    center = f"{base}alerts.ipynb"
    intro = {
        "immediate": "A critical alert was just recorded."
        if len(digest.rows) == 1
        else f"{len(digest.rows)} critical alerts were just recorded.",
        "daily": f"{len(digest.rows)} new alerts since your last daily digest.",
        "weekly": f"{len(digest.rows)} new alerts since your last weekly digest.",
    }[digest.cadence]
    greeting = f"Hello {name}," if name else "Hello,"

    text = [greeting, "", *(f"WARNING: {w}" for w in digest.warnings), intro, ""]
    for sev, rows in digest.by_severity():
        text.append(f"{sev.upper()} ({len(rows)})")
        for r in rows[:PER_SEVERITY]:
            text.append(f"  - {_day(r['fired_on'])} · {RULE_WORDS.get(r['rule'], r['rule'])}")
            text.append(f"    {r['message']}")
            text.append(f"    {subject_url(base, r)}")
        if len(rows) > PER_SEVERITY:
            text.append(f"  ... and {len(rows) - PER_SEVERITY} more in the alerts center")
        text.append("")
    text += [f"The alerts center: {center}", "", _footer(digest.cadence)]
    msg.set_content("\n".join(text) + "\n", cte="quoted-printable")

    esc = html.escape
    sections = []
    for sev, rows in digest.by_severity():
        colour = SEVERITY_COLOURS[sev]
        items = "".join(
            "<tr>"
            f"<td style='padding:6px 10px 6px 0;vertical-align:top;white-space:nowrap;"
            f"color:#555'>{esc(_day(r['fired_on']))}</td>"
            f"<td style='padding:6px 0;vertical-align:top'>"
            f"<strong>{esc(RULE_WORDS.get(r['rule'], r['rule']))}</strong><br>"
            f"{esc(r['message'])}<br>"
            f"<a href='{esc(subject_url(base, r))}' style='color:#1f4e8c'>Open "
            f"{'the CSM' if r['subject_type'] == 'csm' else 'the account'}</a></td></tr>"
            for r in rows[:PER_SEVERITY]
        )
        if len(rows) > PER_SEVERITY:
            items += (
                f"<tr><td></td><td style='padding:6px 0'><a href='{esc(center)}' "
                f"style='color:#1f4e8c'>{len(rows) - PER_SEVERITY} more {esc(sev)} alerts "
                "in the alerts center</a></td></tr>"
            )
        sections.append(
            f"<h2 style='font-size:15px;margin:18px 0 4px;color:{colour}' "
            f"data-severity='{esc(sev)}'>{SEVERITY_MARK[sev]} {esc(sev.capitalize())} "
            f"({len(rows)})</h2>"
            f"<table style='border-collapse:collapse;border-top:2px solid {colour}'>"
            f"{items}</table>"
        )
    body = (
        "<!doctype html><html><body style='font-family:Arial,Helvetica,sans-serif;"
        "color:#1b1f24;font-size:14px;line-height:1.4;max-width:680px'>"
        "<p style='color:#1f4e8c;font-size:12px;letter-spacing:.08em;text-transform:uppercase;"
        "margin:0'>Executive Command Center</p>"
        f"<h1 style='font-size:20px;margin:4px 0 8px'>{esc(digest.subject()[6:])}</h1>"
        f"<p style='margin:0 0 4px'>{esc(greeting)}</p>"
        + "".join(
            "<p style='margin:6px 0;padding:6px 10px;border-left:4px solid #b7791f;"
            f"background:#fff8e6' data-warning='freshness'><strong>Warning:</strong> "
            f"{esc(w)}</p>"
            for w in digest.warnings
        )
        + f"<p style='margin:0'>{esc(intro)}</p>"
        + "".join(sections)
        + f"<p style='margin-top:20px'><a href='{esc(center)}' style='color:#1f4e8c'>"
        "Open the alerts center</a> to acknowledge them.</p>"
        f"<p style='color:#777;font-size:12px'>{esc(_footer(digest.cadence))}</p>"
        "</body></html>"
    )
    msg.add_alternative(body, subtype="html", cte="quoted-printable")
    return msg


def _footer(cadence: str) -> str:
    what = "critical alerts as they happen" if cadence == "immediate" else f"a {cadence} digest"
    return (
        f"You receive {what} of the Executive Command Center's alerts; "
        "`ecc alerts subscribe` changes that."
    )


# ------------------------------------------------------------------ sending


def _undelivered(conn: Connection, sub: Any, critical_only: bool) -> list[AlertRow]:
    a = executive_alerts.c
    delivered = exists().where(
        and_(alert_deliveries.c.email == sub.email, alert_deliveries.c.alert_id == a.alert_id)
    )
    ids = list(
        conn.execute(
            select(a.alert_id).where(~delivered, a.created_at >= sub.subscribed_at)
        ).scalars()
    )
    if not ids:
        return []
    return list_alerts(conn, AlertFilter(ids=ids, severity="critical" if critical_only else None))


def queue_mail(engine: Engine, cadence: str, sender: str, *, base: str | None = None) -> list[int]:
    """For every subscriber of ``cadence``: the alerts not yet mailed to them (critical ones
    for ``immediate``) as one message in the outbox, recorded as delivered in the same
    transaction. The outbox ids (nothing for a subscriber with nothing new)."""
    if cadence not in CADENCES:
        raise ConfigError(f"unknown cadence {cadence!r}; choose one of: {', '.join(CADENCES)}")
    base = base or dashboards_url()
    with engine.connect() as conn:
        people = subscribers(conn, cadence)
        # alerts evaluated on old data, or after a failed refresh, say so first
        warnings = tuple(freshness(conn).warnings())
    mail_ids: list[int] = []
    for sub in people:
        try:
            with engine.begin() as conn:
                rows = _undelivered(conn, sub, critical_only=cadence == "immediate")
                if not rows:
                    continue
                digest = Digest(cadence, rows, warnings)
                msg = compose(sender, sub.email, sub.name, digest, base)
                mail_id = enqueue(conn, msg, kind="alerts")
                conn.execute(
                    insert(alert_deliveries),
                    [
                        {"email": sub.email, "alert_id": r["alert_id"], "mail_id": mail_id}
                        for r in rows
                    ],
                )
        except IntegrityError:
            # a concurrent run recorded some of these first: its message has them, and
            # this transaction (with its message) is rolled back
            log.info("alerts for %s were queued by another run", sub.email)
            continue
        except Exception:  # one subscriber's message must not stop everyone else's
            log.exception("could not queue the %s alert mail for %s", cadence, sub.email)
            continue
        mail_ids.append(mail_id)
    return mail_ids
