"""``ecc scheduler``: APScheduler running the schedules, one scheduler per database.

- The jobs live in the project database (table ``apscheduler_jobs``, as JSON that is
  read back only as one of the scheduler's own jobs: :mod:`.jobstore`), so a job's next
  run time survives a restart. At start the jobs
  are synced from the schedule files: new ones added, changed cron/timezone rescheduled,
  removed or disabled ones taken out, unchanged ones kept as stored.
- A job that came due while no scheduler ran is run once at start (``coalesce``, no
  misfire limit), and a cron time is run at most once (``report_runs`` refuses a second
  run for the same ``due_at``).
- One scheduler per database: the process holds :func:`scheduler_lock` for its lifetime;
  a second one stops at once with a message.
- The outbox is retried every minute and, at start, everything pending at once.
- Subscriptions made from the pages (:mod:`.subscriptions`) are schedules too, read
  again every 20 seconds (``ECC_SUBSCRIPTIONS_EVERY``): a new, changed, paused or
  removed one applies without a restart.
- Alert mail (:mod:`ecc.alerts.digest`): the daily and weekly digests are persistent
  jobs like the reports (a digest missed while down is sent once at start); immediate
  mail for critical alerts is looked for every minute.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from sqlalchemy import Engine, inspect

from ..errors import EccError
from ..locks import database_lock
from ..mail import outbox
from . import records
from .config import Schedule
from .jobstore import ALERTS_FUNC, JOB_TABLE, REPORT_FUNC
from .runner import RunContext, run_schedule

log = logging.getLogger("ecc.schedule")

#: The advisory lock key of the scheduler ("ECC-SCHD" as a number).
ADVISORY_KEY = 0x4543432D53434844 & 0x7FFFFFFFFFFFFFFF
JOB_FUNC = REPORT_FUNC
OUTBOX_EVERY = timedelta(minutes=1)


class SchedulerBusy(EccError):
    """Another scheduler runs on the same database."""


def _busy(holder: str) -> SchedulerBusy:
    who = f" (process {holder})" if holder else ""
    return SchedulerBusy(
        f"another `ecc scheduler`{who} is already running on this database; only one may "
        "run per database — stop that one first, or use `ecc scheduler --run-now NAME` to "
        "run a schedule beside it"
    )


@contextmanager
def scheduler_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's scheduler lock for the block, or raise SchedulerBusy at once."""
    with database_lock(engine, key=ADVISORY_KEY, suffix=".scheduler-lock", busy=_busy):
        yield


# ---------------------------------------------------------------- the jobs' entry points

_ACTIVE: dict[str, Any] = {}  # "ctx": RunContext, "schedules": {name: Schedule}


def last_fire_time(trigger: Any, now: datetime) -> datetime | None:
    """The latest time at or before ``now`` at which ``trigger`` fires (the run's due time)."""
    for back in (timedelta(hours=1), timedelta(days=2), timedelta(days=32), timedelta(days=800)):
        t = trigger.get_next_fire_time(None, now - back)
        last: datetime | None = None
        while t is not None and t <= now:
            last = t
            t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
        if last is not None:
            return last
    return None


def run_job(name: str) -> None:
    """APScheduler calls this (by name, from the persistent store) when ``name`` is due."""
    ctx: RunContext | None = _ACTIVE.get("ctx")
    schedule: Schedule | None = _ACTIVE.get("schedules", {}).get(name)
    if ctx is None or schedule is None:
        log.error("job for schedule %s ran outside a scheduler that knows it; skipped", name)
        return
    due = last_fire_time(schedule.trigger(), datetime.now(UTC))
    due_at = due.astimezone(UTC).replace(tzinfo=None) if due else None
    try:
        run_schedule(ctx, schedule, trigger="scheduled", due_at=due_at)
    except Exception:  # a job must never take the scheduler down
        log.exception("%s: the run could not be recorded", name)


def deliver_job(ignore_backoff: bool = False) -> None:
    """Send the outbox messages that are due."""
    ctx: RunContext | None = _ACTIVE.get("ctx")
    if ctx is None:
        return
    try:
        outbox.deliver(ctx.engine, ctx.mail, ignore_backoff=ignore_backoff)
    except Exception:
        log.exception("the outbox could not be delivered")


