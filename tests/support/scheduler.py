"""The scheduler in a subprocess: schedule files, its mail settings, waiting on its log."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from ecc.db import make_engine
from tests.support.cli import ECC
from tests.support.servers import ROOT
from tests.support.smtp_sink import SmtpSink

ADMIN = "ops@example.com"
#: The time zone of the schedule files the tests write.
ZONE = "Europe/London"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def quiet_cron(zone: str = ZONE, *, weekly: bool = True) -> str:
    """A crontab time that cannot come while a test runs, whenever it runs: half a day
    from now in ``zone`` (a weekly one on the weekday three days after that). Its last
    time is long past, so a test can still make a run due (``_make_due``)."""
    at = datetime.now(ZoneInfo(zone)) + timedelta(hours=12)
    day = WEEKDAYS[(at + timedelta(days=3)).weekday()] if weekly else "*"
    return f"{at.minute} {at.hour} * * {day}"


#: The quiet times, taken once when the tests start: a scheduler stopped and started
#: again within a test must find the same times (a changed one reschedules its job, and
#: the run a test made due would be dropped).
REPORT_CRON = quiet_cron()
DIGEST_CRONS = {
    "ECC_ALERT_TIMEZONE": "UTC",
    "ECC_ALERT_DAILY_CRON": quiet_cron("UTC", weekly=False),
    "ECC_ALERT_WEEKLY_CRON": quiet_cron("UTC"),
}


def schedule_file(
    folder: Path,
    name: str,
    *,
    notebooks: str = "portfolio",
    formats: str = "[html]",
    cron: str | None = None,
    parameters: str = "{preset: this_quarter, compare: previous, today: data}",
) -> Path:
    """A schedule file; by default its time never comes during the test (``quiet_cron``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(
        f'cron: "{cron or REPORT_CRON}"\ntimezone: {ZONE}\nnotebooks: {notebooks}\n'
        f"parameters: {parameters}\nformats: {formats}\n"
        "recipients: [vp@example.com, cro@example.com]\n"
        'subject: "Weekly report {name}: {period}"\n'
    )
    return path


def env_for(sink: SmtpSink) -> dict[str, str]:
    """The scheduler's environment: the sink's SMTP, and alert digests whose times never
    come during the test (a run at 07:00 UTC would otherwise send one)."""
    return os.environ | {
        "ECC_SMTP_URL": sink.url + "?timeout=5",
        "ECC_ADMIN_EMAILS": ADMIN,
        "ECC_MAIL_FROM": "Executive Command Center <ecc@example.com>",
        **DIGEST_CRONS,
    }


def wait_for(check: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start_up_done(log: Path) -> None:
    """Until the scheduler has made its pass at start (immediate alerts, the outbox)."""
    wait_for(lambda: "start-up pass done" in log.read_text(), "the scheduler's start-up pass", 120)


@contextmanager
def scheduler(
    db_url: str, folder: Path, out: Path, sink: SmtpSink, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`ecc scheduler` in the background until it says it started; stopped with SIGTERM."""
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [*ECC, "scheduler", "--db", db_url, "--schedules", str(folder), "--out", str(out)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env_for(sink),
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: "scheduler started" in log.read_text() or proc.poll() is not None,
            "the scheduler to start",
            120,
        )
        assert proc.poll() is None, log.read_text()
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)  # finishes a report being made, then exits
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _make_due(db_url: str, job_id: str, when: datetime) -> None:
    """What the job store holds after the scheduler was down at ``when``: the job still
    waiting for that run (APScheduler's own API on the same store)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from ecc.schedule.jobstore import DataJobStore

    eng = make_engine(db_url)
    other = BackgroundScheduler(jobstores={"default": DataJobStore(engine=eng)})
    other.start(paused=True)
    try:
        other.modify_job(job_id, next_run_time=when)
    finally:
        other.remove_jobstore("default")  # before shutdown, which would process due jobs
        other.shutdown(wait=False)
        eng.dispose()


def attached_pdf_text(message: EmailMessage, path: Path) -> str:
    """The text of a mail's one PDF attachment (kept at ``path``), as ``pdftotext`` reads it."""
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    path.write_bytes(pdf.get_content())
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
