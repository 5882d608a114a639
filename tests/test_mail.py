"""Mail: ECC_SMTP_URL, and the outbox against a real SMTP server on loopback — recorded
first, sent at most once (also with two senders at once), retried with backoff while the
server is down, given up after the last try with the admins told."""

from __future__ import annotations

import threading
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, select

from ecc.db import make_engine
from ecc.errors import ConfigError
from ecc.mail import outbox
from ecc.mail.compose import admin_message
from ecc.mail.settings import MailSettings, mail_settings, parse_smtp_url
from ecc.schema import mail_outbox
from tests.support.servers import free_port
from tests.support.smtp_sink import SmtpSink

ADMIN = "ops@example.com"


def settings(url: str, *, admins: tuple[str, ...] = (ADMIN,)) -> MailSettings:
    return MailSettings(
        smtp=parse_smtp_url(url + ("&" if "?" in url else "?") + "timeout=5"),
        sender="ECC <ecc@example.com>",
        admins=admins,
    )


def note(subject: str = "hello", to: tuple[str, ...] = ("vp@example.com",)) -> EmailMessage:
    return admin_message(sender="ecc@example.com", admins=list(to), subject=subject, lines=["x"])


def queue(engine: Engine, *messages: EmailMessage, kind: str = "report") -> list[int]:
    with engine.begin() as conn:
        return [outbox.enqueue(conn, m, kind=kind) for m in messages]


def rows(engine: Engine) -> dict[int, dict[str, object]]:
    with engine.connect() as conn:
        return {r.mail_id: dict(r._mapping) for r in conn.execute(select(mail_outbox)).all()}


# ---------------------------------------------------------------- settings


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.tls, plain.starttls) == ("mail.example.com", 25, 0, 0)
    s = parse_smtp_url("smtp://ecc%40example.com:p%3Ass@mail.example.com:587?starttls=true")
    assert (s.username, s.password, s.port, s.starttls) == ("ecc@example.com", "p:ss", 587, True)
    assert s.describe() == "smtp://ecc@example.com@mail.example.com:587?starttls=true"
    assert "p:ss" not in s.describe()
    tls = parse_smtp_url("smtps://u:p@mail.example.com?timeout=10")
    assert (tls.tls, tls.port, tls.timeout) == (True, 465, 10.0)
    for url, why in (
        ("http://mail.example.com", "must start with smtp:// or smtps://"),
        ("smtp://", "names no host"),
        ("smtp://h?startls=1", "unknown option(s) startls"),
        ("smtps://h?starttls=true", "already TLS"),
        ("smtp://h:port", "is not a URL"),
    ):
        with pytest.raises(ConfigError, match="ECC_SMTP_URL") as info:
            parse_smtp_url(url)
        assert why in str(info.value)


def test_mail_settings_from_the_environment() -> None:
    s = mail_settings(
        {
            "ECC_SMTP_URL": "smtp://127.0.0.1:2525",
            "ECC_MAIL_FROM": "Reports <reports@example.com>",
            "ECC_ADMIN_EMAILS": "ops@example.com, cto@example.com",
        }
    )
    assert s.smtp is not None and s.smtp.port == 2525
    assert s.admins == ("ops@example.com", "cto@example.com")
    assert mail_settings({}).smtp is None
    with pytest.raises(ConfigError, match="ECC_SMTP_URL is not set"):
        mail_settings({}).require_smtp()
    with pytest.raises(ConfigError, match="ECC_ADMIN_EMAILS holds 'ops'"):
        mail_settings({"ECC_ADMIN_EMAILS": "ops"})
    with pytest.raises(ConfigError, match="ECC_MAIL_FROM"):
        mail_settings({"ECC_MAIL_FROM": "nobody"})


# ---------------------------------------------------------------- the outbox


def test_a_queued_message_is_sent_once_with_its_message_id(engine: Engine) -> None:
    with SmtpSink() as sink:
        (mail_id,) = queue(engine, note("pack"))
        done = outbox.deliver(engine, settings(sink.url))
        assert [(d.mail_id, d.status) for d in done] == [(mail_id, "sent")]
        assert outbox.deliver(engine, settings(sink.url)) == []  # nothing left to send
        assert outbox.deliver(engine, settings(sink.url), ignore_backoff=True) == []
    (got,) = sink.received
    row = rows(engine)[mail_id]
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"] is not None
    assert got.message["Message-ID"] == row["message_id"]
    assert got.recipients == ["vp@example.com"] and got.sender == "ecc@example.com"
    assert got.raw == row["message"]  # the message as recorded, byte for byte


def test_with_the_server_down_a_message_waits_and_goes_once_when_it_is_back(
    engine: Engine,
) -> None:
    sink = SmtpSink.down()
    (mail_id,) = queue(engine, note("waits"))
    first = outbox.deliver(engine, settings(sink.url))
    assert first[0].status == "pending" and "connection refused" in str(first[0].error)
    row = rows(engine)[mail_id]
    assert row["attempts"] == 1 and row["status"] == "pending"
    now = outbox.utcnow()
    assert outbox.deliver(engine, settings(sink.url), now=now) == []  # not due for a minute
    with sink:
        later = now + timedelta(minutes=1, seconds=5)
        assert [d.status for d in outbox.deliver(engine, settings(sink.url), now=later)] == ["sent"]
        assert outbox.deliver(engine, settings(sink.url), now=later + timedelta(hours=1)) == []
    assert len(sink.received) == 1
    assert rows(engine)[mail_id]["attempts"] == 2


