"""The refresh job (``ecc refresh``): pre-aggregate every dashboard's metrics.

One run, under the database's refresh lock:

1. records a ``refresh_runs`` row (``running``);
2. brings the month-end snapshots up to date (closed months are kept; only new ones,
   or months whose source rows changed, are built);
3. computes every request of :func:`plan` from one consistent read of the data, each
   date's customer state and each area computed once for all requests that share it;
4. replaces the cache in one transaction (readers see the old cache or the new one),
   records the nightly leaderboard, marks the run ``succeeded`` and clears Redis.

A failure anywhere keeps the previous cache, marks the run ``failed`` with the reason,
and raises :class:`RefreshFailed`.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from ..clock import utcnow
from ..config import SEGMENTS, MetricSettings
from ..errors import DataError, EccError
from ..leaderboard import PRESET as LEADERBOARD_PRESET
from ..leaderboard import record_leaderboard
from ..load import data_version
from ..metrics import expansion, renewals, risk, segments
from ..metrics.compute import ALL_AREAS, AREAS, area_key, compute_areas, contexts
from ..metrics.context import Context
from ..metrics.csms import prefetch as prefetch_activity
from ..metrics.grouped import expect_by_segment
from ..metrics.plan import Plan
from ..metrics.scope import Scope
from ..metrics.state import data_today
from ..periods import PRESETS, Comparison, Period, comparison_period, preset_period
from ..schema import ecc_meta, refresh_runs
from . import carry, store
from .carry import AreaKey, is_area_key
from .keys import cache_key
from .lock import refresh_lock
from .partials import Partials
from .plan import RefreshSharing, refresh_plan
from .reader import Read, Submit, consistent_read, second_reader
from .redis_layer import layer_for
from .states import States

log = logging.getLogger("ecc.cache")

#: Segment-grouped queries over a period that read only the source tables: a
#: second connection runs them while the first computes the rest.
RANGE_QUERIES: tuple[Callable[..., dict[str, Any]], ...] = (
    segments.cohort_expansion,
    segments.ticket_counts,
    expansion.closed_counts,
    renewals.closed_in,
    risk.save_plays_by_segment,
)

#: Comparisons pre-aggregated for every preset and segment.
COMPARES: tuple[str | None, ...] = ("previous", "yoy", None)


class RefreshFailed(EccError):
    """A refresh failed; the previous cache is still in place."""


@dataclass(frozen=True)
class Job:
    period: Period
    compare: str | None
    scope: Scope

    @property
    def key(self) -> str:
        return cache_key(self.period, self.compare, self.scope)


@dataclass(frozen=True)
class RefreshReport:
    run_id: int
    status: str  # succeeded | skipped
    requests: int
    rows: int
    snapshots: int
    seconds: float
    data_as_of: date | None
    reused: int = 0  # area results carried over from earlier refreshes
    intermediates: int = 0  # intermediate results loaded instead of computed
    prepared: int = 0  # area results of tomorrow's closed periods computed ahead
    states: int = 0  # customer states read back or brought forward from kept ones


def plan(today: date) -> list[Job]:
    """Every preset x comparison x segment (and all segments together).

    Every CSM's book is in each of these: ``csms.rows``, ``workload.rows`` and
    ``risk.by_csm`` hold one row per CSM, and a CSM's page reads its row from them.
    A dashboard filtered to one CSM is computed on request (from the book's customers
    only) and kept in Redis when it is configured.
    """
    jobs: list[Job] = []
    for preset in PRESETS:
        period = preset_period(preset, today)
        for segment in (None, *SEGMENTS):
            for compare in COMPARES:
                jobs.append(Job(period, compare, Scope(segment=segment)))
    return jobs


def _periods(jobs: list[Job]) -> list[Period]:
    """The periods the jobs compute, with their comparison periods, in the jobs' order."""
    out: dict[Period, None] = {}
    for job in jobs:
        out[job.period] = None
        if job.compare is not None:
            out[comparison_period(job.period, job.compare).period] = None
    return list(out)


#: Areas that read the queries the second connection runs ahead (RANGE_QUERIES, and the
#: per-CSM activity queries for ``csms``).
_RANGE_READERS = frozenset({"segments", "expansion", "renewals", "risk"})


Request = tuple[Job, Comparison | None, list[tuple[Context, list[str]]]]


def _requests(conn: Connection, jobs: list[Job], settings: MetricSettings) -> list[Request]:
    """Each job with its comparison and the (context, areas) it is made of."""
    names = list(ALL_AREAS)
    once = Plan(sharing=RefreshSharing())  # the first date with data is looked up once
    return [
        (job, *contexts(once, conn, job.period, job.compare, job.scope, settings, names))
        for job in jobs
    ]


