"""The scheduler in a subprocess: schedule files, its mail settings, waiting on its log."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from ecc.db import make_engine
from tests.support.cli import ECC
from tests.support.servers import ROOT
from tests.support.smtp_sink import SmtpSink

ADMIN = "ops@example.com"


def schedule_file(
    folder: Path,
    name: str,
    *,
    notebooks: str = "portfolio",
    formats: str = "[html]",
    cron: str = "0 7 * * 1",
    parameters: str = "{preset: this_quarter, compare: previous, today: data}",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(
        f'cron: "{cron}"\ntimezone: Europe/London\nnotebooks: {notebooks}\n'
        f"parameters: {parameters}\nformats: {formats}\n"
        "recipients: [vp@example.com, cro@example.com]\n"
        'subject: "Weekly report {name}: {period}"\n'
    )
    return path


def env_for(sink: SmtpSink) -> dict[str, str]:
    return os.environ | {
        "ECC_SMTP_URL": sink.url + "?timeout=5",
        "ECC_ADMIN_EMAILS": ADMIN,
        "ECC_MAIL_FROM": "Executive Command Center <ecc@example.com>",
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
