"""Alert email (issue 6): digests and immediate mail received by a real SMTP server on
loopback list exactly the new alerts — no duplicate and no gap across runs, concurrent
runs and an SMTP outage."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from ecc.alerts.digest import (
    Digest,
    dashboards_url,
    default_subscribers,
    queue_mail,
    subscribe,
    subscribers,
    unsubscribe,
)
from ecc.alerts.store import AlertRow, Fired, record
from ecc.clock import utcnow
from ecc.errors import ConfigError
from ecc.mail.outbox import deliver
from ecc.mail.settings import MailSettings, parse_smtp_url
from ecc.schema import alert_deliveries, alert_subscribers, mail_outbox
from tests.support.builders import seed
from tests.support.cli import run as ecc
from tests.support.smtp_sink import SmtpSink

SENDER = "Executive Command Center <ecc@example.com>"
BASE = "https://cc.example.com/services/dashboards/voila/render/"


@pytest.fixture
def book(engine: Engine) -> Engine:
    seed(
        engine,
        csms=[{"csm_id": "csm1", "name": "Dana Reyes", "segment": "Enterprise"}],
        customers=[
            {"customer_id": "c1", "name": "Acme Corp", "segment": "Enterprise"},
            {"customer_id": "c2", "name": "Birch Ltd", "segment": "SMB"},
        ],
        renewals=[{"renewal_id": "r1", "customer_id": "c2", "due_on": "2026-04-30", "arr": "9000"}],
    )
    return engine


def _alerts(engine: Engine, *items: tuple[str, str, str, str, str]) -> list[int]:
    """Record alerts: (rule, severity, subject_type, subject_id, day)."""
    with engine.begin() as conn:
        return record(
            conn,
            [
                Fired(rule, sev, kind, sid, date.fromisoformat(day), f"{rule} of {sid} on {day}")
                for rule, sev, kind, sid, day in items
            ],
        )


def _settings(sink: SmtpSink) -> MailSettings:
    return MailSettings(smtp=parse_smtp_url(sink.url), sender=SENDER)


def _bodies(sink: SmtpSink, to: str) -> list[tuple[str, str, str]]:
    """(subject, plain text, html) of what ``to`` received, in order."""
    out = []
    for r in sink.received:
        if to in r.recipients:
            msg = r.message
            text = msg.get_body(("plain",))
            html = msg.get_body(("html",))
            assert text is not None and html is not None
            out.append((str(msg["Subject"]), text.get_content(), html.get_content()))
    return out


def test_a_daily_digest_lists_exactly_the_new_alerts_grouped_by_severity(book: Engine) -> None:
    subscribe(book, "vp@example.com", "daily", name="Alice")
    subscribe(book, "ops@example.com", "weekly")
    first = _alerts(
        book,
        ("unexpected_churn", "critical", "customer", "c1", "2026-03-10"),
        ("renewal_at_risk_30d", "high", "renewal", "r1", "2026-03-31"),
        ("csm_over_capacity", "warning", "csm", "csm1", "2026-03-11"),
    )
    with SmtpSink() as sink:
        settings = _settings(sink)
        assert len(queue_mail(book, "daily", SENDER, base=BASE)) == 1
        deliver(book, settings)
        ((subject, text, html),) = _bodies(sink, "vp@example.com")
        assert subject == "[ECC] Daily alert digest: 1 critical, 1 high, 1 warning"
        assert "Hello Alice," in text and "3 new alerts since your last daily digest" in text
        # grouped by severity, most severe first, each alert once with its link
        assert text.index("CRITICAL (1)") < text.index("HIGH (1)") < text.index("WARNING (1)")
        for alert_text in ("unexpected_churn of c1", "renewal_at_risk_30d of r1", "of csm1"):
            assert text.count(alert_text) == 1 and alert_text in html
        assert f"{BASE}account.ipynb?customer=c1" in text
        assert f"{BASE}account.ipynb?customer=c2" in text  # the renewal's account
        assert f"{BASE}csm.ipynb?csm=csm1" in text
        assert f'href="{BASE}alerts.ipynb"' in html or f"href='{BASE}alerts.ipynb'" in html
        # nothing new: no second digest
        assert queue_mail(book, "daily", SENDER, base=BASE) == []
        # the next digest holds exactly the alerts recorded since
        later = _alerts(book, ("major_expansion_closed", "info", "customer", "c1", "2026-03-12"))
        queue_mail(book, "daily", SENDER, base=BASE)
        deliver(book, settings)
        mails = _bodies(sink, "vp@example.com")
        assert len(mails) == 2
        subject2, text2, _ = mails[1]
        assert subject2 == "[ECC] Daily alert digest: 1 info"
        assert "major_expansion_closed of c1" in text2 and "unexpected_churn" not in text2
        # the weekly subscriber has had nothing yet, then gets all four at once
        assert _bodies(sink, "ops@example.com") == []
        queue_mail(book, "weekly", SENDER, base=BASE)
        deliver(book, settings)
        ((_, weekly, _),) = _bodies(sink, "ops@example.com")
        assert "4 new alerts since your last weekly digest" in weekly
    with book.connect() as conn:
        sent = {(r.email, r.alert_id) for r in conn.execute(select(alert_deliveries))}
    assert sent == {("vp@example.com", i) for i in first + later} | {
        ("ops@example.com", i) for i in first + later
    }


def test_immediate_subscribers_get_only_critical_alerts(book: Engine) -> None:
    subscribe(book, "cro@example.com", "immediate")
    _alerts(
        book,
        ("large_account_critical", "critical", "customer", "c1", "2026-03-08"),
        ("renewal_at_risk_30d", "high", "renewal", "r1", "2026-03-31"),
    )
    with SmtpSink() as sink:
        queue_mail(book, "immediate", SENDER, base=BASE)
        deliver(book, _settings(sink))
        ((subject, text, _),) = _bodies(sink, "cro@example.com")
    assert subject == "[ECC] Critical alert: large_account_critical of c1 on 2026-03-08"
    assert "renewal_at_risk_30d" not in text


def test_a_hostile_name_or_a_broken_subscriber_stops_no_one_elses_mail(
    book: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Security finding 11: a message with a line break (a customer's name from a CSV)
    makes a one-line subject; ids with URL characters are quoted in links; and a
    subscriber whose mail cannot be built is logged and skipped, not everyone's run."""
    subscribe(book, "cro@example.com", "immediate")
    subscribe(book, "vp@example.com", "immediate")
    with book.begin() as conn:  # a row written by other means, its address unusable
        conn.execute(
            alert_subscribers.update()
            .where(alert_subscribers.c.email == "cro@example.com")
            .values(email="cro@example.com\r\nBcc: all@example.com")
        )
    with book.begin() as conn:
        record(
            conn,
            [
                Fired(
                    "large_account_critical",
                    "critical",
                    "customer",
                    "c1",
                    date(2026, 3, 8),
                    "Acme\r\nBcc: everyone@example.com Corp fell to critical",
                ),
                Fired("over_capacity", "critical", "csm", "a&b=c d", date(2026, 3, 8), "x"),
            ],
        )
    with SmtpSink() as sink:
        queue_mail(book, "immediate", SENDER, base=BASE)
        deliver(book, _settings(sink))
        received = _bodies(sink, "vp@example.com")
        assert [r.recipients for r in sink.received] == [["vp@example.com"]]
    ((subject, text, _),) = received
    assert subject == "[ECC] 2 critical alerts"
    assert f"{BASE}csm.ipynb?csm=a%26b%3Dc+d" in text
    assert "could not queue the immediate alert mail for cro@example.com" in caplog.text
    single = Digest("immediate", [received_row("Acme\r\nBcc: x Corp")])
    assert single.subject() == "[ECC] Critical alert: Acme Bcc: x Corp"


