"""`ecc scheduler`: scheduled reports made and emailed over a real SMTP server on loopback.

The emailed PDF holds the numbers of `ecc metrics` for the same parameters; a due job runs
exactly once across scheduler restarts; with SMTP down the report waits in the outbox and
is delivered once when SMTP is back; a second scheduler on a database refuses to start; a
failing notebook is recorded with its cell and the admins are mailed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, insert, inspect, select, text

from ecc import formatting as fmt
from ecc.db import make_engine
from ecc.demo import build_demo
from ecc.mail.settings import MailSettings, parse_smtp_url
from ecc.schedule.config import load_schedules
from ecc.schedule.runner import RunContext, run_schedule
from ecc.schedule.service import SchedulerService, last_fire_time, scheduler_lock
from ecc.schema import SCHEMA_VERSION, mail_outbox, report_runs
from tests.support.builders import broken_notebooks, demo_sqlite
from tests.support.scheduler import (
    ADMIN,
    _make_due,
    env_for,
    schedule_file,
    scheduler,
    start_up_done,
    wait_for,
)
from tests.support.servers import need_chromium
from tests.support.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 24)
ECC = [sys.executable, "-m", "ecc.cli"]


def ecc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ECC, *args], capture_output=True, text=True, timeout=300, env=env)


def runs_of(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(report_runs).order_by(report_runs.c.run_id)).all())


def mails_of(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(mail_outbox).order_by(mail_outbox.c.mail_id)).all())


@pytest.fixture(scope="module")
def pristine_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database as built, which no test touches (tests get copies of it)."""
    url = demo_sqlite(tmp_path_factory.mktemp("sched"), customers=150, seed=4, today=TODAY)
    return Path(url.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def demo_url(pristine_demo: Path) -> str:
    """A copy of the demo database shared by the module's tests."""
    shared = pristine_demo.with_name("shared.sqlite")
    shutil.copyfile(pristine_demo, shared)
    return f"sqlite:///{shared}"


@pytest.fixture
def own_demo_url(pristine_demo: Path, tmp_path: Path) -> str:
    """A copy of the demo database as built, for one test: its run and mail records start
    empty whatever the module's other tests recorded in theirs (their order is random)."""
    copy = tmp_path / "own.sqlite"
    shutil.copyfile(pristine_demo, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def demo(engine: Engine) -> Engine:
    """The demo portfolio in this test's database (SQLite or PostgreSQL)."""
    build_demo(engine, customers=150, seed=4, today=TODAY)
    return engine


# ---------------------------------------------------------------- what arrives


def test_a_scheduled_email_carries_the_report_whose_pdf_equals_ecc_metrics(
    own_demo_url: str, tmp_path: Path
) -> None:
    demo_url = own_demo_url
    need_chromium()
    folder = tmp_path / "schedules"
    schedule_file(
        folder,
        "weekly",
        notebooks="[portfolio, risk]",
        formats="[pdf, xlsx]",
        parameters="{preset: last_quarter, compare: yoy, segment: Enterprise, today: data}",
    )
    with SmtpSink() as sink:
        started = time.perf_counter()
        run = ecc(
            "scheduler", "--run-now", "weekly", "--schedules", str(folder),
            "--db", demo_url, "--out", str(tmp_path / "out"), env=env_for(sink),
        )  # fmt: skip
        took = time.perf_counter() - started
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("run 1 succeeded") and "mail 1 sent" in run.stdout
    print(f"one scheduled run (2 pages, PDF + Excel, mailed): {took:.1f} s")

    (got,) = sink.received
    msg = got.message
    assert sorted(got.recipients) == ["cro@example.com", "vp@example.com"]
    assert msg["Subject"] == "Weekly report weekly: Jul 1, 2026 – Sep 30, 2026"
    assert msg["From"] == "Executive Command Center <ecc@example.com>"
    files = {p.get_filename(): p for p in msg.iter_attachments()}
    stem = "board-pack-last_quarter-2026-11-24-vs-yoy-Enterprise"
    assert set(files) == {f"{stem}.pdf", f"{stem}.xlsx"}
    assert files[f"{stem}.pdf"].get_content_type() == "application/pdf"

    metrics = json.loads(
        ecc(
            "metrics", "--preset", "last_quarter", "--compare", "yoy", "--segment", "Enterprise",
            "--db", demo_url, env=dict(os.environ),
        ).stdout
    )  # fmt: skip
    pdf = tmp_path / "got.pdf"
    pdf.write_bytes(files[f"{stem}.pdf"].get_content())
    pdf_text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Jul 1, 2026 – Sep 30, 2026" in pdf_text and "segment Enterprise" in pdf_text
    for shown in (
        fmt.money(metrics["portfolio"]["arr"]),
        fmt.score(metrics["portfolio"]["avg_health"]),
        fmt.money(metrics["risk"]["arr_at_risk"]),
        fmt.money(metrics["risk"]["critical_arr"]),
    ):
        assert shown in pdf_text, shown

    body = msg.get_body(("plain",))
    assert body is not None
    plain = body.get_content()
    assert "Period: Jul 1, 2026 – Sep 30, 2026, compared with the same period last year" in plain
    assert "Filters: segment Enterprise" in plain and "Data as of: November 24, 2026" in plain
    lines = {ln.split("  ")[1].strip(): ln for ln in plain.splitlines() if ln.startswith("  ")}
    for label, path, kind in (
        ("Customers", ("portfolio", "customers"), fmt.number),
        ("ARR", ("portfolio", "arr"), fmt.money),
        ("GRR (period)", ("retention", "grr"), fmt.pct),
        ("ARR at risk", ("risk", "arr_at_risk"), fmt.money),
        ("Expansion pipeline", ("expansion", "open_value"), fmt.money),
    ):
        assert re.search(rf"\s{re.escape(kind(fmt.get(metrics, *path)))}(\s|$)", lines[label])
    html_part = msg.get_body(("html",))
    assert html_part is not None
    assert f"data-metric='risk.arr_at_risk'>{fmt.money(metrics['risk']['arr_at_risk'])}<" in (
        html_part.get_content()
    )

    (rec,) = runs_of(make_engine(demo_url))
    params = json.loads(rec.parameters)
    assert (rec.schedule, rec.trigger, rec.status) == ("weekly", "manual", "succeeded")
    assert rec.due_at is None
    assert params | {"comparison": None} == {
        "notebooks": ["portfolio", "risk"], "formats": ["pdf", "xlsx"], "preset": "last_quarter",
        "start": "2026-07-01", "end": "2026-09-30", "today": "2026-11-24", "compare": "yoy",
        "comparison": None, "segment": "Enterprise", "csm": None,
    }  # fmt: skip
    assert params["comparison"] == {"kind": "yoy", "start": "2025-07-01", "end": "2025-09-30"}
    assert rec.data_as_of == TODAY and rec.code_version.startswith("ecc ")
    written = [Path(f) for f in json.loads(rec.files)]
    assert [f.name for f in written] == [f"{stem}.pdf", f"{stem}.xlsx"]
    assert written[0].read_bytes() == files[f"{stem}.pdf"].get_content()
    assert written[0].parent == tmp_path / "out" / "weekly" / "1"


def test_a_failing_notebook_is_recorded_with_its_cell_and_the_admins_are_mailed(
    demo_url: str, tmp_path: Path
) -> None:
    broken = broken_notebooks(tmp_path, "risk", "the warehouse is down")
    folder = tmp_path / "schedules"
    schedule_file(folder, "riskweekly", notebooks="risk")
    with SmtpSink() as sink:
        run = ecc(
            "scheduler", "--run-now", "riskweekly", "--schedules", str(folder),
            "--notebooks", str(broken), "--db", demo_url, "--out", str(tmp_path / "out"),
            env=env_for(sink),
        )  # fmt: skip
    assert run.returncode == 1
    err = [ln for ln in run.stderr.splitlines() if ln.startswith("ecc: error:")]
    (rec,) = [r for r in runs_of(make_engine(demo_url)) if r.schedule == "riskweekly"]
    assert len(err) == 1 and err[0].startswith(
        f"ecc: error: schedule riskweekly failed (run {rec.run_id}): notebook risk failed in "
        "cell 3 (RuntimeError: the warehouse is down)"
    )
    assert (rec.status, rec.failed_notebook, rec.failed_cell) == ("failed", "risk", 3)
    assert "the warehouse is down" in rec.error and rec.data_as_of == TODAY
    (got,) = sink.received  # the admins, not the report's recipients
    assert got.recipients == [ADMIN]
    assert got.message["Subject"] == f"[ECC] scheduled report riskweekly failed (run {rec.run_id})"
    assert "notebook risk failed in cell 3 (RuntimeError: the warehouse is down)" in (
        got.message.get_content()
    )


# ---------------------------------------------------------------- the scheduler


class _Payload:
    """What someone able to write the job table could plant: a pickle that runs a
    command when a plain SQLAlchemyJobStore loads it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_row_planted_in_the_job_table_is_never_run(
    demo: Engine, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Security finding 2: the job table holds JSON read back only as the scheduler's
    own jobs; a pickle (or another function) written there is dropped, not run, and the
    real job is back after the sync."""
    import pickle

    from ecc.schedule.jobstore import JOB_TABLE, JobStateError, decode

    folder, out = tmp_path / "schedules", tmp_path / "out"
    schedule_file(folder, "weekly")
    marker = tmp_path / "owned"
    sink = SmtpSink().start()
    try:
        with scheduler(db_url, folder, out, sink, tmp_path / "1.log"):
            pass
        eng = make_engine(db_url)
        table = Table(JOB_TABLE, MetaData(), autoload_with=eng)
        with eng.begin() as conn:
            real = conn.execute(select(table.c.job_state)).scalars().first()
            conn.execute(table.delete())
            conn.execute(
                insert(table).values(
                    id="report:weekly", next_run_time=0.0, job_state=pickle.dumps(_Payload(marker))
                )
            )
            forged = json.loads(real)
            forged.update(id="forged", func="os:system", args=[f"touch {marker}"])
            conn.execute(
                insert(table).values(
                    id="forged", next_run_time=0.0, job_state=json.dumps(forged).encode()
                )
            )
        eng.dispose()
        with pytest.raises(JobStateError):
            decode(json.dumps(forged).encode())
        with scheduler(db_url, folder, out, sink, tmp_path / "2.log"):
            assert "weekly: added, next run " in (tmp_path / "2.log").read_text()
        assert not marker.exists()
        eng = make_engine(db_url)
        with eng.connect() as conn:
            ids = set(conn.execute(select(table.c.id)).scalars())
        eng.dispose()
        assert "report:weekly" in ids and "forged" not in ids
    finally:
        sink.stop()


def test_a_due_job_runs_exactly_once_across_scheduler_restarts(
    demo: Engine, db_url: str, tmp_path: Path
) -> None:
    folder, out = tmp_path / "schedules", tmp_path / "out"
    schedule_file(folder, "weekly")
    (schedule,) = load_schedules(folder)
    sink = SmtpSink().start()
    try:
        with scheduler(db_url, folder, out, sink, tmp_path / "1.log"):
            pass
        assert "weekly: added, next run " in (tmp_path / "1.log").read_text()
        assert runs_of(demo) == []
        due = last_fire_time(schedule.trigger(), datetime.now(UTC))
        assert due is not None
        _make_due(db_url, "report:weekly", due)  # the Monday run fell while it was down

        with scheduler(db_url, folder, out, sink, tmp_path / "2.log"):
            assert "weekly: kept, next run " in (tmp_path / "2.log").read_text()
            wait_for(lambda: len(sink.received) == 1, "the report email")
        (rec,) = runs_of(demo)
        assert (rec.trigger, rec.status) == ("scheduled", "succeeded")
        assert rec.due_at == due.astimezone(UTC).replace(tzinfo=None)

        with scheduler(db_url, folder, out, sink, tmp_path / "3.log"):
            start_up_done(tmp_path / "3.log")  # due jobs run right at start: none is due now
        assert len(runs_of(demo)) == 1 and len(sink.received) == 1
        log3 = (tmp_path / "3.log").read_text()
        next_run = schedule.trigger().get_next_fire_time(None, datetime.now(UTC))
        assert f"weekly: kept, next run {next_run:%Y-%m-%d %H:%M}" in log3

        # a second start for the same cron time (a scheduler killed between starting the
        # job and recording its next run) is refused by the run record itself
        ctx = RunContext(demo, MailSettings(parse_smtp_url(sink.url)), out)
        again = run_schedule(ctx, schedule, trigger="scheduled", due_at=rec.due_at)
        assert again.status == "skipped" and len(runs_of(demo)) == 1

        status = ecc("scheduler", "--list", "--schedules", str(folder), "--db", db_url,
                     env=env_for(sink))  # fmt: skip
        assert status.returncode == 0, status.stderr
        assert f"next run {next_run.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in status.stdout
        assert f"last run {rec.run_id} succeeded" in status.stdout
        assert "outbox: 1 sent" in status.stdout
    finally:
        sink.stop()


def test_with_smtp_down_the_report_waits_and_is_delivered_once_when_it_is_back(
    demo: Engine, db_url: str, tmp_path: Path
) -> None:
    folder, out = tmp_path / "schedules", tmp_path / "out"
    schedule_file(folder, "weekly")
    sink = SmtpSink.down()
    run = ecc("scheduler", "--run-now", "weekly", "--schedules", str(folder), "--db", db_url,
              "--out", str(out), env=env_for(sink))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "mail 1 not sent yet" in run.stderr and "connection refused" in run.stderr
    (rec,) = runs_of(demo)
    (mail,) = mails_of(demo)
    assert rec.status == "succeeded"
    assert (mail.status, mail.attempts, mail.run_id) == ("pending", 1, rec.run_id)

    with sink:
        with scheduler(db_url, folder, out, sink, tmp_path / "1.log"):
            wait_for(lambda: len(sink.received) == 1, "the report email")  # retried at start
        with scheduler(db_url, folder, out, sink, tmp_path / "2.log"):
            start_up_done(tmp_path / "2.log")  # the outbox's pass at start: nothing to resend
    assert len(sink.received) == 1
    assert sink.received[0].message["Message-ID"] == mail.message_id
    (mail,) = mails_of(demo)
    assert (mail.status, mail.attempts) == ("sent", 2)


def test_a_second_scheduler_on_the_same_database_refuses_to_start(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    folder, out = tmp_path / "schedules", tmp_path / "out"
    schedule_file(folder, "weekly")
    with SmtpSink() as sink, scheduler(db_url, folder, out, sink, tmp_path / "1.log") as first:
        second = ecc("scheduler", "--schedules", str(folder), "--db", db_url, env=env_for(sink))
        assert second.returncode == 1
        assert second.stderr.startswith("ecc: error: another `ecc scheduler`")
        assert "is already running on this database; only one may run per database" in (
            second.stderr
        )
        if engine.dialect.name == "sqlite":
            assert f":{first.pid})" in second.stderr  # names the process that holds it
        os.killpg(first.pid, signal.SIGKILL)  # a killed scheduler does not block the next
        first.wait(10)
        with scheduler(db_url, folder, out, sink, tmp_path / "2.log"):
            pass


def test_jobs_follow_the_schedule_files_at_start(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "schedules"
    schedule_file(folder, "a", cron="0 7 * * 1")
    schedule_file(folder, "b")
    ctx = RunContext(engine, MailSettings(parse_smtp_url("smtp://127.0.0.1:9")), tmp_path)

    def start() -> dict[str, str]:
        with scheduler_lock(engine):
            service = SchedulerService(ctx, load_schedules(folder))
            try:
                return {line.name: line.action for line in service.start()}
            finally:
                service.stop()

    assert start() == {"a": "added", "b": "added"}
    assert start() == {"a": "kept", "b": "kept"}
    schedule_file(folder, "a", cron="0 8 * * 1")
    (folder / "b.yaml").unlink()
    schedule_file(folder, "c")
    assert start() == {"a": "changed", "b": "removed", "c": "added"}
    (folder / "c.yaml").write_text((folder / "c.yaml").read_text() + "enabled: false\n")
    assert start() == {"a": "kept", "c": "removed"}


def test_a_schema_3_database_upgrades_in_place_to_add_the_run_records(
    engine: Engine, db_url: str
) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alert_deliveries"))  # version 5's, which refers to them
        conn.execute(text("DROP TABLE alert_subscribers"))
        conn.execute(text("DROP TABLE mail_outbox"))
        conn.execute(text("DROP TABLE report_runs"))
        conn.execute(text("UPDATE ecc_meta SET value = '3' WHERE key = 'schema_version'"))
    env = dict(os.environ)
    before = ecc("metrics", "--db", db_url, env=env)
    assert before.returncode == 2 and "made by schema version 3" in before.stderr
    assert "Run `ecc init` to upgrade it (the data is kept)" in before.stderr
    assert ecc("init", "--db", db_url, env=env).returncode == 0
    names = set(inspect(engine).get_table_names())
    assert {"report_runs", "mail_outbox", "alert_subscribers", "alert_deliveries"} <= names
    with engine.connect() as conn:
        version = conn.execute(
            text("SELECT value FROM ecc_meta WHERE key = 'schema_version'")
        ).scalar()
    assert version == str(SCHEMA_VERSION)