def _parts(
    conn: Connection, jobs: list[Job], settings: MetricSettings
) -> list[tuple[Context, list[str]]]:
    """Every (context, areas) the jobs compute, in the jobs' order."""
    return [part for _, _, parts in _requests(conn, jobs, settings) for part in parts]


def _keys(parts: list[tuple[Context, list[str]]]) -> list[AreaKey]:
    return list(dict.fromkeys(area_key(n, ctx) for ctx, names in parts for n in names))


def _run_ahead(plan: Plan, missing: list[AreaKey], submit: Submit | None) -> None:
    """Have the second connection run the period queries of the areas to compute."""
    if submit is None:
        return
    activity = {Period(k[2], k[3]) for k in missing if k[1] == "csms"}
    ranged = [Period(k[2], k[3]) for k in missing if k[1] in _RANGE_READERS or k[1] == "csms"]
    # the worker runs them in this order: each period's range queries (risk, renewals and
    # expansion ask for them early in a request) before its activity queries (csms, later)
    for period in dict.fromkeys(ranged):
        for query in RANGE_QUERIES:
            expect_by_segment(plan, query, period.start, period.end, submit=submit)
        if period in activity:
            prefetch_activity(plan, [period], submit)


def _compute_missing(
    read: Read,
    parts: list[tuple[Context, list[str]]],
    carried: set[AreaKey],
    partials: Partials,
    states: States,
    today: date,
    *,
    prune: bool,
    then: Callable[[Connection, Plan], None] | None = None,
) -> tuple[list[tuple[AreaKey, Any]], list[tuple[Any, Any]]]:
    """Compute every area of ``parts`` not carried over, each once, loading the kept
    intermediate results and customer states still valid; the new area results and
    intermediates by key. The customer states built up to ``today`` are kept: this
    commits the read's transaction, whose reads are over."""
    conn = read.conn
    with (
        refresh_plan(conn, kept=partials, states=states) as (plan, sharing),
        second_reader(read.twin) as submit,
    ):
        _run_ahead(plan, [k for k in _keys(parts) if k not in carried], submit)
        for ctx, names in parts:
            todo = [n for n in names if area_key(n, ctx) not in carried]
            if todo:
                compute_areas(replace(ctx, plan=plan), todo)
        done = sharing.computed()
        if then is not None:  # with the run's results and states still at hand
            then(conn, plan)
        if conn.dialect.name == "sqlite":
            # SQLite cannot write from a read transaction a load has since moved past;
            # the states are kept with the data version read, which tells their validity
            conn.commit()
        states.save(conn, today, prune=prune)
    conn.commit()  # the kept states, and the memo's temporary tables dropped
    return [(k, v) for k, v in done if is_area_key(k)], [
        (k, v) for k, v in done if not is_area_key(k)
    ]


def _cache_rows(request: Request) -> Iterator[store.CacheRow]:
    """A request's cache rows: its ``_meta`` and, per area, the results it names."""
    job, comparison, parts = request
    (ctx, names), cctx = parts[0], parts[1][0] if len(parts) > 1 else None
    yield store.meta_row(job.key, job.period, comparison, job.scope, cctx is not None)
    for name in names:
        compared = cctx is not None and name in AREAS
        yield store.CacheRow(
            job.key,
            name,
            value_ref=carry.result_key(area_key(name, ctx)),
            comparison_ref=carry.result_key(area_key(name, cctx)) if compared and cctx else None,
        )


def _start_run(engine: Engine, kind: str) -> int:
    with engine.begin() as conn:
        # we hold the lock, so a run still marked running was cut off (killed, power loss)
        conn.execute(
            update(refresh_runs)
            .where(refresh_runs.c.status == "running")
            .values(status="interrupted", error="the refresh stopped before it finished")
        )
        run_id = conn.execute(
            insert(refresh_runs)
            .values(kind=kind, status="running", started_at=utcnow())
            .returning(refresh_runs.c.run_id)
        ).scalar_one()
    return int(run_id)


def _fail_run(engine: Engine, run_id: int, started: float, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(refresh_runs)
            .where(refresh_runs.c.run_id == run_id)
            .values(
                status="failed",
                finished_at=utcnow(),
                seconds=time.perf_counter() - started,
                error=error,
            )
        )


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(ecc_meta.delete().where(ecc_meta.c.key == key))
    conn.execute(ecc_meta.insert().values(key=key, value=value))


