"""A CSM's portfolio (drill-down): their numbers against the team, workload, and book."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ... import formatting as f
from ...drilldown import LIST_LIMIT, account_list
from ...errors import ConfigError
from ...leaderboard import rank_history
from ...metrics.plan import Plan
from ...metrics.scope import Scope
from ...request import Request
from .. import charts
from ..chart_text import span
from ..components import badge, esc, grid, kpi, link, section, show_data, table
from ..view import View
from . import Page, PageContext, register
from .common import base_crumbs, compare_label, then_row


def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    return _data(conn, plan, req, view, LIST_LIMIT)


def every_row(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
    """The page's data with the whole book (the Excel export)."""
    return _data(conn, plan, req, view, None)


def _data(
    conn: Connection, plan: Plan, req: Request, view: View, limit: int | None
) -> dict[str, Any]:
    """The CSM's book (its ``limit`` largest accounts) and recorded leaderboard ranks."""
    if not view.csm:
        raise ConfigError("no CSM chosen: pick one in the CSM filter or click a CSM's name")
    return {
        "book": account_list(plan, conn, req.period.end, req.scope, "all", limit),
        "rank_history": [
            {"date": r["ranked_on"].isoformat(), "rank": r["rank"]}
            for r in reversed(rank_history(conn, view.csm))
        ],
    }


def team_scope(req: Request) -> Scope:
    """The page compares the CSM with the team: its numbers are the CSM's row among all
    CSMs (of the segment filter, when one is set), so the rank and team average mean
    something — and every CSM's page reads the same pre-aggregated data."""
    return Scope(segment=req.scope.segment)


def _row(rows: list[dict[str, Any]], csm_id: str) -> dict[str, Any]:
    return next((r for r in rows if r["csm_id"] == csm_id), {})


def render(ctx: PageContext) -> str:
    d, v, p = ctx.data, ctx.view, ctx.req.period
    cid = v.csm or ""
    row = _row(d["csms"]["rows"], cid)
    team = d["csms"]["team_average"]
    wl = _row(d["workload"]["rows"], cid)

    def vs_team(key: str) -> str:
        return f"team {f.number(team.get(key), 1) if team.get(key) is not None else '—'}"

    was, wl_was, label = (
        then_row(ctx, "csms", cid),
        then_row(ctx, "workload", cid),
        compare_label(ctx),
    )

    def card(key: str, name: str | None, unit: str | None, **kw: Any) -> str:
        area, now, before = ("workload", wl, wl_was) if key == "utilization" else ("csms", row, was)
        return kpi(
            f"{area}.rows.{cid}.{key}",
            now.get(key),
            p,
            compare=before.get(key),
            compare_label=label,
            label=name,
            unit=unit,
            **kw,
        )

    cards = grid(
        [
            card("accounts", "Accounts", "count"),
            card("arr", "Book ARR", "money"),
            card("avg_health", "Average health", "score", good="up"),
            card("nrr", "NRR", "rate", good="up"),
            card("expansion_arr", "Expansion ARR", "money", good="up"),
            card("response_hours", "Response time", "hours"),
            card("utilization", None, None, tone="bad" if wl.get("status") == "over" else ""),
            card("rank", "Leaderboard rank", "count", good="down"),
        ]
    )
    activity = (
        f"<p>Meetings {row.get('meetings', 0)}, emails {row.get('emails', 0)}, calls "
        f"{row.get('calls', 0)}, tasks completed {row.get('tasks_completed', 0)} in the period "
        f"· health change {esc(f.number(row.get('health_change'), 1))} "
        f"({esc(vs_team('health_change'))})</p>"
    )
    book = d["book"]
    book_rows = [
        [
            link("account", v, r["name"], customer=r["customer_id"], came="csm"),
            esc(r["segment"]),
            esc(f.money(r["arr"])),
            badge(r["category"]) + f" {esc(f.score(r['score']))}",
        ]
        for r in book["rows"]
    ]
    name = row.get("name") or v.csm or ""
    history = d.get("rank_history") or []
    ranks = (
        section(
            "Leaderboard rank, as recorded each night (this quarter to date, all CSMs)",
            charts.rank_line(
                history,
                label=span(
                    f"{name}'s leaderboard rank each night",
                    [h["rank"] for h in history],
                    lambda r: f"#{r}",
                ),
            )
            + show_data(
                [("Night", False), ("Rank", True)],
                [[esc(f.day(h["date"][:10])), esc(f"#{h['rank']}")] for h in reversed(history)],
                what=f"{name}'s rank each night",
            ),
        )
        if len(history) > 1
        else ""
    )
    return (
        f"<h2>{esc(name)}</h2>"
        + cards
        + activity
        + ranks
        + section(
            f"Book: {book['total']} accounts, {f.money(book['total_arr'])}",
            table(
                [("Customer", False), ("Segment", False), ("ARR", True), ("Health", False)],
                book_rows,
            ),
        )
    )


def crumbs(ctx: PageContext) -> list[tuple[str, str | None]]:
    name = _row(ctx.data["csms"]["rows"], ctx.view.csm or "").get("name") or ctx.view.csm
    return [*base_crumbs(ctx, with_csm=False), (f"CSM: {name}", None)]


PAGE = register(
    Page(
        name="csm",
        title="CSM portfolio",
        areas=("csms", "workload"),
        render=render,
        nav=False,
        crumbs=crumbs,
        extra=extra,
        every_row=every_row,
        tables=("book",),  # the Excel export holds the whole book
        data_scope=team_scope,
    )
)