def received_row(message: str) -> AlertRow:
    return AlertRow(
        alert_id=1,
        rule="large_account_critical",
        severity="critical",
        subject_type="customer",
        subject_id="c1",
        fired_on="2026-03-08",
        message=message,
        acknowledged_by=None,
        acknowledged_at=None,
        created_at="2026-03-08T07:00:00",
        segment=None,
        customer_id="c1",
    )


def test_smtp_down_then_back_delivers_each_digest_once(book: Engine) -> None:
    subscribe(book, "vp@example.com", "daily")
    sink = SmtpSink()  # not started: nothing listens on its port
    settings = _settings(sink)
    _alerts(book, ("unexpected_churn", "critical", "customer", "c1", "2026-03-10"))
    queue_mail(book, "daily", SENDER, base=BASE)
    (attempt,) = deliver(book, settings)
    assert attempt.status == "pending" and attempt.error
    # a new alert while the server is away goes into the next digest, not the waiting one
    _alerts(book, ("unexpected_churn", "high", "customer", "c2", "2026-03-11"))
    queue_mail(book, "daily", SENDER, base=BASE)
    with sink:
        later = utcnow() + timedelta(hours=2)
        deliver(book, settings, now=later)  # both are due by then
        deliver(book, settings, now=later)  # and nothing is sent twice
        mails = _bodies(sink, "vp@example.com")
    assert len(mails) == 2
    assert "of c1" in mails[0][1] and "of c2" not in mails[0][1]
    assert "of c2" in mails[1][1] and "of c1" not in mails[1][1]
    with book.connect() as conn:
        statuses = list(conn.execute(select(mail_outbox.c.status)).scalars())
    assert statuses == ["sent", "sent"]