def refresh(
    engine: Engine,
    *,
    full: bool = False,
    rebuild_snapshots: bool = False,
    settings: MetricSettings | None = None,
    prepare: bool = True,
) -> RefreshReport:
    """Run one refresh; raise RefreshBusy if another is running, RefreshFailed on error.

    ``rebuild_snapshots`` also rebuilds every month-end snapshot (recorded owners kept).
    Without ``full``, a refresh finds nothing to do when neither the data version nor
    the latest data date changed since the last successful run, and it keeps every
    month-end snapshot whose source rows did not change; then, with ``prepare``, it
    computes tomorrow's requests ahead (:func:`_prepare`), which a process that also
    serves pages turns off.
    """
    from ..snapshots import update_snapshots

    settings = settings or MetricSettings()
    with refresh_lock(engine):
        started = time.perf_counter()
        run_id = _start_run(engine, "full" if full else "incremental")
        try:
            with engine.connect() as conn:
                version = data_version(conn)
                today = data_today(conn)
                last = _last_success(conn)
            if version is None or today is None:
                raise DataError(
                    "the database holds no data yet; run `ecc load DIR` or `ecc demo` first"
                )
            if not (full or rebuild_snapshots) and last is not None and last == (version, today):
                prepared = _prepare(engine, today, settings) if prepare else 0
                return _finish_skipped(engine, run_id, started, version, today, prepared)
            snapshots = update_snapshots(engine, today, rebuild=rebuild_snapshots)
            with consistent_read(engine) as read:
                conn = read.conn
                # the data version is read again inside the snapshot the numbers come from
                version = data_version(conn) or version
                jobs = plan(today)
                requests = _requests(conn, jobs, settings)
                parts = [part for _, _, ps in requests for part in ps]
                keys = _keys(parts)
                # what the idle refresh computed ahead for tomorrow's requests
                ahead = _keys(_parts(conn, plan(today + timedelta(days=1)), settings))
                # what earlier refreshes kept and no load changed since; --full recomputes
                # all of today's areas (and keeps what was computed ahead for tomorrow)
                fresh = full or rebuild_snapshots
                valid = carry.usable(conn, version, (ahead if fresh else keys + ahead))
                carried = valid - set(keys) if fresh else valid
                partials = Partials(conn, version, repr(settings), load=not fresh)
                states = States(conn, version, load=not fresh)
                alerts = _Alerts(today, run_id)
                new, intermediates = _compute_missing(
                    read, parts, carried, partials, states, today, prune=False, then=alerts
                )
                # kept for the next refresh: today's areas and tomorrow's closed periods
                wanted = keys + ahead
            rows = [row for request in requests for row in _cache_rows(request)]
            board = Job(preset_period(LEADERBOARD_PRESET, today), "previous", Scope()).key
            computed_at = utcnow()
            with engine.begin() as conn:
                carry.keep(conn, new, carried=carried, version=version, wanted=wanted)
                partials.save(conn, intermediates, prune=False)
                n = store.replace_all(
                    conn, rows, data_version=version, data_as_of=today, computed_at=computed_at
                )
                board_rows = _board_rows(conn, board)
                _set_meta(conn, "cache_generation", str(run_id))
                _set_meta(conn, "cache_refreshed_at", computed_at.isoformat())
                # the next idle refresh looks again at what tomorrow needs
                conn.execute(ecc_meta.delete().where(ecc_meta.c.key == PREPARED))
                reused = len(keys) - len({k for k, _ in new} & set(keys))
                seconds = _finish(
                    conn, run_id, started, "succeeded", version, today, n, snapshots, reused
                )
        except BaseException as exc:
            detail = str(exc) if isinstance(exc, EccError) else traceback.format_exc(limit=8)
            try:
                _fail_run(engine, run_id, started, detail or type(exc).__name__)
            except Exception:  # the database itself may be what failed
                log.exception("could not record the failed refresh run %s", run_id)
            if isinstance(exc, EccError):
                raise RefreshFailed(f"refresh failed, the previous cache is kept: {exc}") from exc
            if isinstance(exc, Exception):
                raise RefreshFailed(
                    f"refresh failed, the previous cache is kept: {type(exc).__name__}: {exc}"
                ) from exc
            raise
        redis = layer_for(engine.url.render_as_string(hide_password=True))
        if redis is not None:
            redis.invalidate()
        record_leaderboard(engine, today, settings=settings, rows=board_rows)
        alerts.record(engine)
        return RefreshReport(
            run_id,
            "succeeded",
            len(jobs),
            n,
            snapshots,
            seconds,
            today,
            reused=reused,
            intermediates=len(partials.used),
            states=states.from_kept,
        )


def _board_rows(conn: Connection, key: str) -> list[dict[str, Any]] | None:
    """The CSM rows of the leaderboard's request, read back from the new cache."""
    got = store.payloads(conn, key, ["csms"]).get((key, "csms"))
    if got is None:
        return None
    rows: list[dict[str, Any]] = orjson.loads(got[0])["value"]["rows"]
    return rows


