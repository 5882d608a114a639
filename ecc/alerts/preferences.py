"""Alert mail chosen from the alerts center: each VP or admin sets their own (immediate,
daily, weekly or off) at their address; an admin sets anyone's.

A person's subscription is the ``alert_subscribers`` row named for them (the hub's user
name in ``name``); choosing "off" removes it. Every change is in the audit trail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from .. import audit
from ..clock import utcnow
from ..errors import ConfigError
from ..schema import alert_subscribers
from .digest import _ADDRESS, CADENCES

OFF = "off"
CHOICES = (*CADENCES, OFF)
WORDS = {
    "immediate": "Immediately (critical alerts as they come)",
    "daily": "A daily digest",
    "weekly": "A weekly digest",
    OFF: "Off",
}


def mine(conn: Connection, who: str) -> Any:
    """``who``'s alert subscription (email, cadence), or None."""
    s = alert_subscribers.c
    return conn.execute(select(s.email, s.cadence).where(s.name == who).order_by(s.email)).first()


def everyone(conn: Connection) -> list[dict[str, Any]]:
    """Every alert subscriber, by address."""
    s = alert_subscribers.c
    q = select(s.email, s.name, s.cadence, s.subscribed_at).order_by(s.email)
    return [dict(r) for r in conn.execute(q).mappings()]


def _address(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _ADDRESS.match(email) or any(c in email for c in "<>,;\"'"):
        raise ConfigError(f"{email[:60]!r} is not an email address; write e.g. vp@example.com")
    return email


def set_mine(engine: Engine, who: str, email: str, choice: str) -> str:
    """Set ``who``'s own alert mail: ``choice`` a cadence or "off"; a sentence saying what
    is now the case."""
    if not who:
        raise ConfigError("alert mail is set for the person signed in through the hub")
    if choice not in CHOICES:
        raise ConfigError(f"choose one of: {', '.join(CHOICES)}")
    s = alert_subscribers.c
    with engine.begin() as conn:
        if choice == OFF:
            conn.execute(delete(alert_subscribers).where(s.name == who))
            audit.record(conn, who, "alerts.off", f"alert mail of {who}")
            return "Alert mail is off for you."
        address = _address(email)
        taken = conn.execute(select(s.name).where(s.email == address)).first()
        if taken is not None and taken.name not in (None, who):
            raise ConfigError(f"{address} receives alert mail for {taken.name}; use your own")
        conn.execute(delete(alert_subscribers).where(s.name == who, s.email != address))
        if taken is None:
            conn.execute(
                insert(alert_subscribers).values(
                    email=address, name=who, cadence=choice, subscribed_at=utcnow()
                )
            )
        else:
            conn.execute(
                update(alert_subscribers).where(s.email == address).values(name=who, cadence=choice)
            )
        audit.record(conn, who, "alerts.set", f"alert mail of {who}", email=address, cadence=choice)
    return f"Alert mail to {address}: {WORDS[choice].lower()}."


def set_for(engine: Engine, admin: str, email: str, choice: str) -> None:
    """An admin sets anyone's alert mail (by address): a cadence, or "off" to remove it."""
    if choice not in CHOICES:
        raise ConfigError(f"choose one of: {', '.join(CHOICES)}")
    address = _address(email)
    s = alert_subscribers.c
    with engine.begin() as conn:
        if choice == OFF:
            done = conn.execute(delete(alert_subscribers).where(s.email == address)).rowcount
        else:
            done = conn.execute(
                update(alert_subscribers).where(s.email == address).values(cadence=choice)
            ).rowcount
        if not done:
            raise ConfigError(f"no alert subscriber {address}")
        audit.record(conn, admin, "alerts.set_for", f"alert mail of {address}", cadence=choice)