def subscriptions_job() -> None:
    """Apply the subscriptions people made, changed, paused or removed from the pages."""
    service: SchedulerService | None = _ACTIVE.get("service")
    if service is None:
        return
    try:
        service.read_subscriptions()
    except Exception:  # a job must never take the scheduler down
        log.exception("the subscriptions could not be read")


def start_job() -> None:
    """The pass at start: critical alerts not yet mailed, then everything pending in the
    outbox at once (backoff ignored); says when it is done."""
    alerts_job("immediate")
    deliver_job(ignore_backoff=True)
    log.info("start-up pass done: immediate alerts checked, the outbox tried")


def alerts_job(cadence: str) -> None:
    """Queue the alert mail of ``cadence`` (nothing when nothing is new), then send it."""
    from ..alerts.digest import queue_mail

    ctx: RunContext | None = _ACTIVE.get("ctx")
    if ctx is None:
        return
    try:
        if queue_mail(ctx.engine, cadence, ctx.mail.sender):
            outbox.deliver(ctx.engine, ctx.mail)
    except Exception:
        log.exception("%s alert mail could not be queued", cadence)


# ---------------------------------------------------------------- the scheduler


def _job_store(engine: Engine) -> Any:
    from .jobstore import DataJobStore

    return DataJobStore(engine=engine, tablename=JOB_TABLE)


def _when(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "never"
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M %Z}"


@dataclass
class SyncLine:
    name: str
    action: str  # added | kept | changed | removed
    next_run: datetime | None
    timezone: str = "UTC"

    def __str__(self) -> str:
        if self.action == "removed":
            return f"{self.name}: removed (no longer in the schedule files, or disabled)"
        return f"{self.name}: {self.action}, next run {_when(self.next_run, self.timezone)}"


