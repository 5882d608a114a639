"""The names behind the renewal counts: the late renewals and those due in the next 30,
60 and 90 days open as lists whose totals are the counts of ``ecc metrics``, and a
CSM's "Renewals 90d" on the workload page opens exactly that CSM's list."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine

from ecc.demo import build_demo
from ecc.drilldown import renewal_list
from ecc.metrics import compute_all
from ecc.metrics.scope import Scope
from ecc.periods import Period
from ecc.ui.static import render_page
from tests.support.pagecheck import values_in

TODAY = date(2026, 11, 24)
QUARTER = Period(date(2026, 10, 1), TODAY)
VIEW = "preset=this_quarter&today=2026-11-24"


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=200, seed=9, today=TODAY)
    return engine


@pytest.mark.parametrize("segment", [None, "Enterprise"])
def test_each_list_holds_the_renewals_its_count_counts(demo: Engine, segment: str | None) -> None:
    scope = Scope(segment=segment)
    want = compute_all(demo, QUARTER, scope=scope, areas=["renewals"])["renewals"]
    counts = {"late": want["late"], **want["upcoming"]}
    with demo.connect() as conn:
        for kind, count in counts.items():
            got = renewal_list(conn, TODAY, scope, kind)
            assert (got["total"], got["total_arr"]) == (count["count"], count["arr"]), kind
            days = [r["days_left"] for r in got["rows"]]
            low, high = {"late": (-(10**6), -1), "d30": (1, 30), "d60": (31, 60), "d90": (61, 90)}[
                kind
            ]
            assert all(low <= d <= high for d in days), kind
            if segment:
                assert {r["segment"] for r in got["rows"]} <= {segment}
    # some renewals in the 60- and 90-day lists are due after this quarter (Dec 31)
    with demo.connect() as conn:
        later = renewal_list(conn, TODAY, scope, "d90")["rows"]
    assert all(r["due_on"] > "2026-12-31" for r in later)


def test_the_renewals_cards_open_their_lists_and_the_page_says_the_total(demo: Engine) -> None:
    html = render_page(demo, "renewals", VIEW)
    links = re.findall(r'href="renewal_list\.ipynb\?([^"]*)"', html)
    kinds = [re.search(r"list=(\w+)", q).group(1) for q in links]  # type: ignore[union-attr]
    assert kinds == ["late", "d30", "d60", "d90"]
    assert all("preset=this_quarter" in q for q in links)
    want = compute_all(demo, QUARTER, areas=["renewals"])["renewals"]
    page = render_page(demo, "renewal_list", VIEW + "&list=d30")
    assert values_in(page)["renewal_list.total_arr"] == want["upcoming"]["d30"]["arr"]
    assert page.count('href="account.ipynb?') == want["upcoming"]["d30"]["count"]
    assert "Renewals due in the next 30 days" in page


def test_a_csms_renewals_90d_opens_exactly_their_renewals(demo: Engine) -> None:
    html = render_page(demo, "workload", VIEW)
    m = re.search(r'href="(renewal_list\.ipynb\?[^"]*csm=([^&"]+)[^"]*)"[^>]*>(\d+)</a>', html)
    assert m is not None
    link, csm, shown = m.group(1).replace("&amp;", "&"), m.group(2), int(m.group(3))
    assert "list=due90" in link
    with demo.connect() as conn:
        got = renewal_list(conn, TODAY, Scope(csm_id=csm), "due90")
    assert got["total"] == shown
    page = render_page(demo, "renewal_list", link.split("?", 1)[1])
    assert page.count('href="account.ipynb?') == shown


def test_an_unknown_list_falls_back_to_the_late_renewals(demo: Engine) -> None:
    page = render_page(demo, "renewal_list", VIEW + "&list=%3Cb%3E")
    assert "Late renewals" in page and "<b>" not in page


@pytest.mark.parametrize("kind", ["active", "saved", "lost"])
def test_the_save_play_counts_open_as_lists(demo: Engine, kind: str) -> None:
    from ecc.drilldown import save_play_list

    want = compute_all(demo, QUARTER, areas=["risk"])["risk"]["save_plays"]
    with demo.connect() as conn:
        got = save_play_list(conn, QUARTER.start, TODAY, Scope(), kind)
    assert got["total"] == want[kind] > 0
    assert [r["arr"] for r in got["rows"]] == sorted((r["arr"] for r in got["rows"]), reverse=True)
    risk = render_page(demo, "risk", VIEW)
    assert "save_play_list.ipynb?preset=this_quarter&amp;today=2026-11-24&amp;" in risk
    page = render_page(demo, "save_play_list", VIEW + f"&list={kind}")
    assert page.count('href="account.ipynb?') == want[kind]
