"""CSM workload and rebalancing (US-007): capacity per CSM against targets, and the moves.

Numbers come from ``compute_all``'s ``workload`` area: one row per active CSM at the end
date with the book (accounts, ARR) against the CSM's targets, accounts at risk,
renewals due in the next 90 days, utilization = max(accounts / target accounts,
ARR / target ARR) and its status (``over`` above 100%, ``under`` below 80%, else
``balanced``), and the rebalancing recommendations (``ecc.rebalance``).

The summary cards are page extras, not METRICS.md keys (``workload.summary.*``): the
number of CSMs in each status and the highest utilization, counted from the rows here
(and from the comparison's rows for the change).
"""

from __future__ import annotations

import json
from typing import Any

from ... import formatting as f
from ...drilldown import customer_refs
from .. import charts
from ..chart_text import headline
from ..components import (
    badge,
    cap_line,
    esc,
    first,
    grid,
    href,
    link,
    section,
    shows_all,
    table,
)
from . import Page, PageContext, register
from .common import card, comparing, csm_link, then_note, then_row, vs
from .performance import plural

#: How many CSMs the utilization chart shows: the busiest.
CHART_TOP = 25
#: How many CSMs the capacity table lists, busiest first (all of them with ``?list=all``).
TABLE_TOP = 25
#: How many moves the moves table lists, and CSMs the table of their effect (``?list=all``:
#: all of them).
MOVES_TOP = 25

#: The summary cards: key -> (label, unit, plain-words definition).
SUMMARY: dict[str, tuple[str, str, str]] = {
    "over": (
        "CSMs over capacity",
        "count",
        "Active CSMs whose utilization is above 100%: more accounts or more ARR than their target.",
    ),
    "balanced": (
        "CSMs balanced",
        "count",
        "Active CSMs whose utilization is between 80% and 100% of their target.",
    ),
    "under": (
        "CSMs with room",
        "count",
        "Active CSMs whose utilization is below 80%: they can take on accounts.",
    ),
    "max_utilization": (
        "Highest utilization",
        "rate",
        "The highest utilization of any active CSM: the larger of accounts / target accounts "
        "and ARR / target ARR.",
    ),
    "moves": (
        "Recommended moves",
        "count",
        "Accounts the rebalancing rules would move to bring CSMs within capacity: between "
        "CSMs of the account's segment, never an account renewing within 90 days or with an "
        "active save play, never lifting the receiver above 100%.",
    ),
}


