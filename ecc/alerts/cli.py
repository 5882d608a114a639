"""``ecc alerts``: evaluate the rules over a range, list alerts, acknowledge them."""

from __future__ import annotations

import json
from datetime import date

import click

from ..db import check_schema, make_engine
from ..errors import ConfigError
from .store import RULES, SEVERITIES, AlertFilter, acknowledge, list_alerts

DB = click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="SQLAlchemy database URL (default: $ECC_DATABASE_URL, else data/ecc.sqlite).",
)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date; write it as YYYY-MM-DD") from None


@click.group("alerts")
def alerts() -> None:
    """Executive alerts (METRICS.md): evaluate the rules, list and acknowledge alerts."""


@alerts.command("run")
@DB
@click.option("--since", required=True, metavar="YYYY-MM-DD", help="First day to evaluate.")
@click.option(
    "--until", default=None, metavar="YYYY-MM-DD", help="Last day to evaluate (default: --since)."
)
def run(db_url: str | None, since: str, until: str | None) -> None:
    """Evaluate every rule for every day in [SINCE, UNTIL] and record the new alerts."""
    from .evaluate import run_range

    first = _day(since, "--since")
    assert first is not None
    last = _day(until, "--until") or first
    engine = make_engine(db_url)
    check_schema(engine)
    result = run_range(engine, first, last)
    click.echo(
        f"alerts {first.isoformat()}..{last.isoformat()}: {result.fired} fired, "
        f"{len(result.new)} new, {result.fired - len(result.new)} already recorded"
    )


@alerts.command("list")
@DB
@click.option(
    "--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True
)
@click.option("--severity", type=click.Choice(SEVERITIES), default=None)
@click.option("--rule", type=click.Choice(RULES), default=None)
@click.option("--segment", default=None, help="Enterprise, Mid-market or SMB.")
@click.option("--unacknowledged", is_flag=True, help="Only alerts nobody acknowledged yet.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Fired on or after this day.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Fired on or before this day.")
def list_(
    db_url: str | None,
    fmt: str,
    severity: str | None,
    rule: str | None,
    segment: str | None,
    unacknowledged: bool,
    since: str | None,
    until: str | None,
) -> None:
    """List alerts, newest first."""
    from ..config import SEGMENTS

    if segment is not None and segment not in SEGMENTS:
        raise ConfigError(f"unknown segment {segment!r}; choose one of: {', '.join(SEGMENTS)}")
    engine = make_engine(db_url)
    check_schema(engine)
    filt = AlertFilter(
        severity=severity,
        rule=rule,
        segment=segment,
        acknowledged=False if unacknowledged else None,
        since=_day(since, "--since"),
        until=_day(until, "--until"),
    )
    with engine.connect() as conn:
        rows = list_alerts(conn, filt)
    if fmt == "json":
        keys = (
            "rule",
            "severity",
            "subject_type",
            "subject_id",
            "fired_on",
            "message",
            "acknowledged_by",
            "acknowledged_at",
        )
        out = [{k: r[k] for k in keys} | {"alert_id": r["alert_id"]} for r in rows]  # type: ignore[literal-required]
        click.echo(json.dumps(out, indent=2))
        return
    if not rows:
        click.echo("no alerts match")
        return
    for r in rows:
        ack = f"  [acknowledged by {r['acknowledged_by']}]" if r["acknowledged_by"] else ""
        click.echo(
            f"#{r['alert_id']:<5} {r['fired_on']}  {r['severity']:<8} {r['rule']:<23} "
            f"{r['message']}{ack}"
        )


@alerts.command("ack")
@DB
@click.argument("alert_ids", nargs=-1, type=int, required=True)
@click.option("--by", "user", required=True, help="Who acknowledges them.")
def ack(db_url: str | None, alert_ids: tuple[int, ...], user: str) -> None:
    """Acknowledge alerts by id (as `ecc alerts list` shows them)."""
    engine = make_engine(db_url)
    check_schema(engine)
    n = acknowledge(engine, alert_ids, user)
    click.echo(f"{n} acknowledged by {user} ({len(alert_ids) - n} already were)")


@alerts.command("subscribe")
@DB
@click.argument("email")
@click.option(
    "--cadence",
    type=click.Choice(["immediate", "daily", "weekly"]),
    default="daily",
    show_default=True,
    help="immediate: critical alerts as they happen; daily or weekly: a digest of all.",
)
@click.option("--name", default=None, help="How the mail greets them.")
def subscribe_(db_url: str | None, email: str, cadence: str, name: str | None) -> None:
    """Mail alerts to EMAIL (or change how they are mailed)."""
    from .digest import subscribe

    engine = make_engine(db_url)
    check_schema(engine)
    new = subscribe(engine, email, cadence, name)
    click.echo(f"{email}: {cadence} ({'subscribed' if new else 'changed'})")


@alerts.command("unsubscribe")
@DB
@click.argument("email")
def unsubscribe_(db_url: str | None, email: str) -> None:
    """Stop mailing alerts to EMAIL."""
    from .digest import unsubscribe

    engine = make_engine(db_url)
    check_schema(engine)
    if not unsubscribe(engine, email):
        raise ConfigError(f"{email} is not subscribed; `ecc alerts subscribers` lists who is")
    click.echo(f"{email}: unsubscribed")


@alerts.command("subscribers")
@DB
def subscribers_(db_url: str | None) -> None:
    """Who gets alert mail, and how."""
    from .digest import subscribers

    engine = make_engine(db_url)
    check_schema(engine)
    with engine.connect() as conn:
        people = subscribers(conn)
    if not people:
        click.echo("nobody is subscribed; `ecc alerts subscribe EMAIL --cadence daily` adds one")
    for p in people:
        click.echo(f"{p.email:<32} {p.cadence:<10} {p.name or ''}")


@alerts.command("mail")
@DB
@click.option("--cadence", type=click.Choice(["immediate", "daily", "weekly"]), required=True)
def mail_(db_url: str | None, cadence: str) -> None:
    """Queue the alert mail of CADENCE now and send the outbox (the scheduler does this
    at the digest times)."""
    from ..mail.outbox import deliver
    from ..mail.settings import mail_settings
    from .digest import queue_mail

    settings = mail_settings()
    settings.require_smtp()
    engine = make_engine(db_url)
    check_schema(engine)
    queued = queue_mail(engine, cadence, settings.sender)
    results = deliver(engine, settings)
    sent = sum(1 for r in results if r.status == "sent")
    click.echo(f"{len(queued)} {cadence} alert mail(s) queued; {sent} sent now")
