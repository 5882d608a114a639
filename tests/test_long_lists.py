"""Pages stay small and quick at any portfolio size: charts draw a bounded number of bars
and lines (never Altair's MaxRowsError), long lists show their first rows with a
"Showing N of M" line and a link to the whole list (``?list=all``)."""

from __future__ import annotations

import re
from datetime import date

import altair as alt
import pytest
from sqlalchemy import Engine

from ecc.demo import build_demo
from ecc.metrics import compute_all
from ecc.periods import Period
from ecc.ui import charts
from ecc.ui.components import cap_line, first
from ecc.ui.static import render_page
from ecc.ui.view import View

TODAY = date(2026, 11, 24)
LINK = re.compile(r'xlink:href="csm\.ipynb\?csm=(\w+)"')


def test_a_chart_of_thousands_of_csms_draws_the_first_few() -> None:
    # 2,000 CSMs x 3 categories = 6,000 rows: over Altair's 5,000-row limit
    rows = [
        {
            "group": f"CSM {i:04d}",
            "category": c,
            "share": 1 / 3,
            "order": o,
            "url": charts.link_value(f"csm.ipynb?csm=C{i:04d}"),
        }
        for i in range(2000)
        for o, c in enumerate(("healthy", "at_risk", "critical"))
    ]
    options = dict(alt.data_transformers.options)
    svg = charts.health_by_group(rows, label="health by CSM")
    assert set(LINK.findall(svg)) == {f"C{i:04d}" for i in range(charts.MAX_GROUPS)}
    assert dict(alt.data_transformers.options) == options  # the row limit lifted only inside
    # 2,000 utilization bars overflowed vl-convert's stack; now the first ones are drawn
    bars = [
        {"name": f"CSM {i:04d}", "utilization": 1.5 - i / 2000, "status": "over", "url": ""}
        for i in range(2000)
    ]
    assert "CSM 0000" in charts.utilization_bars(bars, label="utilization", url=None)


def test_many_points_do_not_hit_the_row_limit() -> None:
    # 40 lines of 150 points: 6,000 rows, fewer groups than the cap
    rows = [
        {"date": f"2026-{1 + d // 28:02d}-{1 + d % 28:02d}", "csm": f"CSM {s}", "v": s + d}
        for s in range(40)
        for d in range(150)
    ]
    assert "<svg" in charts.lines_by(rows, label="trend", y="v", series="csm", reference="CSM 0")


def test_labels_short_enough_are_not_measured_for_truncation() -> None:
    assert charts.short("Alexandra Montgomery-Fitzgerald", 18) == "Alexandra Montgom…"
    assert charts.short("Ana Li", 18) == "Ana Li"
    assert charts.label_limit(["Ana Li", "Bo"], 180) == 0
    assert charts.label_limit(["x" * 40], 180) == 180


def test_cap_line_and_first_rows() -> None:
    view = View(today="2026-11-24", segment="SMB")
    rows = list(range(30))
    assert first(rows, 25, view) == rows[:25]
    assert first(rows, 25, View(list="all")) == rows
    assert first(rows, 25, View(list="open"), "open") == rows
    # everything fits: no line at all
    assert cap_line("workload", view, total=25, cap=25, showing="the 25", noun="CSMs") == ""
    line = cap_line("workload", view, total=2002, cap=25, showing="the 25 busiest", noun="CSMs")
    assert 'data-shown="25" data-total="2002">Showing the 25 busiest of 2,002 CSMs.' in line
    assert 'href="workload.ipynb?preset=this_quarter&amp;today=2026-11-24&amp;' in line
    assert "segment=SMB&amp;list=all" in line and "Show all 2,002 →" in line
    back = cap_line("workload", View(list="all"), total=2002, cap=25, showing="the 25", noun="CSMs")
    assert "Showing all 2,002 CSMs." in back and "list=" not in back
    assert "Show the first 25 only" in back


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    return engine


def test_risk_by_csm_shows_the_most_exposed_by_name(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecc.ui.pages import risk

    query = "preset=this_quarter&compare=previous&today=2026-11-24"
    want = compute_all(demo, Period(date(2026, 10, 1), TODAY), areas=["risk"])["risk"]
    by_csm = sorted(want["by_csm"].items(), key=lambda kv: (-kv[1]["arr_at_risk"], kv[0]))
    assert len(by_csm) == 3
    html = render_page(demo, "risk", query)
    assert 'class="ecc-cap"' not in html  # 3 CSMs fit

    monkeypatch.setattr(risk, "TABLE_TOP", 2)
    monkeypatch.setattr(risk, "CHART_TOP", 1)
    html = render_page(demo, "risk", query)
    section = html[html.index("Risk by CSM") :]
    top = by_csm[0][0]
    # the chart: the most exposed CSM, by name, linking to their page
    assert "The 1 most exposed of 3 CSMs by ARR at risk." in section
    assert set(re.findall(r'xlink:href="csm\.ipynb\?[^"]*csm=(\w+)"', section)) == {top}
    # the table: the 2 most exposed, names linking to their pages; then the line
    with demo.connect() as conn:
        names = {r[0]: r[1] for r in conn.exec_driver_sql("select csm_id, name from csms")}
    for cid, _ in by_csm[:2]:
        assert f'csm={cid}" target="_self">{names[cid]}</a>' in section
    assert f'csm={by_csm[2][0]}"' not in section
    assert "Showing the 2 most exposed of 3 CSMs." in section
    assert (
        "risk.ipynb?preset=this_quarter&amp;today=2026-11-24&amp;compare=previous&amp;list=all"
        in section
    )