def test_concurrent_digest_runs_queue_each_alert_once(book: Engine) -> None:
    for i in range(5):
        subscribe(book, f"person{i}@example.com", "daily")
    _alerts(
        book,
        ("unexpected_churn", "critical", "customer", "c1", "2026-03-10"),
        ("unexpected_churn", "high", "customer", "c2", "2026-03-10"),
    )
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            queue_mail(book, "daily", SENDER, base=BASE)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker did not finish within 60 s"
    assert errors == []
    with book.connect() as conn:
        mails = conn.execute(select(func.count()).select_from(mail_outbox)).scalar_one()
        pairs = list(conn.execute(select(alert_deliveries.c.email, alert_deliveries.c.alert_id)))
    assert mails == 5
    assert len(pairs) == len(set(pairs)) == 10


def test_subscribers_settings_and_defaults(book: Engine) -> None:
    assert (
        default_subscribers(
            book, {"ECC_ALERT_EMAILS": "vp@example.com,admin@example.com:immediate"}
        )
        == 2
    )
    with book.connect() as conn:
        got: list[Any] = [(p.email, p.cadence) for p in subscribers(conn)]
    assert got == [("admin@example.com", "immediate"), ("vp@example.com", "daily")]
    # only when nobody is subscribed yet
    assert default_subscribers(book, {"ECC_ALERT_EMAILS": "other@example.com"}) == 0
    assert subscribe(book, "VP@example.com", "weekly") is False  # addresses are case-blind
    assert unsubscribe(book, "admin@example.com") and not unsubscribe(book, "admin@example.com")
    with pytest.raises(ConfigError, match="not an email address"):
        subscribe(book, "not-an-address", "daily")
    with pytest.raises(ConfigError, match="unknown cadence"):
        subscribe(book, "vp@example.com", "hourly")
    assert dashboards_url({"ECC_HUB_URL": "https://hub.example.com/"}) == (
        "https://hub.example.com/services/dashboards/voila/render/"
    )
    assert dashboards_url({}) == "http://127.0.0.1:8866/voila/render/"


def test_cli_subscribe_and_mail(book: Engine, db_url: str) -> None:
    out = ecc("alerts", "subscribe", "vp@example.com", "--cadence", "daily", "--db", db_url)
    assert out.returncode == 0 and "subscribed" in out.stdout
    _alerts(book, ("unexpected_churn", "critical", "customer", "c1", "2026-03-10"))
    with SmtpSink() as sink:
        out = ecc("alerts", "mail", "--cadence", "daily", "--db", db_url,
                  env={"ECC_SMTP_URL": sink.url})  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert "1 daily alert mail(s) queued; 1 sent now" in out.stdout
        assert len(_bodies(sink, "vp@example.com")) == 1
    out = ecc("alerts", "unsubscribe", "nobody@example.com", "--db", db_url)
    assert out.returncode == 2 and "is not subscribed" in out.stderr


