"""One run of a schedule: the report made (``make_report``), recorded in ``report_runs``,
and its email queued in the outbox in the same transaction, then sent.

A run that fails — a notebook (named with its cell), the data, Chromium — is recorded
``failed`` with the error, and a note to the admins is queued with it.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ..cache import metrics_for
from ..errors import EccError
from ..mail import compose, outbox
from ..mail.outbox import Delivery
from ..mail.settings import MailSettings
from ..periods import comparison_period
from ..reports.build import make_report
from ..reports.document import code_version, cover_facts, title_of
from ..reports.execute import NOTEBOOKS_DIR, ReportError
from ..request import Request
from . import records
from .config import Schedule

log = logging.getLogger("ecc.schedule")


@dataclass(frozen=True)
class RunContext:
    """What every run needs: the database, mail settings, where files go."""

    engine: Engine
    mail: MailSettings
    out: Path
    notebooks: Path = NOTEBOOKS_DIR


@dataclass
class RunOutcome:
    run_id: int | None  # None: the cron time had already been run
    status: str  # succeeded | failed | skipped
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    seconds: float = 0.0


def reference_day(schedule: Schedule, due_at: datetime | None) -> str | None:
    """What the schedule's presets count from: the day it fires in its time zone (``due_at``,
    else now), the latest date with data (None), or a fixed date."""
    if schedule.today == "data":
        return None
    if schedule.today != "run_date":
        return schedule.today
    moment = due_at.replace(tzinfo=UTC) if due_at else datetime.now(UTC)
    return moment.astimezone(ZoneInfo(schedule.timezone)).date().isoformat()


def requested(schedule: Schedule) -> dict[str, Any]:
    """The parameters as the schedule file gives them."""
    return {
        "notebooks": list(schedule.notebooks),
        "formats": list(schedule.formats),
        **schedule.params.filters(),
        "today": schedule.today,
    }


def resolved(schedule: Schedule, req: Request) -> dict[str, Any]:
    """The parameters with explicit dates: what the run reflects."""
    cmp = comparison_period(req.period, req.compare).as_dict() if req.compare else None
    return requested(schedule) | {
        "preset": req.period.preset,
        "start": req.period.start.isoformat(),
        "end": req.period.end.isoformat(),
        "today": req.today.isoformat(),
        "comparison": cmp,
        "segment": req.scope.segment,
        "csm": req.scope.csm_id,
    }


def subject_of(schedule: Schedule, title: str, req: Request) -> str:
    period = f"{req.period.start:%b %-d, %Y} – {req.period.end:%b %-d, %Y}"
    return schedule.subject.format(
        name=schedule.name, title=title, period=period, data_as_of=req.today.isoformat()
    )


def _report(
    ctx: RunContext, schedule: Schedule, run_id: int, req: Request
) -> tuple[list[Path], Any]:
    """Make the files and the email; (files, message)."""
    pinned = replace(schedule.params, today=req.today.isoformat())  # every page the same day
    result = make_report(
        ctx.engine,
        list(schedule.notebooks),
        pinned,
        out=ctx.out / schedule.name / str(run_id),
        formats=schedule.formats,
        notebooks=ctx.notebooks,
    )
    data = metrics_for(
        ctx.engine,
        req.period,
        compare=req.compare,
        scope=req.scope,
        areas=compose.HEADLINE_AREAS,
    ).data
    title = title_of(result.sections)
    facts = cover_facts(result.sections)
    msg = compose.report_message(
        sender=ctx.mail.sender,
        recipients=list(schedule.recipients),
        subject=subject_of(schedule, title, req),
        title=title,
        facts=facts,
        numbers=compose.headline(data),
        files=result.files,
        footer=(
            f"Schedule {schedule.name} ({schedule.cron}, {schedule.timezone}) · run {run_id} · "
            f"{facts['Version']}"
        ),
    )
    return result.files, msg


def _admin_note(ctx: RunContext, schedule: Schedule, run_id: int, error: str) -> Any:
    return compose.admin_message(
        sender=ctx.mail.sender,
        admins=list(ctx.mail.admins),
        subject=f"scheduled report {schedule.name} failed (run {run_id})",
        lines=[
            f"Schedule: {schedule.name} ({schedule.path})",
            f"Run: {run_id}",
            f"Error: {error}",
            "",
            f"`ecc scheduler --list` shows the runs; `ecc scheduler --run-now {schedule.name}` "
            "runs it again.",
        ],
    )


def run_schedule(
    ctx: RunContext,
    schedule: Schedule,
    *,
    trigger: str = "manual",
    due_at: datetime | None = None,
) -> RunOutcome:
    """Run ``schedule`` now (for the cron time ``due_at``, when scheduled) and mail it."""
    import time

    started = time.perf_counter()
    params = requested(schedule)
    run_id = records.begin(
        ctx.engine,
        schedule=schedule.name,
        trigger=trigger,
        due_at=due_at,
        parameters=params,
        code_version=code_version(),
    )
    if run_id is None:
        log.info("%s: the run due at %s has already been made; skipped", schedule.name, due_at)
        return RunOutcome(None, "skipped")
    log.info("%s: run %s started", schedule.name, run_id)
    as_of: date | None = None
    try:
        asked = replace(schedule.params, today=reference_day(schedule, due_at))
        with ctx.engine.connect() as conn:
            req = asked.resolve(conn)
        params, as_of = resolved(schedule, req), req.today
        files, msg = _report(ctx, schedule, run_id, req)
    except Exception as exc:
        if isinstance(exc, EccError):
            error = str(exc)
        else:
            log.error("%s: run %s failed\n%s", schedule.name, run_id, traceback.format_exc())
            error = f"{type(exc).__name__}: {exc}"
        notebook = exc.notebook if isinstance(exc, ReportError) else None
        cell = exc.cell if isinstance(exc, ReportError) else None
        with ctx.engine.begin() as conn:
            records.fail(
                conn,
                run_id,
                error=error,
                parameters=params,
                data_as_of=as_of,
                notebook=notebook,
                cell=cell,
            )
            ids = []
            if ctx.mail.admins:
                note = _admin_note(ctx, schedule, run_id, error)
                ids.append(outbox.enqueue(conn, note, kind="admin", run_id=run_id))
            else:
                log.error("%s: no admin to tell (set ECC_ADMIN_EMAILS)", schedule.name)
        log.error("%s: run %s failed: %s", schedule.name, run_id, error)
        deliveries = outbox.deliver(ctx.engine, ctx.mail, ids=ids) if ids else []
        return RunOutcome(
            run_id, "failed", [], error, deliveries, seconds=time.perf_counter() - started
        )
    with ctx.engine.begin() as conn:
        records.succeed(conn, run_id, parameters=params, data_as_of=req.today, files=files)
        mail_id = outbox.enqueue(conn, msg, kind="report", run_id=run_id)
    log.info("%s: run %s made %s", schedule.name, run_id, ", ".join(f.name for f in files))
    deliveries = outbox.deliver(ctx.engine, ctx.mail, ids=[mail_id])
    return RunOutcome(
        run_id, "succeeded", files, None, deliveries, seconds=time.perf_counter() - started
    )
