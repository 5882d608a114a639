"""Subscriptions: "email me (and these people) this view", made from a page and kept in
the database.

A subscription is one dashboard view (page, period preset, comparison, filters), its
formats (PDF, Excel), when (every Monday 07:00, the 1st of the month 07:00, or a crontab
line) in the subscriber's time zone, and whom to send it to. The scheduler turns each
active one into a :class:`~ecc.schedule.config.Schedule` — the same runs, run records,
outbox, retries and exactly-once delivery as ``schedules/*.yaml`` — and reads them again
every :func:`read_every`: a change applies without restarting it.

**One pack per recipient**: a subscription may fan out by segment (each segment's
recipients get the pack filtered to that segment) or by CSM (each active CSM of the view
gets their own book, at the address the CSM table gives); each is a schedule of its own,
with its own run records and mail.

Recipients outside the organisation's domains (``ECC_ORG_DOMAINS``) wait for an admin's
approval: the subscription is *pending* until then, and sends nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, insert, select, update

from .. import audit, variables
from ..clock import utcnow
from ..config import SEGMENTS
from ..errors import ConfigError
from ..filters import Filters
from ..reports.params import REPORTABLE
from ..schema import csms, subscriptions
from .config import Schedule, cron_trigger


def read_every() -> timedelta:
    """How often the scheduler reads the subscriptions again (``ECC_SUBSCRIPTIONS_EVERY``)."""
    raw = variables.value("ECC_SUBSCRIPTIONS_EVERY")
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"ECC_SUBSCRIPTIONS_EVERY is seconds, not {raw!r}") from None
    if not 0.5 <= seconds <= 3600:
        raise ConfigError(f"ECC_SUBSCRIPTIONS_EVERY must be 0.5 to 3600 seconds, not {raw}")
    return timedelta(seconds=seconds)


CADENCES = {
    "weekly": ("0 7 * * 1", "every Monday at 07:00"),
    "monthly": ("0 7 1 * *", "on the 1st of the month at 07:00"),
}
FORMATS = ("pdf", "xlsx")
FAN_OUTS = ("segment", "csm")
MAX_RECIPIENTS = 50
STATES = ("active", "paused", "pending")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True)
class Plan:
    """What a subscription asks for, checked (:func:`check`)."""

    page: str
    query: str
    formats: tuple[str, ...]
    cron: str
    timezone: str
    recipients: tuple[str, ...]
    fan_out: str | None = None
    by_segment: tuple[tuple[str, tuple[str, ...]], ...] = ()


def org_domains() -> tuple[str, ...]:
    """The organisation's mail domains: ``ECC_ORG_DOMAINS``, else the sender's domain."""
    given = variables.value("ECC_ORG_DOMAINS")
    if given:
        return tuple(d.strip().lower().lstrip("@") for d in given.split(",") if d.strip())
    sender = variables.value("ECC_MAIL_FROM")
    found = re.search(r"@([^>\s]+)", sender)
    return (found[1].lower(),) if found else ()


def outside(addresses: tuple[str, ...]) -> list[str]:
    """The addresses outside the organisation's domains."""
    domains = org_domains()
    return [a for a in addresses if a.rsplit("@", 1)[1].lower() not in domains]


def addresses(text: str | list[str] | tuple[str, ...], what: str = "recipients") -> tuple[str, ...]:
    """Email addresses from a comma-, semicolon- or line-separated text, each checked."""
    items = text if isinstance(text, list | tuple) else re.split(r"[,;\s]+", text)
    found = tuple(dict.fromkeys(a.strip() for a in items if a.strip()))
    bad = [a for a in found if len(a) > 254 or not _EMAIL.fullmatch(a)]
    if bad:
        shown = ", ".join(repr(a[:60]) for a in bad[:3])
        raise ConfigError(f"{what}: {shown} is not an email address (name@example.com)")
    if len(found) > MAX_RECIPIENTS:
        raise ConfigError(f"{what}: at most {MAX_RECIPIENTS} addresses, not {len(found)}")
    return found


