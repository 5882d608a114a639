"""The run records of scheduled reports (``report_runs``): every read and write of the
table is here.

A run is ``running`` from its start, then ``succeeded`` or ``failed`` (with the error,
and the notebook and cell when a notebook failed); a scheduled run a dead scheduler
left ``running`` is marked ``interrupted`` by the next one. A cron time (``due_at``)
is run at most once per schedule: a second start for it finds the row and stops.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..locks import holder_name
from ..schema import mail_outbox, report_runs

t = report_runs


def begin(
    engine: Engine,
    *,
    schedule: str,
    trigger: str,
    due_at: datetime | None,
    parameters: dict[str, Any],
    code_version: str,
) -> int | None:
    """Record a run as started; None when ``due_at`` of ``schedule`` already has a run."""
    try:
        with engine.begin() as conn:
            return int(
                conn.execute(
                    insert(t)
                    .values(
                        schedule=schedule,
                        trigger=trigger,
                        due_at=due_at,
                        status="running",
                        parameters=json.dumps(parameters),
                        code_version=code_version,
                        runner=holder_name(),
                        started_at=utcnow(),
                    )
                    .returning(t.c.run_id)
                ).scalar_one()
            )
    except IntegrityError:
        return None


def succeed(
    conn: Connection,
    run_id: int,
    *,
    parameters: dict[str, Any],
    data_as_of: date,
    files: list[Path],
) -> None:
    conn.execute(
        update(t)
        .where(t.c.run_id == run_id)
        .values(
            status="succeeded",
            parameters=json.dumps(parameters),
            data_as_of=data_as_of,
            files=json.dumps([str(f) for f in files]),
            finished_at=utcnow(),
        )
    )


def fail(
    conn: Connection,
    run_id: int,
    *,
    error: str,
    parameters: dict[str, Any],
    data_as_of: date | None,
    notebook: str | None = None,
    cell: int | None = None,
) -> None:
    conn.execute(
        update(t)
        .where(t.c.run_id == run_id)
        .values(
            status="failed",
            error=error,
            failed_notebook=notebook,
            failed_cell=cell,
            parameters=json.dumps(parameters),
            data_as_of=data_as_of,
            finished_at=utcnow(),
        )
    )


def interrupt_left_running(engine: Engine) -> int:
    """Scheduled runs still ``running`` (their scheduler died): ``interrupted``; how many.

    Only a scheduler holding the database's scheduler lock calls this, so no scheduled run
    is really running then (manual runs are left alone).
    """
    with engine.begin() as conn:
        res = conn.execute(
            update(t)
            .where(t.c.status == "running", t.c.trigger == "scheduled")
            .values(
                status="interrupted",
                error="the scheduler stopped during the run",
                finished_at=utcnow(),
            )
        )
        return int(res.rowcount)


def get(conn: Connection, run_id: int) -> Any:
    return conn.execute(select(t).where(t.c.run_id == run_id)).one()


def recent(conn: Connection, limit: int = 10, schedule: str | None = None) -> list[Any]:
    """The latest runs, newest first, each with its mail's status (``mail``)."""
    mail = (
        select(mail_outbox.c.status)
        .where(mail_outbox.c.run_id == t.c.run_id, mail_outbox.c.kind == "report")
        .order_by(mail_outbox.c.mail_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    q = select(t, mail.label("mail")).order_by(t.c.run_id.desc()).limit(limit)
    if schedule is not None:
        q = q.where(t.c.schedule == schedule)
    return list(conn.execute(q).all())


def last_of_each(conn: Connection) -> dict[str, Any]:
    """The latest run of every schedule that has one."""
    latest = select(func.max(t.c.run_id)).group_by(t.c.schedule)
    rows = conn.execute(select(t).where(t.c.run_id.in_(latest))).all()
    return {r.schedule: r for r in rows}
