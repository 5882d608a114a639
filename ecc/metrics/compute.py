"""Assemble every metric family into the JSON object of METRICS.md."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine

from ..config import AlertSettings, MetricSettings
from ..periods import Comparison, Period, comparison_period
from ..snapshot_dates import usable_snapshot_dates
from .context import Context
from .csms import csms
from .expansion import expansion
from .memo import state_memo
from .plan import Plan
from .portfolio import portfolio
from .renewals import renewals
from .retention import retention, retention_history
from .risk import risk
from .scope import Scope
from .segments import segments
from .state import first_data_date
from .summary import summary_trend
from .workload import workload

Family = Callable[[Context], Any]

#: Every area of ``ecc metrics``, in the order of METRICS.md.
AREAS: dict[str, Family] = {
    "portfolio": portfolio,
    "retention": retention,
    "risk": risk,
    "renewals": renewals,
    "expansion": expansion,
    "csms": csms,
    "workload": workload,
    "segments": segments,
}


#: Areas a page may ask for by name that are not part of METRICS.md's output (``ecc
#: metrics`` never prints them); the refresh pre-aggregates them with the others.
EXTRA_AREAS: dict[str, Family] = {
    "retention_history": retention_history,
    "summary_trend": summary_trend,
}
ALL_AREAS: dict[str, Family] = {**AREAS, **EXTRA_AREAS}

#: Areas whose values depend on the comparison period (their ``trend``); the others
#: depend only on the period, the filters and the settings.
USES_COMPARISON = frozenset({"portfolio", "risk"})


def area_key(name: str, ctx: Context) -> tuple[Any, ...]:
    """What an area's values depend on besides the data: a refresh computes each once."""
    return (
        "area",
        name,
        ctx.period.start,  # the numbers depend on the dates, not on how they were chosen
        ctx.period.end,
        ctx.scope,
        ctx.comparison if name in USES_COMPARISON else None,
        repr(ctx.settings),  # settings hold dicts; their repr is a stable key
    )


def _area(name: str, ctx: Context) -> Any:
    return ctx.plan.shared(area_key(name, ctx), lambda: ALL_AREAS[name](ctx))


def compute_areas(ctx: Context, areas: Iterable[str] | None = None) -> dict[str, Any]:
    """The named areas (all by default) for one context, keyed by area name."""
    names = list(AREAS) if areas is None else list(areas)
    return {name: _area(name, ctx) for name in names}


def comparison_computable(plan: Plan, conn: Connection, comparison: Comparison) -> bool:
    """False when the comparison range starts before the first date with data (FR-10)."""
    first = plan.shared(("first-data-date",), lambda: first_data_date(conn))
    return first is not None and comparison.period.start >= first


def compute_all(
    source: Engine | Connection,
    period: Period,
    *,
    compare: str | None = None,
    scope: Scope | None = None,
    settings: MetricSettings | None = None,
    areas: Iterable[str] | None = None,
    snapshots: bool = True,
) -> dict[str, Any]:
    """Every metric for ``period`` and ``scope``: the object ``ecc metrics`` prints.

    ``snapshots=False`` reads ARR and health at month ends from the source tables even
    where a verified month-end snapshot holds them (the same numbers, more slowly).

    With ``compare`` (``previous`` or ``yoy``), ``comparison`` gives the comparison dates
    and ``comparison_values`` holds each area recomputed over that period with the same
    filters; it is null as a whole when the comparison starts before the data does.
    """
    if isinstance(source, Engine):
        with source.connect() as conn:
            if conn.dialect.name == "postgresql":
                # one consistent snapshot for every query of this computation
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            return compute_all(
                conn,
                period,
                compare=compare,
                scope=scope,
                settings=settings,
                areas=areas,
                snapshots=snapshots,
            )
    dates = usable_snapshot_dates(source) if snapshots else frozenset()
    with state_memo(source) as memo:
        plan = Plan(snapshots=dates, states=memo)
        return _compute(plan, source, period, compare, scope, settings, areas)


def reading_plan(conn: Connection) -> Plan:
    """The plan of a single query outside a computation: verified month-end snapshots
    stand in for the ledger replay; nothing else is kept."""
    return Plan(snapshots=usable_snapshot_dates(conn))


def contexts(
    plan: Plan,
    conn: Connection,
    period: Period,
    compare: str | None,
    scope: Scope,
    settings: MetricSettings,
    names: list[str],
) -> tuple[Comparison | None, list[tuple[Context, list[str]]]]:
    """The comparison (None without ``compare``) and the contexts one request computes,
    each with its areas: the period's, then the comparison period's when computable."""
    comparison = comparison_period(period, compare) if compare else None
    computable = comparison is not None and comparison_computable(plan, conn, comparison)
    ctx = Context(
        conn=conn,
        period=period,
        scope=scope,
        comparison=comparison.period if comparison is not None and computable else None,
        settings=settings,
        alerts=AlertSettings(),
        plan=plan,
    )
    out = [(ctx, names)]
    if comparison is not None and computable:
        cctx = Context(
            conn=conn,
            period=comparison.period,
            scope=scope,
            comparison=None,
            settings=settings,
            alerts=ctx.alerts,
            plan=plan,
        )
        # the extra areas are page details of the period itself: no comparison
        out.append((cctx, [n for n in names if n in AREAS]))
    return comparison, out


def _compute(
    plan: Plan,
    conn: Connection,
    period: Period,
    compare: str | None,
    scope: Scope | None,
    settings: MetricSettings | None,
    areas: Iterable[str] | None,
) -> dict[str, Any]:
    scope = scope or Scope()
    settings = settings or MetricSettings()
    names = list(AREAS) if areas is None else list(areas)
    comparison, parts = contexts(plan, conn, period, compare, scope, settings, names)
    out: dict[str, Any] = {
        "period": period.as_dict(),
        "comparison": comparison.as_dict() if comparison is not None else None,
        "filters": scope.as_dict(),
    }
    out.update(compute_areas(*parts[0]))
    if comparison is not None:
        out["comparison_values"] = compute_areas(*parts[1]) if len(parts) > 1 else None
    return out
