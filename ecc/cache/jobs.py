"""``ecc refresh``: one run, a run every N minutes (APScheduler), or the run history."""

from __future__ import annotations

import contextlib
import logging
import signal
from types import FrameType

import click
from sqlalchemy import Engine, select

from ..db_roles import publish_if_wanted
from ..errors import EccError
from ..schema import refresh_runs
from .lock import RefreshBusy
from .refresh import RefreshReport, refresh

log = logging.getLogger("ecc.cache")


def _describe(report: RefreshReport) -> str:
    if report.status == "skipped":
        ahead = (
            f"; computed {report.prepared:,} area results of tomorrow's requests ahead"
            if report.prepared
            else ""
        )
        return (
            f"refresh {report.run_id}: nothing changed since the last refresh "
            f"(data as of {report.data_as_of}); cache kept{ahead} ({report.seconds:.1f} s)"
        )
    reused = (
        f", {report.reused:,} area results, {report.intermediates:,} intermediate results "
        f"and {report.states:,} customer states reused (their data did not change)"
        if report.reused or report.intermediates or report.states
        else ""
    )
    return (
        f"refresh {report.run_id}: {report.requests:,} requests, {report.rows:,} cache rows, "
        f"{report.snapshots} month-end snapshots built{reused}, data as of "
        f"{report.data_as_of}, in {report.seconds:.1f} s"
    )


def refresh_once(
    engine: Engine, *, full: bool = False, rebuild_snapshots: bool = False
) -> RefreshReport:
    report = refresh(engine, full=full, rebuild_snapshots=rebuild_snapshots)
    click.echo(_describe(report))
    published = publish_if_wanted(engine)
    if published is not None:
        click.echo(f"published the analysts' read-only copy: {published}")
    return report


def refresh_every(engine: Engine, *, minutes: int, full: bool = False) -> None:
    """Refresh now and then every ``minutes`` until interrupted; a failed or overlapping
    run is reported and the next one still happens."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    def job() -> None:
        try:
            refresh_once(engine, full=full)
        except RefreshBusy as exc:
            click.echo(f"refresh skipped: {exc}", err=True)
        except EccError as exc:
            click.echo(f"ecc: error: {exc}", err=True)

    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        job, "interval", minutes=minutes, id="ecc-refresh", max_instances=1, coalesce=True
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    job()
    click.echo(f"refreshing every {minutes} min; Ctrl-C stops")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


def print_status(engine: Engine, limit: int = 10) -> None:
    t = refresh_runs
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.run_id.desc()).limit(limit)).all()
    if not rows:
        click.echo("no refresh has run yet; run `ecc refresh`")
        return
    for r in rows:
        took = f"{r.seconds:.1f} s" if r.seconds is not None else "-"
        line = f"{r.run_id}\t{r.started_at:%Y-%m-%d %H:%M:%S} UTC\t{r.kind}\t{r.status}\t{took}"
        if r.entries is not None:
            line += f"\t{r.entries:,} rows\t{r.snapshots or 0} snapshots"
        if r.error:
            line += "\t" + r.error.strip().splitlines()[-1]
        click.echo(line)