def test_tries_back_off_then_give_up_and_the_admins_are_told(engine: Engine) -> None:
    assert [outbox.backoff(n).total_seconds() / 60 for n in range(1, 9)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]
    down = SmtpSink.down()
    (mail_id,) = queue(engine, note("weekly pack"))
    now = outbox.utcnow()
    for n in range(1, outbox.MAX_ATTEMPTS + 1):
        tried = outbox.deliver(engine, settings(down.url), now=now)
        (d,) = [d for d in tried if d.mail_id == mail_id]
        row = rows(engine)[mail_id]
        assert row["attempts"] == n
        if n < outbox.MAX_ATTEMPTS:
            assert d.status == "pending"
            assert row["next_attempt_at"] == now + outbox.backoff(n)
            now = row["next_attempt_at"]  # type: ignore[assignment]
    assert d.status == "failed" and rows(engine)[mail_id]["status"] == "failed"
    notes = [r for r in rows(engine).values() if r["kind"] == "admin"]
    assert len(notes) == 1 and notes[0]["recipients"] == f'["{ADMIN}"]'
    assert "could not be delivered (mail 1)" in str(notes[0]["subject"])
    with down as sink:  # the note goes out; the report mail is not retried
        # (the note itself was tried once at once, while the server was still down)
        outbox.deliver(engine, settings(sink.url), now=now + timedelta(minutes=2))
        assert [m.message["Subject"] for m in sink.received] == [
            "[ECC] a report email could not be delivered (mail 1)"
        ]
        body = sink.received[0].message.get_content()
        assert "ecc scheduler --resend 1" in body and "connection refused" in body
        outbox.resend(engine, mail_id)
        outbox.deliver(engine, settings(sink.url))
        assert len(sink.received) == 2
        assert sink.received[1].message["Message-ID"] == rows(engine)[mail_id]["message_id"]
    with pytest.raises(ConfigError, match=r"mail 1 is sent at .* only a failed mail"):
        outbox.resend(engine, mail_id)


def test_two_senders_at_once_send_every_message_once(engine: Engine, db_url: str) -> None:
    ids = queue(engine, *(note(f"m{i}") for i in range(6)))
    with SmtpSink(delay=0.05) as sink:
        start = threading.Barrier(3)
        results: list[list[outbox.Delivery]] = []

        def sender() -> None:
            eng = make_engine(db_url)  # a process of its own would have its own engine
            try:
                start.wait()
                results.append(outbox.deliver(eng, settings(sink.url)))
            finally:
                eng.dispose()

        threads = [threading.Thread(target=sender) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not any(th.is_alive() for th in threads), "a sender did not finish within 60 s"
    assert sorted(d.mail_id for r in results for d in r) == ids  # each claimed by one sender
    subjects = sorted(m.message["Subject"] for m in sink.received)
    assert subjects == [f"[ECC] m{i}" for i in range(6)]


def test_a_broken_hand_over_is_not_retried_but_reported(engine: Engine) -> None:
    (mail_id,) = queue(engine, note("maybe delivered"))
    with SmtpSink(drop_after_data=True) as sink:
        (d,) = outbox.deliver(engine, settings(sink.url, admins=()))
        assert d.status == "failed" and "may have been delivered" in str(d.error)
        assert outbox.deliver(engine, settings(sink.url), ignore_backoff=True) == []
    assert len(sink.received) == 1  # the server had it: sending again would send it twice
    assert rows(engine)[mail_id]["status"] == "failed"


def test_a_sender_that_died_while_sending_leaves_the_message_to_the_admins(
    engine: Engine,
) -> None:
    (mail_id,) = queue(engine, note("stuck"))
    then = outbox.utcnow() - timedelta(hours=1)
    assert outbox._claim(engine, mail_id, "gone-host:1:dead", then)  # the process then died
    with SmtpSink() as sink:
        outbox.deliver(engine, settings(sink.url))
    assert rows(engine)[mail_id]["status"] == "failed"
    assert "may have been delivered" in str(rows(engine)[mail_id]["last_error"])
    assert [m.message["Subject"] for m in sink.received] == [
        "[ECC] a report email could not be delivered (mail 1)"
    ]


def test_refused_recipients_are_noted_and_the_others_get_it_once(engine: Engine) -> None:
    (mail_id,) = queue(engine, note("pack", to=("vp@example.com", "gone@example.com")))
    with SmtpSink(refuse={"gone@example.com"}) as sink:
        (d,) = outbox.deliver(engine, settings(sink.url))
        outbox.deliver(engine, settings(sink.url), ignore_backoff=True)
    assert d.status == "sent" and "gone@example.com (550" in str(d.error)
    assert [m.recipients for m in sink.received] == [["vp@example.com"]]
    assert rows(engine)[mail_id]["last_error"] == d.error


def test_credentials_in_the_url_log_in(engine: Engine) -> None:
    port = free_port()
    queue(engine, note("secret"))
    with SmtpSink(port=port, login=("ecc@example.com", "p:ss")) as sink:
        wrong = outbox.deliver(engine, settings(f"smtp://ecc%40example.com:nope@127.0.0.1:{port}"))
        assert wrong[0].status == "pending" and "535" in str(wrong[0].error)
        right = f"smtp://ecc%40example.com:p%3Ass@127.0.0.1:{port}"
        assert outbox.deliver(engine, settings(right), ignore_backoff=True)[0].status == "sent"
    assert [m.authenticated for m in sink.received] == [True]
