"""``ecc metrics --format table``: the headline numbers as an executive reads them in a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import formatting as f
from .config import SEGMENTS

GOOD, WARN, BAD = "green", "yellow", "red"


def _status_color(
    value: float | None, good: float, warn: float, *, higher_is_better: bool = True
) -> str:
    if value is None:
        return "dim"
    if not higher_is_better:
        value, good, warn = -value, -good, -warn
    return GOOD if value >= good else (WARN if value >= warn else BAD)


def _headline(result: dict[str, Any]) -> Table:
    cmp = result.get("comparison_values")
    has_cmp = "comparison" in result and result["comparison"] is not None
    t = Table(title="Headline", title_justify="left", show_edge=False, pad_edge=False)
    t.add_column("Metric")
    t.add_column("Now", justify="right")
    if has_cmp:
        t.add_column("Compared", justify="right")
        t.add_column("Change", justify="right")

    def row(label: str, path: tuple[str, ...], kind: str, style: str = "") -> None:
        now = f.get(result, *path)
        fmt = {"money": f.money, "rate": f.pct, "score": f.score, "number": f.number}[kind]
        cells: list[Any] = [label, Text(fmt(now), style=style)]
        if has_cmp:
            if cmp is None:
                cells += [Text("not enough history", style="dim"), ""]
            else:
                then = f.get(cmp, *path)
                cells += [fmt(then), f.delta(now, then, kind)]
        t.add_row(*cells)

    p = result["portfolio"]
    row("Customers", ("portfolio", "customers"), "number")
    row("ARR", ("portfolio", "arr"), "money")
    row(
        "Average health",
        ("portfolio", "avg_health"),
        "score",
        _status_color(p.get("avg_health"), 70, 40),
    )
    dist = p.get("distribution") or {}
    for cat, label, color in (
        ("healthy", "  healthy", GOOD),
        ("at_risk", "  at risk", WARN),
        ("critical", "  critical", BAD),
    ):
        row(label, ("portfolio", "distribution", cat), "rate", color if dist.get(cat) else "")
    r = result["retention"]
    row("GRR (period)", ("retention", "grr"), "rate", _status_color(r.get("grr"), 0.9, 0.8))
    row("NRR (period)", ("retention", "nrr"), "rate", _status_color(r.get("nrr"), 1.0, 0.9))
    row(
        "GRR trailing 12 months",
        ("retention", "grr_ttm"),
        "rate",
        _status_color(r.get("grr_ttm"), 0.9, 0.8),
    )
    row(
        "NRR trailing 12 months",
        ("retention", "nrr_ttm"),
        "rate",
        _status_color(r.get("nrr_ttm"), 1.0, 0.9),
    )
    row("New ARR", ("retention", "new_arr"), "money")
    row("Expansion ARR", ("retention", "expansion_arr"), "money", GOOD)
    row("Contraction ARR", ("retention", "contraction_arr"), "money", WARN)
    row("Churned ARR", ("retention", "churned_arr"), "money", BAD)
    row("ARR at risk", ("risk", "arr_at_risk"), "money", WARN)
    row("  of which critical", ("risk", "critical_arr"), "money", BAD)
    row("Renewal rate", ("renewals", "renewal_rate"), "rate")
    row("Renewal forecast (quarter)", ("renewals", "forecast_rate"), "rate")
    row("Open expansion pipeline", ("expansion", "open_value"), "money")
    row("Expansion win rate", ("expansion", "win_rate"), "rate")
    return t


def _trends(result: dict[str, Any]) -> str:
    p, rk = result["portfolio"], result["risk"]
    parts = []
    if p.get("trend"):
        parts.append(f"health {p['trend']}")
    if rk.get("trend"):
        parts.append(f"risk {rk['trend']}")
    fc = result["retention"].get("forecast") or {}
    parts.append(
        f"next 90 days: forecast churn {f.money(fc.get('churn_arr'))}, "
        f"forecast expansion {f.money(fc.get('expansion_arr'))}"
    )
    return " · ".join(parts)


def _segments(result: dict[str, Any]) -> Table:
    segs = result["segments"]
    t = Table(title="Segments", title_justify="left", show_edge=False, pad_edge=False)
    t.add_column("")
    for s in SEGMENTS:
        t.add_column(s, justify="right")
    rows: list[tuple[str, str, Any]] = [
        ("Customers", "customers", f.number),
        ("ARR", "arr", f.money),
        ("Avg health", "avg_health", f.score),
        ("GRR", "grr", f.pct),
        ("NRR", "nrr", f.pct),
        ("Expansion rate", "expansion_rate", f.pct),
        ("Time to value (days)", "time_to_value_days", f.number),
        ("Tickets", "tickets", f.number),
        ("Tickets / account", "tickets_per_account", lambda v: f.number(v, 2)),
    ]
    for label, key, fmt in rows:
        t.add_row(label, *[fmt(f.get(segs, s, key)) for s in SEGMENTS])
    return t


def _top_risk(result: dict[str, Any]) -> Table:
    t = Table(title="Top accounts at risk", title_justify="left", show_edge=False, pad_edge=False)
    for col, just in (
        ("Customer", "left"),
        ("Segment", "left"),
        ("CSM", "left"),
        ("ARR", "right"),
        ("Health", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for a in result["risk"].get("top_accounts", []):
        color = BAD if a.get("category") == "critical" else WARN
        t.add_row(
            a.get("name") or a["customer_id"],
            a.get("segment", ""),
            a.get("csm_id", ""),
            f.money(a.get("arr")),
            Text(f.score(a.get("score")), style=color),
        )
    return t


def _renewals(result: dict[str, Any]) -> Table:
    rn = result["renewals"]
    t = Table(
        title="Renewals due this quarter", title_justify="left", show_edge=False, pad_edge=False
    )
    t.add_column("Stage")
    t.add_column("Count", justify="right")
    t.add_column("ARR", justify="right")
    colors = {"on_track": GOOD, "at_risk": WARN, "renewed": GOOD, "churned": BAD}
    for stage, v in (rn.get("stages") or {}).items():
        t.add_row(
            Text(stage.replace("_", " "), style=colors.get(stage, "")),
            f.number(v.get("count")),
            f.money(v.get("arr")),
        )
    late = rn.get("late") or {}
    t.add_row(
        Text("late (overdue, open)", style=BAD),
        f.number(late.get("count")),
        f.money(late.get("arr")),
    )
    for k, label in (("d30", "next 30 days"), ("d60", "31-60 days"), ("d90", "61-90 days")):
        v = f.get(rn, "upcoming", k) or {}
        t.add_row(label, f.number(v.get("count")), f.money(v.get("arr")))
    return t


def _leaderboard(result: dict[str, Any], limit: int = 10) -> Table:
    rows = (result.get("csms") or {}).get("rows", [])
    t = Table(
        title=f"CSM leaderboard (top {min(limit, len(rows))} of {len(rows)})",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for col in ("#", "CSM", "Accounts", "ARR", "Health", "NRR", "Expansion", "Health Δ", "Resp. h"):
        t.add_column(col, justify="left" if col == "CSM" else "right")
    for r in rows[:limit]:
        t.add_row(
            str(r.get("rank")),
            r.get("name", r["csm_id"]),
            f.number(r.get("accounts")),
            f.money(r.get("arr")),
            f.score(r.get("avg_health")),
            f.pct(r.get("nrr")),
            f.money(r.get("expansion_arr")),
            "—" if r.get("health_change") is None else f"{r['health_change']:+.1f}",
            f.number(r.get("response_hours"), 1),
        )
    return t


def _workload(result: dict[str, Any]) -> Table:
    wl = result.get("workload") or {}
    rows = sorted(wl.get("rows", []), key=lambda r: -(r.get("utilization") or 0))
    over = [r for r in rows if r.get("status") == "over"]
    t = Table(
        title=f"Workload: {len(over)} of {len(rows)} CSMs over capacity, "
        f"{len(wl.get('recommendations', []))} rebalancing moves suggested",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for col in ("CSM", "Accounts", "ARR", "Utilization", "At risk", "Renewals 90d"):
        t.add_column(col, justify="left" if col == "CSM" else "right")
    for r in over[:10]:
        t.add_row(
            r.get("name", r["csm_id"]),
            f"{r['accounts']}/{r['target_accounts']}",
            f"{f.money(r['arr'])}/{f.money(r['target_arr'])}",
            Text(f.pct(r.get("utilization"), 0), style=BAD),
            f.number(r.get("accounts_at_risk")),
            f.number(r.get("renewals_90d")),
        )
    return t


def render(result: dict[str, Any], console: Console | None = None) -> None:
    """Print the headline tables of a ``compute_all`` result."""
    console = console or Console(width=None if Console().is_terminal else 110)
    period = result["period"]
    title = f"Executive Command Center · {period['start']} → {period['end']}"
    cmp = result.get("comparison")
    if cmp:
        title += f" vs {cmp['start']} → {cmp['end']} ({cmp['kind']})"
    filters = result.get("filters") or {}
    chosen = [f"{k} {v}" for k, v in filters.items() if v]
    title += f" · filters: {', '.join(chosen) if chosen else 'none'}"
    console.print(Text(title, style="bold"))
    console.print(_trends(result), style="dim")
    console.print()
    for part in (
        _headline(result),
        _segments(result),
        _top_risk(result),
        _renewals(result),
        _leaderboard(result),
        _workload(result),
    ):
        console.print(part)
        console.print()