def check(
    *,
    page: str,
    query: str,
    formats: tuple[str, ...] | list[str],
    cadence: str,
    timezone: str,
    recipients: str | list[str] | tuple[str, ...],
    cron: str = "",
    fan_out: str | None = None,
    by_segment: dict[str, str | list[str]] | None = None,
) -> Plan:
    """A subscription's fields made valid, or a ConfigError naming what is wrong and how
    to fix it."""
    if page not in REPORTABLE:
        raise ConfigError(
            f"{page!r} is not a dashboard to subscribe to; choose one of: "
            + ", ".join(sorted(REPORTABLE))
        )
    chosen = tuple(dict.fromkeys(formats))
    if not chosen or any(f not in FORMATS for f in chosen):
        raise ConfigError("choose PDF, Excel or both")
    if cadence in CADENCES:
        cron = CADENCES[cadence][0]
    elif cadence != "custom":
        raise ConfigError(f"a subscription is weekly, monthly or custom, not {cadence!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {timezone[:60]!r}: give an IANA name such as Europe/London"
        ) from None
    try:
        cron_trigger(cron, timezone)
    except ValueError as exc:
        raise ConfigError(
            f"the custom time {cron[:60]!r} is not a crontab line ({exc}): five fields, "
            'minute hour day-of-month month day-of-week, e.g. "0 7 * * 1" for Mondays 07:00'
        ) from None
    to = addresses(recipients)
    segments: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if fan_out is not None and fan_out not in FAN_OUTS:
        raise ConfigError(f"one pack per segment or per CSM, not {fan_out!r}")
    if fan_out == "segment":
        given = by_segment or {}
        unknown = sorted(set(given) - set(SEGMENTS))
        if unknown:
            raise ConfigError(f"unknown segment {unknown[0]!r}; segments: {', '.join(SEGMENTS)}")
        segments = tuple(
            (s, found)
            for s in SEGMENTS
            if (found := addresses(given.get(s, ""), f"{s} recipients"))
        )
        if not segments:
            raise ConfigError("one pack per segment: give the recipients of at least one segment")
    elif not to and fan_out is None:
        raise ConfigError("give at least one recipient (your own address)")
    filters = Filters.of(_filters(query))
    if fan_out == "segment" and filters.segment:
        raise ConfigError(
            "one pack per segment needs the view of every segment (no segment filter)"
        )
    if fan_out == "csm" and filters.csm:
        raise ConfigError("one pack per CSM needs the view of every CSM (no CSM filter)")
    return Plan(page, query, chosen, " ".join(cron.split()), timezone, to, fan_out, segments)


def _filters(query: str) -> dict[str, str]:
    from ..ui.view import parse_query

    view = parse_query(query)
    return {k: v for k, v in view.filters().items() if v is not None} | {
        "compare": view.compare or "none"
    }


def everyone_on(plan: Plan) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*plan.recipients, *(a for _, to in plan.by_segment for a in to)]))


def _row(plan: Plan) -> dict[str, Any]:
    return {
        "page": plan.page,
        "params": plan.query,
        "formats": ",".join(plan.formats),
        "cron": plan.cron,
        "timezone": plan.timezone,
        "recipients": ",".join(plan.recipients),
        "fan_out": plan.fan_out,
        "by_segment": json.dumps({s: list(to) for s, to in plan.by_segment}),
    }


def subscribe(engine: Engine, plan: Plan, *, owner: str, admin: bool = False) -> int:
    """Keep ``plan`` as ``owner``'s subscription; its id. Pending when a recipient is
    outside the organisation and the owner is not an admin."""
    if not owner:
        raise ConfigError("subscribing needs to know who you are: open the page through the hub")
    now = utcnow()
    waiting = bool(outside(everyone_on(plan))) and not admin
    with engine.begin() as conn:
        got = conn.execute(
            insert(subscriptions).values(
                owner=owner,
                state="pending" if waiting else "active",
                created_at=now,
                updated_at=now,
                **_row(plan),
            )
        )
        key = got.inserted_primary_key
        assert key is not None
        sub_id = int(key[0])
        audit.record(
            conn,
            owner,
            "subscription.create",
            f"subscription {sub_id}",
            state="pending" if waiting else "active",
            **_row(plan),
        )
        return sub_id


def _mine(sub_id: int, who: str, admin: bool) -> list[Any]:
    t = subscriptions
    return [t.c.sub_id == sub_id, *([] if admin else [t.c.owner == who])]


def change(engine: Engine, sub_id: int, plan: Plan, *, who: str, admin: bool = False) -> str:
    """Replace a subscription's plan (its owner, or an admin); its state after: pending
    again when a new outside recipient needs approval."""
    t = subscriptions
    with engine.begin() as conn:
        row = conn.execute(select(t).where(*_mine(sub_id, who, admin))).first()
        if row is None or row.state == "removed":
            raise ConfigError(f"no subscription {sub_id} of yours")
        approved = set(everyone_on(_plan_of(row))) if row.state != "pending" else set()
        new_outside = set(outside(everyone_on(plan))) - approved
        state = "pending" if new_outside and not admin else str(row.state)
        by = None if state == "pending" else row.approved_by
        conn.execute(
            update(t)
            .where(t.c.sub_id == sub_id)
            .values(state=state, updated_at=utcnow(), approved_by=by, **_row(plan))
        )
        audit.record(
            conn, who, "subscription.change", f"subscription {sub_id}", state=state, **_row(plan)
        )
    return state