class SchedulerService:
    """A background APScheduler over the database's job store (hold the lock first)."""

    def __init__(self, ctx: RunContext, schedules: list[Schedule]) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.ctx = ctx
        self.files = [s for s in schedules if s.enabled]  # schedules/*.yaml
        self.schedules = list(self.files)  # and the subscriptions' (read at start)
        self._sync_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            jobstores={"default": _job_store(ctx.engine), "local": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(1), "mail": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def read_subscriptions(self) -> bool:
        """Read the subscriptions again; when they changed, sync the jobs (a new one added,
        a changed time rescheduled, a paused or removed one taken out). True when changed."""
        from .subscriptions import schedules as subscribed

        wanted = [*self.files, *subscribed(self.ctx.engine)]
        with self._sync_lock:
            if wanted == self.schedules:
                return False
            self.schedules = wanted
            _ACTIVE["schedules"] = {s.name: s for s in wanted}
            for line in self._sync():
                if line.action != "kept":
                    log.info("subscriptions: %s", line)
        return True

    def _sync(self) -> list[SyncLine]:
        sched = self.scheduler
        existing = {j.id: j for j in sched.get_jobs(jobstore="default")}
        lines = []
        for s in self.schedules:
            trigger = s.trigger()
            job = existing.pop(s.job_id, None)
            if job is None:
                job = sched.add_job(
                    JOB_FUNC,
                    trigger,
                    id=s.job_id,
                    name=s.name,
                    args=[s.name],
                    jobstore="default",
                    executor="default",
                )
                action = "added"
            else:
                action = "kept"
                if repr(job.trigger) != repr(trigger):
                    job = sched.reschedule_job(s.job_id, jobstore="default", trigger=trigger)
                    action = "changed"
                job = sched.modify_job(
                    s.job_id,
                    jobstore="default",
                    func=JOB_FUNC,
                    args=[s.name],
                    name=s.name,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=None,
                )
            lines.append(SyncLine(s.name, action, job.next_run_time, s.timezone))
        for job_id, job in existing.items():
            if job_id.startswith("report:"):
                sched.remove_job(job_id, jobstore="default")
                lines.append(SyncLine(job.name, "removed", None))
        return lines

    def start(self) -> list[SyncLine]:
        """Sync the jobs, mark runs a dead scheduler left running, then start running."""
        from ..alerts.digest import default_subscribers
        from .alert_times import digest_triggers

        # the alert settings are checked before anything starts (a ConfigError says which)
        digests = digest_triggers()
        added = default_subscribers(self.ctx.engine)
        if added:
            log.info("subscribed %s address(es) of ECC_ALERT_EMAILS to alert mail", added)
        interrupted = records.interrupt_left_running(self.ctx.engine)
        if interrupted:
            log.warning("%s scheduled run(s) left running by a stopped scheduler", interrupted)
        from .subscriptions import read_every
        from .subscriptions import schedules as subscribed

        every = read_every()  # checked before anything starts

        self.schedules = [*self.files, *subscribed(self.ctx.engine)]
        _ACTIVE.update(ctx=self.ctx, schedules={s.name: s for s in self.schedules}, service=self)
        self.scheduler.start(paused=True)
        lines = self._sync()
        now = datetime.now(UTC)
        self.scheduler.add_job(
            "ecc.schedule.service:start_job",
            "date",
            run_date=now,
            id="outbox-at-start",
            jobstore="local",
            executor="mail",
        )
        self.scheduler.add_job(
            "ecc.schedule.service:deliver_job",
            "interval",
            seconds=OUTBOX_EVERY.total_seconds(),
            start_date=now + OUTBOX_EVERY,
            id="outbox",
            jobstore="local",
            executor="mail",
        )
        self.scheduler.add_job(
            "ecc.schedule.service:subscriptions_job",
            "interval",
            seconds=every.total_seconds(),
            start_date=now + every,
            id="subscriptions",
            jobstore="local",
            executor="mail",
        )
        self._alert_jobs(now, digests)
        self.scheduler.resume()
        return lines

    def _alert_jobs(self, now: datetime, digests: dict[str, Any]) -> None:
        from .alert_times import IMMEDIATE_EVERY

        sched = self.scheduler
        for cadence, trigger in digests.items():
            job_id = f"alerts:{cadence}"
            job = sched.get_job(job_id, jobstore="default")
            if job is None:
                sched.add_job(
                    ALERTS_FUNC,
                    trigger,
                    id=job_id,
                    name=f"{cadence} alert digest",
                    args=[cadence],
                    jobstore="default",
                    executor="mail",
                )
            elif repr(job.trigger) != repr(trigger):
                sched.reschedule_job(job_id, jobstore="default", trigger=trigger)
        sched.add_job(
            ALERTS_FUNC,
            "interval",
            seconds=IMMEDIATE_EVERY.total_seconds(),
            start_date=now + IMMEDIATE_EVERY,  # the first check is the start job's
            args=["immediate"],
            id="alerts-immediate",
            jobstore="local",
            executor="mail",
        )

    def stop(self, *, wait: bool = True) -> None:
        """Stop; with ``wait``, a report being made is finished (and mailed) first.

        The job store is detached first: a stopping APScheduler 3 still looks for due jobs
        once and, finding its executors shut, would skip a run that came due meanwhile yet
        record the job's next run time — a run lost. Detached, the store keeps the job due
        for the next start.
        """
        if self.scheduler.running:
            self.scheduler.pause()
            self.scheduler.remove_jobstore("default", shutdown=False)  # jobs stay in the db
            self.scheduler.shutdown(wait=wait)
        _ACTIVE.clear()


def serve(ctx: RunContext, schedules: list[Schedule], *, say: Callable[[str], None]) -> None:
    """Run the schedules until SIGTERM or Ctrl-C; ``say`` prints progress lines."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    smtp = ctx.mail.require_smtp()
    with scheduler_lock(ctx.engine):
        service = SchedulerService(ctx, schedules)
        previous = signal.signal(signal.SIGTERM, on_signal)
        try:
            for line in service.start():
                say(str(line))
            say(
                f"scheduler started: {len(service.schedules)} schedule(s), "
                f"mail via {smtp.describe()}; Ctrl-C stops"
            )
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            say("scheduler stopping (a report being made is finished first)")
            service.stop(wait=True)
            signal.signal(signal.SIGTERM, previous)
        say("scheduler stopped")


# ---------------------------------------------------------------- status


def next_runs(engine: Engine, prefix: str = "report:") -> dict[str, datetime | None]:
    """Each stored job's next run time, by schedule name (empty before the first start);
    ``prefix="alerts:"``: the alert digests', by cadence."""
    if JOB_TABLE not in inspect(engine).get_table_names():
        return {}
    store = _job_store(engine)
    out: dict[str, datetime | None] = {}
    for job in store.get_all_jobs():
        if job.id.startswith(prefix):
            out[job.id.removeprefix(prefix)] = job.next_run_time
    return out