def test_the_scheduler_mails_critical_alerts_at_once_and_a_missed_digest_once(
    book: Engine, db_url: str, tmp_path: Path
) -> None:
    from ecc.schedule.alert_times import digest_triggers
    from ecc.schedule.service import last_fire_time
    from tests.support.scheduler import (
        _make_due,
        env_for,
        schedule_file,
        scheduler,
        start_up_done,
        wait_for,
    )

    folder, out = tmp_path / "schedules", tmp_path / "out"
    schedule_file(folder, "weekly")
    subscribe(book, "cro@example.com", "immediate")
    subscribe(book, "vp@example.com", "daily")
    _alerts(
        book,
        ("unexpected_churn", "critical", "customer", "c1", "2026-03-10"),
        ("renewal_at_risk_30d", "high", "renewal", "r1", "2026-03-31"),
    )
    with SmtpSink() as sink:
        with scheduler(db_url, folder, out, sink, tmp_path / "1.log"):
            wait_for(lambda: len(_bodies(sink, "cro@example.com")) == 1, "the critical alert")
        assert _bodies(sink, "vp@example.com") == []  # the daily digest is not due yet
        daily = digest_triggers(env_for(sink))["daily"]  # the scheduler's own time
        due = last_fire_time(daily, datetime.now(UTC))
        assert due is not None
        _make_due(db_url, "alerts:daily", due)  # 07:00 came while the scheduler was down
        with scheduler(db_url, folder, out, sink, tmp_path / "2.log"):
            wait_for(lambda: len(_bodies(sink, "vp@example.com")) == 1, "the missed digest")
        with scheduler(db_url, folder, out, sink, tmp_path / "3.log"):
            # nothing is due: no second digest, no second critical mail
            start_up_done(tmp_path / "3.log")
        ((subject, _, _),) = _bodies(sink, "vp@example.com")
        assert subject == "[ECC] Daily alert digest: 1 critical, 1 high"
        assert len(_bodies(sink, "cro@example.com")) == 1
    status = ecc("scheduler", "--list", "--schedules", str(folder), "--db", db_url)
    assert status.returncode == 0, status.stderr
    assert "daily alert digest\tnext run " in status.stdout


def test_a_long_digest_lists_25_per_severity_and_links_the_rest(book: Engine) -> None:
    subscribe(book, "vp@example.com", "daily")
    days = [f"2026-03-{d:02d}" for d in range(1, 28)]
    _alerts(book, *(("unexpected_churn", "high", "customer", "c1", day) for day in days))
    with SmtpSink() as sink:
        queue_mail(book, "daily", SENDER, base=BASE)
        deliver(book, _settings(sink))
        ((subject, text, html),) = _bodies(sink, "vp@example.com")
    assert subject == "[ECC] Daily alert digest: 27 high"
    assert text.count("unexpected_churn of c1") == 25  # the newest 25
    assert "on 2026-03-27" in text and "on 2026-03-02" not in text
    assert "... and 2 more in the alerts center" in text
    assert "2 more high alerts" in html


def test_bad_digest_settings_are_refused_by_name() -> None:
    from ecc.schedule.alert_times import digest_triggers

    with pytest.raises(ConfigError, match="ECC_ALERT_DAILY_CRON='7am' is not a crontab"):
        digest_triggers({"ECC_ALERT_DAILY_CRON": "7am"})
    with pytest.raises(ConfigError, match="ECC_ALERT_TIMEZONE='Mars/Olympus' is not a time zone"):
        digest_triggers({"ECC_ALERT_TIMEZONE": "Mars/Olympus"})
    assert set(digest_triggers({})) == {"daily", "weekly"}


def test_a_digest_on_old_data_says_so_first(book: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # the book's data ends on Mar 12, 2026: older than the two days of ECC_STALE_DAYS
    seed(book, health_scores=[{"customer_id": "c1", "scored_on": "2026-03-12", "score": "35"}])
    subscribe(book, "vp@example.com", "daily")
    _alerts(book, ("unexpected_churn", "critical", "customer", "c1", "2026-03-10"))
    with SmtpSink() as sink:
        queue_mail(book, "daily", SENDER, base=BASE)
        deliver(book, _settings(sink))
        ((_, text, html),) = _bodies(sink, "vp@example.com")
    lines = text.splitlines()
    assert lines[2].startswith("WARNING: The latest data is from Mar 12, 2026")
    assert "the daily load may not have run" in lines[2]
    assert html.index("data-warning='freshness'") < html.index("new alerts since")
    # with a threshold the data is within, the same digest has no warning
    monkeypatch.setenv("ECC_STALE_DAYS", "3650")
    _alerts(book, ("unexpected_churn", "critical", "customer", "c2", "2026-03-11"))
    with SmtpSink() as sink:
        queue_mail(book, "daily", SENDER, base=BASE)
        deliver(book, _settings(sink))
        ((_, text, html),) = _bodies(sink, "vp@example.com")
    assert "WARNING" not in text and "data-warning" not in html
