"""Issue 18, part 2: a comparison reaches every widget. Each number of a dashboard table
shows its change since the comparison period (``data-compare`` = the METRICS.md key,
``data-value`` = the comparison value, then the arrow and the change as formatted); the
charts draw the comparison; the CSM, accounts and account pages compare their cards; a
page with nothing to compare says so in its selector."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from ecc import formatting as fmt
from ecc.demo import build_demo
from ecc.drilldown import account_totals
from ecc.metrics import compute_all
from ecc.metrics.plan import Plan
from ecc.metrics.scope import Scope
from ecc.periods import Period
from ecc.schema import arr_events, health_scores
from ecc.ui.change import change
from ecc.ui.static import render_page
from tests.support.pagecheck import expected

TODAY = date(2026, 11, 24)
QUARTER = Period(date(2026, 10, 1), TODAY, "this_quarter")
THEN = Period(date(2026, 7, 1), date(2026, 8, 24))  # the previous quarter, cut to 55 days
WITH = "preset=this_quarter&compare=previous&today=2026-11-24"
WITHOUT = "preset=this_quarter&compare=none&today=2026-11-24"

#: Each dashboard table that compares, by the key paths of its changes.
TABLES = {
    "risk": ("risk.by_segment.", "risk.by_csm."),
    "segments": ("segments.", "portfolio.by_segment."),
    "portfolio": ("portfolio.by_segment.", "risk.by_segment."),
    "performance": ("csms.rows.", "csms.team_average."),
    "renewals": ("renewals.stages.",),
    "expansion": ("expansion.by_stage.", "expansion.by_type."),
    "workload": ("workload.rows.",),
}
AREAS = ["portfolio", "retention", "risk", "renewals", "expansion", "csms", "workload", "segments"]


class _Changes(HTMLParser):
    """Every change span: key -> (comparison value, shown text, tone)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, tuple[Any, str, str]] = {}
        self._open: tuple[str, Any, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-compare") is not None:
            raw = a.get("data-value") or ""
            tone = (a.get("class") or "").replace("ecc-chg", "").strip()
            self._open = (str(a["data-compare"]), json.loads(raw) if raw else None, tone)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            key, before, tone = self._open
            self.found[key] = (before, data, tone)
            self._open = None


def changes_in(html: str) -> dict[str, tuple[Any, str, str]]:
    p = _Changes()
    p.feed(html)
    return p.found


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_every_dashboard_table_shows_each_numbers_change(demo: Engine) -> None:
    want = compute_all(demo, QUARTER, compare="previous", areas=AREAS)
    assert want["comparison"] == {"kind": "previous", "start": "2026-07-01", "end": "2026-08-24"}
    then = want["comparison_values"]
    for page, prefixes in TABLES.items():
        found = changes_in(render_page(demo, page, WITH))
        for prefix in prefixes:
            assert any(k.startswith(prefix) for k in found), (page, prefix)
        for key, (before, shown, tone) in found.items():
            if key.split(".")[0] not in then:  # only the pages' own keys are metrics keys
                continue
            want_before = expected(then, key)
            now = expected(want, key)
            if want_before is None:
                assert before is None and shown == "no value then", key
                continue
            assert before == pytest.approx(want_before), key
            # the arrow and the change as written: +$1.2M, -3.1 pts (a true minus sign), no change
            if shown == "■ no change":
                continue
            arrow, text = shown.split(" ", 1)
            assert arrow == ("▲" if now > want_before else "▼"), (key, now, want_before)
            assert text.lstrip("+\u2212") in {
                fmt.delta(now, want_before, k).lstrip("+\u2212")
                for k in ("money", "rate", "score", "number")
            }, (key, text)
            assert tone in {"good", "bad", "flat"}


def test_the_changes_read_as_good_or_bad_news_in_each_metrics_direction() -> None:
    risk_up = change(120.0, 100.0, "money", "down")
    assert risk_up is not None and (risk_up.arrow, risk_up.text, risk_up.tone) == (
        "▲",
        "+$20",
        "bad",
    )
    nrr_down = change(1.02, 1.05, "rate", "up")
    assert nrr_down is not None and (nrr_down.arrow, nrr_down.text, nrr_down.tone) == (
        "▼",
        "\u22123.0 pts",
        "bad",
    )
    grew = change(12, 9, "count", "neutral")
    assert grew is not None and (grew.arrow, grew.text, grew.tone) == ("▲", "+3", "flat")
    tiny = change(0.70001, 0.7, "rate", "up")  # rounds to nothing as written
    assert tiny is not None and (tiny.arrow, tiny.text, tiny.tone) == ("■", "no change", "flat")
    assert change(None, 1.0, "rate", "up") is None and change(1.0, None, "rate", "up") is None


def test_a_risk_cell_says_the_change_and_the_value_then(demo: Engine) -> None:
    want = compute_all(demo, QUARTER, compare="previous", areas=["risk"])
    html = render_page(demo, "risk", WITH)
    for seg in ("Enterprise", "Mid-market", "SMB"):
        now = want["risk"]["by_segment"][seg]["arr_at_risk"]
        before = want["comparison_values"]["risk"]["by_segment"][seg]["arr_at_risk"]
        key = f"risk.by_segment.{seg}.arr_at_risk"
        span = re.search(
            rf'<span class="ecc-chg (\w+)" data-compare="{key}"[^>]*title="([^"]*)"', html
        )
        assert span is not None, key
        tone, title = span.groups()
        if round(now) == round(before):
            continue
        assert tone == ("bad" if now > before else "good")  # more ARR at risk is bad news
        assert title.endswith(f"was {fmt.money(before)}")


def test_without_a_comparison_no_table_shows_a_change(demo: Engine) -> None:
    for page in TABLES:
        html = render_page(demo, page, WITHOUT)
        assert changes_in(html) == {} and "comparison value" not in html, page


def test_a_comparison_before_the_data_shows_no_change_and_says_why(demo: Engine) -> None:
    with demo.connect() as conn:
        first = conn.execute(select(func.min(arr_events.c.event_date))).scalar()
    query = f"start={first}&end={first}&compare=previous&today=2026-11-24"
    for page in ("risk", "segments"):
        html = render_page(demo, page, query)
        assert changes_in(html) == {}
        assert "not enough history" in html


def test_the_charts_draw_the_comparison(demo: Engine) -> None:
    pages = {p: render_page(demo, p, WITH) for p in ("portfolio", "renewals", "expansion")}
    # the comparison period's bars beside the period's own
    assert "Enterprise, previous period" in pages["portfolio"]
    assert "ARR, previous period" in pages["renewals"]
    assert "Open value, previous period" in pages["expansion"]
    assert "Dashed outline: the comparison value" in pages["expansion"]  # the funnel
    for page in ("risk", "segments", "workload"):
        assert "Dark tick: the comparison value (vs previous period)" in render_page(
            demo, page, WITH
        )
    assert "team average, previous period" in render_page(demo, "performance", WITH)
    assert "The dashed frame is the comparison period" in render_page(demo, "retention", WITH)
    # the ticks sit at the comparison values: one tick per segment on each small multiple
    seg = render_page(demo, "segments", WITH)
    svg = re.findall(r"<svg.*?</svg>", seg, re.S)[0]
    ticks = re.search(r'<g class="mark-rect role-mark layer_2_marks"[^>]*>(.*?)</g>', svg, re.S)
    assert ticks is not None  # the top layer: a dark 2.5-px mark per segment
    assert len(re.findall(r'h2\.5v18h-2\.5Z" fill="#1f2933"', ticks.group(1))) == 3
    halo = re.search(r'<g class="mark-rect role-mark layer_1_marks"[^>]*>(.*?)</g>', svg, re.S)
    assert halo is not None  # under it, a white one a little wider: the tick shows on a dark bar
    assert len(re.findall(r'h5\.5v20h-5\.5Z" fill="white"', halo.group(1))) == 3


def test_the_csm_page_compares_the_cards_with_the_csms_own_numbers_then(demo: Engine) -> None:
    want = compute_all(demo, QUARTER, compare="previous", areas=["csms", "workload"])
    row = max(want["csms"]["rows"], key=lambda r: r["accounts"])
    cid = row["csm_id"]
    before = next(r for r in want["comparison_values"]["csms"]["rows"] if r["csm_id"] == cid)
    html = render_page(demo, "csm", f"{WITH}&csm={cid}")
    card = re.search(
        rf'data-metric="csms.rows.{cid}.arr".*?'
        r'<div class="delta (\w+)" aria-hidden="true">(.) ([^<]*) <',
        html,
        re.S,
    )
    assert card is not None
    arrow = "▲" if row["arr"] > before["arr"] else "▼"
    assert card.group(2) == arrow and card.group(3) == fmt.delta(row["arr"], before["arr"], "money")


def test_the_accounts_list_compares_its_count_and_arr(demo: Engine) -> None:
    html = render_page(demo, "accounts", f"{WITH}&list=at_risk")
    with demo.connect() as conn:
        then = account_totals(Plan(), conn, THEN.end, Scope(), "at_risk")
    found = changes_in(html)
    assert found["accounts.total"][0] == then["total"]
    assert found["accounts.total_arr"][0] == pytest.approx(then["total_arr"])
    assert "compared with Jul 1, 2026 – Aug 24, 2026" in html


def test_the_account_page_compares_arr_and_health_with_the_comparison_end(demo: Engine) -> None:
    with demo.connect() as conn:
        # a customer whose ARR moved between the comparison end and the period end
        moved = conn.execute(
            select(arr_events.c.customer_id)
            .where(arr_events.c.event_date > THEN.end, arr_events.c.event_date <= TODAY)
            .order_by(arr_events.c.customer_id)
            .limit(1)
        ).scalar_one()
        arr_then = conn.execute(
            select(func.sum(arr_events.c.arr_delta)).where(
                arr_events.c.customer_id == moved, arr_events.c.event_date <= THEN.end
            )
        ).scalar()
        arr_now = conn.execute(
            select(func.sum(arr_events.c.arr_delta)).where(
                arr_events.c.customer_id == moved, arr_events.c.event_date <= TODAY
            )
        ).scalar()
        score_then, score_now = (
            conn.execute(
                select(health_scores.c.score)
                .where(health_scores.c.customer_id == moved, health_scores.c.scored_on <= d)
                .order_by(health_scores.c.scored_on.desc())
                .limit(1)
            ).scalar()
            for d in (THEN.end, TODAY)
        )
    html = render_page(demo, "account", f"{WITH}&customer={moved}")
    card = re.search(
        r'data-metric="account.arr".*?<div class="delta (\w+)" aria-hidden="true">([^<]*)<',
        html,
        re.S,
    )
    assert card is not None
    change_text = fmt.delta(float(arr_now or 0), float(arr_then or 0), "money")
    assert change_text in card.group(2)
    health = re.search(
        r'data-metric="account.score".*?<div class="delta (\w+)" aria-hidden="true">([^<]*)<',
        html,
        re.S,
    )
    assert health is not None
    if score_then is None or score_now is None:
        assert health.group(2) == "vs previous period"  # no score to compare
    else:
        moved_by = fmt.delta(float(score_now), float(score_then), "score")
        assert moved_by in health.group(2) or "no change" in health.group(2)


def test_a_page_with_nothing_to_compare_says_so_in_its_selector(demo: Engine) -> None:
    from ecc.ui.app import NO_COMPARISON, Dashboard
    from ecc.ui.pages import load_all
    from ecc.ui.view import parse_query

    pages = load_all()
    view = parse_query(WITH)
    alerts = Dashboard(pages["alerts"], view, demo)
    assert alerts.w_compare.disabled and alerts.w_compare.options == ((NO_COMPARISON, "none"),)
    assert "no comparison" in (alerts.w_compare.tooltip or "")
    assert alerts.view.compare == "previous"  # kept for the dashboards the viewer goes back to
    risk = Dashboard(pages["risk"], view, demo)
    assert not risk.w_compare.disabled and risk.w_compare.value == "previous"
    assert changes_in(risk.body.value)
