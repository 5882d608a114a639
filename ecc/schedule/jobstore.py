"""The scheduler's persistent job store: APScheduler's SQL table, holding data only.

APScheduler 3's ``SQLAlchemyJobStore`` pickles each job into ``apscheduler_jobs`` and
unpickles it whenever the scheduler wakes up, so whoever can write that table can run
code in the scheduler. :class:`DataJobStore` keeps the same table and behaviour (next run
times survive a restart; a missed run is run once at start) but writes each job as JSON
and reads it back only when it is one of the scheduler's own jobs:

- the function is one of :data:`FUNCS` (a report schedule or an alert digest),
- its arguments are names (strings), it has no keyword arguments,
- its trigger is a cron trigger, rebuilt from its fields and time zone.

Anything else in the table — a pickle, another function, a malformed row — is not run:
APScheduler logs it and removes the row, and the next sync adds the real job again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy.exc import IntegrityError

JOB_TABLE = "apscheduler_jobs"
#: A report schedule's run, by schedule name.
REPORT_FUNC = "ecc.schedule.service:run_job"
#: An alert digest's run, by cadence.
ALERTS_FUNC = "ecc.schedule.service:alerts_job"
FUNCS = frozenset({REPORT_FUNC, ALERTS_FUNC})
EXECUTORS = frozenset({"default", "mail"})


class JobStateError(ValueError):
    """A row of the job table that is not one of the scheduler's own jobs."""


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_when(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise JobStateError(f"{what} is not a date and time")
    return datetime.fromisoformat(value)


def encode(job: Job) -> bytes:
    """The job as JSON (its cron trigger as fields and time zone)."""
    trigger = job.trigger
    if not isinstance(trigger, CronTrigger):
        raise JobStateError(f"job {job.id}: only cron triggers are kept, not {trigger!r}")
    state = {
        "version": 1,
        "id": job.id,
        "func": job.func_ref,
        "trigger": {
            "fields": {f.name: str(f) for f in trigger.fields if not f.is_default},
            "timezone": str(trigger.timezone),
            "start_date": _when(trigger.start_date),
            "end_date": _when(trigger.end_date),
            "jitter": trigger.jitter,
        },
        "executor": job.executor,
        "args": list(job.args),
        "kwargs": dict(job.kwargs),
        "name": job.name,
        "misfire_grace_time": job.misfire_grace_time,
        "coalesce": job.coalesce,
        "max_instances": job.max_instances,
        "next_run_time": _when(job.next_run_time),
    }
    return json.dumps(state).encode()


def decode(blob: bytes) -> dict[str, Any]:
    """The job state of ``blob``, checked; JobStateError when it is not one of ours."""
    try:
        state = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise JobStateError("not a job written by ecc (not JSON)") from None
    if not isinstance(state, dict) or state.get("version") != 1:
        raise JobStateError("not a job written by ecc")
    if state.get("func") not in FUNCS:
        raise JobStateError(f"function {state.get('func')!r} is not a scheduler job")
    args = state.get("args")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise JobStateError("a job's arguments are names")
    if state.get("kwargs") != {} or state.get("executor") not in EXECUTORS:
        raise JobStateError("a job has no keyword arguments and one of the known executors")
    spec = state.get("trigger")
    if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict):
        raise JobStateError("a job's trigger is a cron trigger")
    fields = spec["fields"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise JobStateError("a cron trigger's fields are text")
    if not set(fields) <= set(CronTrigger.FIELD_NAMES):
        raise JobStateError("unknown cron field")
    jitter = spec.get("jitter")
    if jitter is not None and not isinstance(jitter, int):
        raise JobStateError("a trigger's jitter is a number of seconds")
    trigger = CronTrigger(
        **fields,
        timezone=str(spec.get("timezone") or "UTC"),
        start_date=_parse_when(spec.get("start_date"), "start_date"),
        end_date=_parse_when(spec.get("end_date"), "end_date"),
        jitter=jitter,
    )
    for key in ("id", "name"):
        if not isinstance(state.get(key), str):
            raise JobStateError(f"a job's {key} is text")
    grace = state.get("misfire_grace_time")
    instances = state.get("max_instances")
    if grace is not None and not isinstance(grace, int):
        raise JobStateError("misfire_grace_time is a number of seconds")
    if not isinstance(instances, int) or not isinstance(state.get("coalesce"), bool):
        raise JobStateError("max_instances and coalesce are a number and a flag")
    return {
        "version": 1,
        "id": state["id"],
        "func": state["func"],
        "trigger": trigger,
        "executor": state["executor"],
        "args": tuple(args),
        "kwargs": {},
        "name": state["name"],
        "misfire_grace_time": grace,
        "coalesce": state["coalesce"],
        "max_instances": instances,
        "next_run_time": _parse_when(state.get("next_run_time"), "next_run_time"),
    }


class DataJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """``SQLAlchemyJobStore`` whose rows are JSON, read back only as the scheduler's own
    jobs (see the module docstring)."""

    def add_job(self, job: Job) -> None:
        row = {
            "id": job.id,
            "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": encode(job),
        }
        with self.engine.begin() as conn:
            try:
                conn.execute(self.jobs_t.insert().values(**row))
            except IntegrityError:
                raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job) -> None:
        values = {
            "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": encode(job),
        }
        with self.engine.begin() as conn:
            done = conn.execute(
                self.jobs_t.update().values(**values).where(self.jobs_t.c.id == job.id)
            )
            if done.rowcount == 0:
                raise JobLookupError(job.id)

    def _reconstitute_job(self, job_state: bytes) -> Job:
        state = decode(job_state)
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job