def set_state(engine: Engine, sub_id: int, state: str, *, who: str, admin: bool = False) -> None:
    """Pause or resume (``paused`` / ``active``) a subscription: its owner or an admin;
    approving a pending one is :func:`approve`."""
    if state not in ("active", "paused"):
        raise ConfigError(f"a subscription is paused or active, not {state!r}")
    t = subscriptions
    with engine.begin() as conn:
        done = conn.execute(
            update(t)
            .where(*_mine(sub_id, who, admin), t.c.state != "pending")
            .values(state=state, updated_at=utcnow())
        ).rowcount
        if done:
            verb = "pause" if state == "paused" else "resume"
            audit.record(conn, who, f"subscription.{verb}", f"subscription {sub_id}")
    if not done:
        raise ConfigError(
            f"no subscription {sub_id} of yours to change (a pending one waits for an admin)"
        )


def approve(engine: Engine, sub_id: int, *, admin: str) -> None:
    """An admin lets a pending subscription send (to its outside recipients too)."""
    t = subscriptions
    with engine.begin() as conn:
        done = conn.execute(
            update(t)
            .where(t.c.sub_id == sub_id, t.c.state == "pending")
            .values(state="active", approved_by=admin, updated_at=utcnow())
        ).rowcount
        if done:
            audit.record(conn, admin, "subscription.approve", f"subscription {sub_id}")
    if not done:
        raise ConfigError(f"no pending subscription {sub_id}")


def remove(engine: Engine, sub_id: int, *, who: str, admin: bool = False) -> None:
    """Remove a subscription (its owner or an admin); its past runs stay recorded."""
    t = subscriptions
    with engine.begin() as conn:
        done = conn.execute(
            update(t)
            .where(*_mine(sub_id, who, admin), t.c.state != "removed")
            .values(state="removed", updated_at=utcnow())
        ).rowcount
        if done:
            audit.record(conn, who, "subscription.remove", f"subscription {sub_id}")
    if not done:
        raise ConfigError(f"no subscription {sub_id} of yours")


def listing(conn: Connection, who: str, *, everyone: bool = False) -> list[dict[str, Any]]:
    """``who``'s subscriptions (every one for an admin), newest first; removed ones left out."""
    t = subscriptions
    q = select(t).where(t.c.state != "removed").order_by(t.c.created_at.desc(), t.c.sub_id.desc())
    if not everyone:
        q = q.where(t.c.owner == who)
    return [dict(r) for r in conn.execute(q).mappings()]


def _plan_of(row: Any) -> Plan:
    by = json.loads(row.by_segment or "{}")
    return Plan(
        page=row.page,
        query=row.params,
        formats=tuple(row.formats.split(",")),
        cron=row.cron,
        timezone=row.timezone,
        recipients=tuple(a for a in (row.recipients or "").split(",") if a),
        fan_out=row.fan_out,
        by_segment=tuple((s, tuple(to)) for s, to in by.items()),
    )


def _tag(text: str) -> str:
    """A schedule-name-safe tag for a value from the data (a CSM id)."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def schedules(engine: Engine) -> list[Schedule]:
    """The active subscriptions as schedules: one each, or one per segment or CSM of a
    fan-out (named ``sub-<id>``, ``sub-<id>-<segment>``, ``sub-<id>-csm-<tag>``)."""
    t = subscriptions
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.state == "active").order_by(t.c.sub_id)).all()
        people = conn.execute(
            select(csms.c.csm_id, csms.c.email, csms.c.segment).where(csms.c.active)
        ).all()
    out: list[Schedule] = []
    for row in rows:
        plan = _plan_of(row)
        base = Filters.of(_filters(plan.query))
        one = Schedule(
            name=f"sub-{row.sub_id}",
            path=Path(f"subscription {row.sub_id} of {row.owner}"),
            cron=plan.cron,
            timezone=plan.timezone,
            notebooks=(plan.page,),
            params=base,
            formats=plan.formats,
            recipients=plan.recipients,
            description=f"Subscription {row.sub_id} of {row.owner}",
        )
        if plan.fan_out is None:
            out.append(one)
        elif plan.fan_out == "segment":
            out += [
                replace(
                    one,
                    name=f"{one.name}-{segment}",
                    params=base.with_(segment=segment),
                    recipients=to,
                )
                for segment, to in plan.by_segment
            ]
        else:
            out += [
                replace(
                    one,
                    name=f"{one.name}-csm-{_tag(csm_id)}",
                    params=base.with_(csm=csm_id),
                    recipients=(email,),
                )
                for csm_id, email, segment in people
                if not base.segment or segment == base.segment
            ]
    return out