class _Alerts:
    """The alert rules over the days since their last evaluation (METRICS.md), evaluated
    on the refresh's own read of the data, with its results and customer states at hand
    (the CSMs' books on the last day, for one), and recorded after the cache is replaced.
    A failure is logged, and the next refresh evaluates those days again."""

    def __init__(self, today: date, run_id: int) -> None:
        self.today = today
        self.run_id = run_id
        self.evaluated: tuple[date, list[Any]] | None = None

    def __call__(self, conn: Connection, plan: Plan) -> None:
        from ..alerts.evaluate import due_since
        from ..alerts.rules import evaluate

        try:
            # on PostgreSQL a failed statement aborts the transaction: a savepoint keeps
            # the refresh's work (SQLite's transactions survive a failed statement)
            pg = conn.dialect.name == "postgresql"
            with conn.begin_nested() if pg else nullcontext():
                since = due_since(conn, self.today)
                if since is not None:
                    self.evaluated = (since, evaluate(conn, since, self.today, plan=plan))
        except Exception:
            log.exception("alert evaluation in refresh %s failed; the next retries", self.run_id)

    def record(self, engine: Engine) -> None:
        from ..alerts.evaluate import record_evaluated

        if self.evaluated is None:
            return
        try:
            record_evaluated(engine, self.evaluated[0], self.today, self.evaluated[1])
        except Exception:
            log.exception(
                "recording the alerts of refresh %s failed; the next retries", self.run_id
            )


def _last_success(conn: Connection) -> tuple[str, date] | None:
    row = conn.execute(
        select(refresh_runs.c.data_version, refresh_runs.c.data_as_of)
        .where(refresh_runs.c.status == "succeeded")
        .order_by(refresh_runs.c.run_id.desc())
        .limit(1)
    ).first()
    if row is None or row.data_version is None or row.data_as_of is None:
        return None
    return (row.data_version, row.data_as_of)


def _finish(
    conn: Connection,
    run_id: int,
    started: float,
    status: str,
    version: str,
    today: date,
    rows: int,
    snapshots: int,
    reused: int = 0,
) -> float:
    """Mark the run finished with ``status``; the seconds it took."""
    seconds = time.perf_counter() - started
    conn.execute(
        update(refresh_runs)
        .where(refresh_runs.c.run_id == run_id)
        .values(
            status=status,
            finished_at=utcnow(),
            data_version=version,
            data_as_of=today,
            entries=rows,
            reused=reused,
            snapshots=snapshots,
            seconds=seconds,
        )
    )
    return seconds


def _finish_skipped(
    engine: Engine, run_id: int, started: float, version: str, today: date, prepared: int
) -> RefreshReport:
    with engine.begin() as conn:
        seconds = _finish(conn, run_id, started, "skipped", version, today, 0, 0)
    return RefreshReport(run_id, "skipped", 0, 0, 0, seconds, today, prepared=prepared)


#: ecc_meta key: the data version and day whose next day's closed periods are prepared.
PREPARED = "prepared_for"


def _prepare(engine: Engine, today: date, settings: MetricSettings) -> int:
    """In a refresh with no new data: compute ahead, and keep, tomorrow's requests on
    today's data. The areas and intermediates that read no day after ``today`` (closed
    periods, comparison periods, earlier dates' summaries) stay valid after tomorrow's
    load, so the refresh after the next day's data computes only what reads that day.
    Once per data version and day; the number of areas computed."""
    with consistent_read(engine) as read:
        conn = read.conn
        version = data_version(conn)
        marker = f"{version}|{today.isoformat()}|{carry.CODE}|{settings!r}"
        done = conn.execute(select(ecc_meta.c.value).where(ecc_meta.c.key == PREPARED)).scalar()
        if version is None or done == marker:
            return 0
        # tomorrow's whole plan on today's data: what reads no later day stays valid
        # after tomorrow's load; what reads tomorrow is recomputed then
        parts = _parts(conn, plan(today + timedelta(days=1)), settings)
        keys = _keys(parts)
        today_keys = _keys(_parts(conn, plan(today), settings))
        carried = carry.usable(conn, version, keys + today_keys)
        missing = [k for k in keys if k not in carried]
        # every area of tomorrow is computed (from what is kept, mostly), so that the
        # intermediates it uses are exactly the ones kept for tomorrow
        partials = Partials(conn, version, repr(settings), load=True)
        states = States(conn, version, load=True)
        areas, intermediates = _compute_missing(
            read, parts, set(), partials, states, today, prune=True
        )
    with engine.begin() as conn:
        carry.keep(
            conn,
            areas,
            carried=carried,
            version=version,
            wanted=today_keys + keys,
            protect_cache=True,
        )
        partials.save(conn, intermediates, prune=True)
        _set_meta(conn, PREPARED, marker)
    return len(missing)