def by_utilization(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Highest utilization first; CSMs without targets (no utilization) last; ties by id."""
    return sorted(
        rows,
        key=lambda r: (r.get("utilization") is None, -(r.get("utilization") or 0), r["csm_id"]),
    )


def summary_card(ctx: PageContext, key: str) -> str:
    """A KPI card for a page extra, with its definition and the date it covers."""
    label, unit, text = SUMMARY[key]
    value = ctx.data["workload"]["summary"][key]
    tone = ""
    if key == "over":
        tone = "bad" if value else "good"
    elif key == "max_utilization" and value is not None:
        tone = "bad" if value > 1 else ("good" if value >= 0.8 else "warn")
    html = card(ctx, f"workload.summary.{key}", label=label, unit=unit, tone=tone)
    covers = f"as of {ctx.req.period.end:%b %-d, %Y}"
    return html.replace(
        '<span class="info">i</span></summary></details>',
        f'<span class="info">i</span>{esc(covers)}</summary>{esc(text)}</details>',
        1,
    ).replace(f'title="{esc(label)}"', f'title="{esc(f"{label}: {text} ({covers})")}"', 1)


def _vs(value: float, target: float | None, shown: str, target_shown: str) -> str:
    """``19 / 18 · 106%``; the share is bold when the book is above the target."""
    if target is None or target == 0:
        return f'{esc(shown)} <span class="ecc-muted">/ —</span>'
    share = value / target
    pct = f.pct(share, 0)
    pct_html = f"<strong>{esc(pct)}</strong>" if share > 1 else esc(pct)
    return f'{esc(shown)} <span class="ecc-muted">/ {esc(target_shown)}</span> · {pct_html}'


def utilization_cell(r: dict[str, Any]) -> str:
    u = r.get("utilization")
    raw = "" if u is None else json.dumps(u)
    return (
        f'<span class="ecc-util" data-metric="workload.rows.{esc(r["csm_id"])}.utilization" '
        f'data-value="{esc(raw)}">{esc(f.pct(u, 0))}</span> {badge(r.get("status"))}'
    )


def _capacity_row(ctx: PageContext, r: dict[str, Any]) -> list[str]:
    """A CSM's utilization, book against target, accounts at risk (linking to them) and
    renewals due within 90 days (linking to that list); with a comparison, each number's
    change since the comparison end."""
    v, cid = ctx.view, r["csm_id"]
    was = then_row(ctx, "workload", cid)

    def moved(shown: str, k: str, unit: str, good: str = "neutral") -> str:
        return vs(ctx, shown, f"workload.rows.{cid}.{k}", r.get(k), unit, good, was.get(k))

    at_risk, due = r["accounts_at_risk"], r["renewals_90d"]
    return [
        csm_link(ctx, cid),
        moved(utilization_cell(r), "utilization", "rate"),
        moved(
            _vs(
                r["accounts"],
                r.get("target_accounts"),
                f.number(r["accounts"]),
                f.number(r.get("target_accounts")),
            ),
            "accounts",
            "count",
        ),
        moved(
            _vs(r["arr"], r.get("target_arr"), f.money(r["arr"]), f.money(r.get("target_arr"))),
            "arr",
            "money",
        ),
        moved(
            link("accounts", v, f.number(at_risk), list="at_risk", csm=cid) if at_risk else "0",
            "accounts_at_risk",
            "count",
            "down",
        ),
        moved(
            link("renewal_list", v, f.number(due), csm=cid, list="due90") if due else "0",
            "renewals_90d",
            "count",
        ),
        esc(r.get("segment") or ""),
    ]


def capacity_table(ctx: PageContext, everyone: list[dict[str, Any]]) -> str:
    """A row per active CSM in the order given (busiest first): the first
    :data:`TABLE_TOP`, with a link to all of them."""
    v = ctx.view
    rows = first(everyone, TABLE_TOP, v)
    body = [_capacity_row(ctx, r) for r in rows]
    more = cap_line(
        "workload",
        v,
        total=len(everyone),
        cap=TABLE_TOP,
        showing=f"the {TABLE_TOP} busiest",
        noun="active CSMs",
    )
    return (
        table(
            [
                ("CSM", False),
                ("Utilization", True),
                ("Accounts / target", True),
                ("ARR / target", True),
                ("At risk", True),
                ("Renewals 90d", True),
                ("Segment", False),
            ],
            body,
            empty="No active CSM in this selection.",
            attrs=' data-sticky="1"',
        )
        + more
    )


def utilization_chart(ctx: PageContext, rows: list[dict[str, Any]]) -> str:
    """A bar per CSM in the order given (busiest first): the first :data:`CHART_TOP`."""
    scored = [r for r in rows if r.get("utilization") is not None]
    names: dict[str, str] = {}
    data = []
    for r in scored[:CHART_TOP]:
        name = charts.short(r.get("name") or r["csm_id"])
        if name in names.values():  # two CSMs with one name: keep both bars apart
            name = f"{charts.short(name, 16)} ({r['csm_id']})"
        names[r["csm_id"]] = name
        data.append(
            {
                "name": name,
                "utilization": r["utilization"],
                "then": then_row(ctx, "workload", r["csm_id"]).get("utilization"),
                "status": r["status"],
                "url": charts.link_value(href("csm", ctx.view, csm=r["csm_id"])),
            }
        )
    if not data:
        return ""
    which = ""
    if len(scored) > len(data):
        over = sum(1 for r in scored if r.get("status") == "over")
        which = (
            f"The {len(data)} busiest of {plural(len(scored), 'active CSM')}"
            + (f" ({over:,} over capacity)" if over else "")
            + ". "
        )
    return (
        f'<p class="ecc-muted ecc-explain">{which}Solid line: 100% of target (over it is over '
        "capacity); dashed line: 80% (under it there is room). Click a bar for the CSM's "
        "book.</p>"
        + charts.utilization_bars(
            data,
            label=headline(
                f"Capacity utilization of the {len(data)} busiest CSMs against 100% of target",
                [(str(d["name"]), d["utilization"]) for d in data],
                lambda u: f.pct(u, 0),
                compared=comparing(ctx),
            ),
        )
        + then_note(ctx)
    )


def recommendations(ctx: PageContext) -> str:
    w = ctx.data["workload"]
    moves = w["recommendations"]
    s = w["summary"]
    if not moves:
        if s["over"]:
            return (
                '<div class="ecc-empty warn" role="status">No move is possible under the rules: '
                f"{s['over']} CSM{'s are' if s['over'] != 1 else ' is'} over capacity, but "
                "every account they could give renews within 90 days, has an active save "
                "play, or would lift the receiver above 100% (moves stay within a segment)."
                "</div>"
            )
        return (
            '<div class="ecc-empty" role="status">No moves needed: every CSM is within '
            "capacity.</div>"
        )
    v = ctx.view
    shown = first(moves, MOVES_TOP, v)
    refs = customer_refs(ctx.conn, [m["customer_id"] for m in shown])
    total_arr = sum(m.get("arr") or 0 for m in moves)
    givers = len({m["from_csm"] for m in moves})
    takers = len({m["to_csm"] for m in moves})
    lead = (
        f"<p>{plural(len(moves), 'move')} of {esc(f.money(total_arr))} ARR from "
        f"{plural(givers, 'CSM')} to {plural(takers, 'CSM')}. Each move keeps the account in its "
        "segment and skips accounts renewing within 90 days or with an active save play.</p>"
    )
    body = [
        [
            link(
                "account", v, refs[cid].name if cid in refs else cid, customer=cid, came="workload"
            ),
            esc(f.money(m.get("arr"))),
            csm_link(ctx, m["from_csm"]),
            csm_link(ctx, m["to_csm"]),
            f'<span class="ecc-reason">{esc(m["reason"])}</span>',
        ]
        for m in shown
        for cid in (m["customer_id"],)
    ]
    return (
        lead
        + effect_table(ctx)
        + '<h3 class="ecc-h3 ecc-gap">The moves</h3>'
        + table(
            [("Customer", False), ("ARR", True), ("From", False), ("To", False), ("Why", False)],
            body,
            attrs=' data-sticky="1"',
        )
        + cap_line(
            "workload",
            v,
            total=len(moves),
            cap=MOVES_TOP,
            showing=f"the first {MOVES_TOP}",
            noun="moves (busiest CSMs first)",
        )
    )


def _util(accounts: float, target_accounts: Any, arr: float, target_arr: Any) -> float | None:
    """max(accounts / target accounts, ARR / target ARR), the parts without a target left out."""
    parts = [
        value / target
        for value, target in ((accounts, target_accounts), (arr, target_arr))
        if target
    ]
    return max(parts) if parts else None


def effect_table(ctx: PageContext) -> str:
    """Each CSM the moves touch: accounts out and in, utilization before and after."""
    w = ctx.data["workload"]
    by_id = {r["csm_id"]: r for r in w["rows"]}
    delta: dict[str, list[float]] = {}  # csm_id -> [out, in, arr out, arr in]
    for m in w["recommendations"]:
        arr = float(m.get("arr") or 0)
        give = delta.setdefault(m["from_csm"], [0, 0, 0.0, 0.0])
        take = delta.setdefault(m["to_csm"], [0, 0, 0.0, 0.0])
        give[0] += 1
        give[2] += arr
        take[1] += 1
        take[3] += arr
    out = []
    for cid, (n_out, n_in, arr_out, arr_in) in delta.items():
        r = by_id.get(cid)
        if r is None:
            continue
        after = _util(
            r["accounts"] - n_out + n_in,
            r.get("target_accounts"),
            r["arr"] - arr_out + arr_in,
            r.get("target_arr"),
        )
        out.append((r, int(n_out), int(n_in), after))
    everyone = out
    if len(out) > MOVES_TOP and not shows_all(ctx.view):
        # the CSMs most involved: the most accounts given or taken (then the busiest)
        out = sorted(
            out, key=lambda t: (-(t[1] + t[2]), -(t[0].get("utilization") or 0), t[0]["csm_id"])
        )
        out = out[:MOVES_TOP]
    out.sort(key=lambda t: (-(t[0].get("utilization") or 0), t[0]["csm_id"]))
    rows = [
        [
            csm_link(ctx, r["csm_id"]),
            esc(f.number(n_out)) if n_out else "",
            esc(f.number(n_in)) if n_in else "",
            f"{esc(f.pct(r.get('utilization'), 0))} → <strong>{esc(f.pct(after, 0))}</strong>",
        ]
        for r, n_out, n_in, after in out
    ]
    return (
        '<div class="ecc-narrow">'
        + table(
            [
                ("CSM", False),
                ("Gives", True),
                ("Takes", True),
                ("Before → after", True),
            ],
            rows,
            attrs=' data-sticky="1"',
        )
        + cap_line(
            "workload",
            ctx.view,
            total=len(everyone),
            cap=MOVES_TOP,
            showing=f"the {MOVES_TOP}",
            noun="CSMs the moves touch",
            text=f"Showing the {MOVES_TOP} CSMs who give or take the most accounts, of "
            f"{len(everyone):,} the moves touch.",
        )
        + "</div>"
    )


def render(ctx: PageContext) -> str:
    w = ctx.data["workload"]
    rows = by_utilization(w["rows"])
    s = w["summary"]
    cards = grid(
        summary_card(ctx, k) for k in ("over", "balanced", "under", "max_utilization", "moves")
    )
    lead = ""
    if len(rows) == 1 and s["max_utilization"] is not None:
        lead = (
            f'<p class="ecc-lead"><strong>{csm_link(ctx, rows[0]["csm_id"])}</strong> is at '
            f"{esc(f.pct(rows[0]['utilization'], 0))} of target.</p>"
        )
    elif rows and s["max_utilization"] is not None:
        top = rows[0]
        lead = (
            f'<p class="ecc-lead">Busiest: <strong>{csm_link(ctx, top["csm_id"])}</strong> at '
            f"{esc(f.pct(top['utilization'], 0))} of target · "
            f"{plural(len(rows), 'active CSM')}.</p>"
        )
    n = len(w["recommendations"])
    return (
        lead
        + cards
        + section("Capacity by CSM", utilization_chart(ctx, rows))
        + section("Accounts and ARR against target (busiest first)", capacity_table(ctx, rows))
        + section(
            f"Rebalancing recommendations ({plural(n, 'move')})",
            recommendations(ctx),
        )
    )


PAGE = register(Page(name="workload", title="Workload", areas=("workload",), render=render))
