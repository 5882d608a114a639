"""`ecc report`: the notebooks run with papermill, written as HTML, PDF and Excel whose
numbers equal `ecc metrics` for the same parameters."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ecc import formatting as fmt
from ecc.db import make_engine
from ecc.metrics import compute_all
from ecc.periods import preset_period
from ecc.reports.execute import ReportError, run_notebook
from tests.support.builders import broken_notebooks, demo_sqlite
from tests.support.pagecheck import metrics_in, mismatches
from tests.support.servers import need_chromium

TODAY = date(2026, 11, 24)
ECC = [sys.executable, "-m", "ecc.cli"]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_sqlite(tmp_path_factory.mktemp("rep"), customers=150, seed=4, today=TODAY)


def at(obj: Any, path: list[str]) -> Any:
    """obj[path...] with list indices; None when missing."""
    for key in path:
        if isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        elif isinstance(obj, dict):
            obj = obj.get(key)
        else:
            return None
    return obj


def ecc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ECC, *args], capture_output=True, text=True, timeout=300)


def expected(url: str, preset: str, compare: str | None, segment: str | None) -> dict[str, Any]:
    engine: Engine = make_engine(url)
    try:
        from ecc.metrics.scope import Scope

        period = preset_period(preset, TODAY)
        return compute_all(
            engine, period, compare=compare, scope=Scope(segment=segment), snapshots=False
        )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def risk_report(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need_chromium()
    out = tmp_path_factory.mktemp("out")
    run = ecc(
        "report",
        "risk",
        "renewals",
        "--preset",
        "last_quarter",
        "--compare",
        "yoy",
        "--segment",
        "Enterprise",
        "--db",
        demo_url,
        "--out",
        str(out),
    )
    assert run.returncode == 0, run.stderr
    files = [Path(line) for line in run.stdout.split()]
    return {f.suffix.lstrip("."): f for f in files}


def test_the_report_files_are_named_for_their_parameters(risk_report: dict[str, Path]) -> None:
    assert set(risk_report) == {"html", "pdf", "xlsx"}
    for f in risk_report.values():
        assert f.name.startswith("board-pack-last_quarter-2026-11-24-vs-yoy-Enterprise")
        assert f.stat().st_size > 1000


def test_html_has_no_code_no_script_no_other_host_and_the_numbers(
    risk_report: dict[str, Path], demo_url: str
) -> None:
    html = risk_report["html"].read_text()
    assert "app.show" not in html and "In&nbsp;[" not in html
    assert not re.search(r'class="[^"]*jp-InputArea', html)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "Board pack" in html and "Jul 1, 2026 – Sep 30, 2026" in html
    assert "segment Enterprise" in html
    want = expected(demo_url, "last_quarter", "yoy", "Enterprise")
    shown = metrics_in(html)
    assert any(k.startswith("risk.") for k in shown) and any(
        k.startswith("renewals.") for k in shown
    )
    assert mismatches(html, want) == []


def test_pdf_holds_the_cover_page_numbers_and_headline_numbers(
    risk_report: dict[str, Path], demo_url: str
) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(risk_report["pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    want = expected(demo_url, "last_quarter", "yoy", "Enterprise")
    assert "Board pack" in text and "EXECUTIVE COMMAND CENTER" in text  # uppercased by CSS
    assert "Jul 1, 2026 – Sep 30, 2026" in text and "segment Enterprise" in text
    assert re.search(r"Page 1 of \d+", text)
    assert fmt.money(want["risk"]["arr_at_risk"]) in text
    assert fmt.money(want["renewals"]["late"]["arr"]) in text


def _structure(pdf: Path) -> list[tuple[str, str | None]]:
    """The PDF's tagged structure in reading order: (tag, alternative text) of each element."""
    from pypdf import PdfReader

    root = PdfReader(pdf).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"], "the PDF is not tagged"
    found: list[tuple[str, str | None]] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for kid in node:
                walk(kid)
            return
        if not hasattr(node, "get") or ("/S" not in node and "/K" not in node):
            return
        if "/S" in node:
            alt = node.get("/Alt")
            found.append((str(node["/S"]).lstrip("/"), None if alt is None else str(alt)))
        if "/K" in node:
            walk(node["/K"])

    walk(root["/StructTreeRoot"])
    return found


def test_the_pdf_is_tagged_with_headings_and_each_chart_has_its_text_alternative(
    risk_report: dict[str, Path],
) -> None:
    """Issue 20: a screen reader reads the PDF as the page: headings, and each chart as a
    figure named as on screen (what it shows and its headline)."""
    from pypdf import PdfReader

    tags = _structure(risk_report["pdf"])
    names = {t for t, _ in tags}
    assert {"H1", "H2", "Table", "TR", "TH", "TD", "Figure"} <= names, names
    html = risk_report["html"].read_text()
    labels = [
        unescape(a)
        for svg in re.findall(r'<div class="ecc-chart"><svg ([^>]*)>', html)
        for a in re.findall(r'aria-label="([^"]+)"', svg)
    ]
    assert labels, "the report has charts"
    figures = [alt for t, alt in tags if t == "Figure"]
    assert figures == labels
    # the PDF reader's outline: the report's sections by their headings
    outline = [o.title for o in PdfReader(risk_report["pdf"]).outline if hasattr(o, "title")]
    assert "Risk" in outline and "Renewals" in outline, outline


def test_excel_read_back_independently_matches_the_data(
    risk_report: dict[str, Path], demo_url: str
) -> None:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(risk_report["xlsx"]))
    assert book.sheet_names[:2] == ["About", "KPIs"]
    about = dict(book.get_sheet_by_name("About").to_python())
    assert about["Period"].startswith("Jul 1, 2026 – Sep 30, 2026, compared with the same")
    assert about["Filters"] == "segment Enterprise" and about["Data as of"] == "November 24, 2026"
    want = expected(demo_url, "last_quarter", "yoy", "Enterprise")
    rows = book.get_sheet_by_name("KPIs").to_python()
    assert rows[0] == ["Area", "Metric", "Value", "Comparison value"]
    checked = 0
    for _area, key, value, then in rows[1:]:
        path = key.split(".")
        now = at(want, path)
        before = at(want["comparison_values"], path)
        for got, ref in ((value, now), (then, before)):
            if isinstance(ref, str) and re.match(r"\d{4}-\d{2}-\d{2}$", ref):
                assert str(got)[:10] == ref, key
            elif ref is None:
                assert got in ("", None), key
            else:
                assert got == pytest.approx(ref), key
        checked += 1
    assert checked > 20
    top = book.get_sheet_by_name("risk.top_accounts").to_python()
    ids = [r[top[0].index("customer_id")] for r in top[1:]]
    assert ids == [r["customer_id"] for r in want["risk"]["top_accounts"]]


def test_bad_parameters_get_a_message_and_no_files(demo_url: str, tmp_path: Path) -> None:
    for args, message in (
        (("nosuch",), "unknown dashboard nosuch"),
        (("account",), "account is a drill-down page"),
        (("risk", "--segment", "Galactic"), "unknown segment 'Galactic'"),
        (("risk", "--format", "docx"), "unknown format docx"),
        ((), "name the dashboards to report on"),
    ):
        run = ecc("report", *args, "--db", demo_url, "--out", str(tmp_path / "x"))
        assert run.returncode == 2, (args, run.stderr)
        assert message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "x").exists() or not list((tmp_path / "x").glob("*.*"))


def test_a_failing_notebook_names_itself_and_the_cell(demo_url: str, tmp_path: Path) -> None:
    broken = broken_notebooks(tmp_path, "risk", "the warehouse is down")
    with pytest.raises(ReportError) as info:
        run_notebook(
            "risk", {"preset": "ytd", "output": "report", "db": demo_url}, tmp_path / "work", broken
        )
    # cell 3 of the executed notebook (In [3]): parameters, papermill's injected ones, imports
    assert info.value.notebook == "risk" and info.value.cell == 3
    assert "notebook risk failed in cell 3 (RuntimeError: the warehouse is down)" in str(info.value)
    assert str(tmp_path / "work" / "risk.ipynb") in str(info.value)


def test_a_dashboard_view_exports_to_pdf_and_excel_in_process(
    demo_url: str, tmp_path: Path
) -> None:
    from python_calamine import CalamineWorkbook

    from ecc.reports.build import export_page
    from ecc.ui.view import parse_query

    need_chromium()
    engine = make_engine(demo_url)
    view = parse_query("preset=this_month&compare=none&segment=SMB")
    pdf = export_page(engine, "portfolio", view, "pdf", tmp_path)
    xlsx = export_page(engine, "portfolio", view, "xlsx", tmp_path)
    engine.dispose()
    assert pdf.name == "portfolio-this_month-2026-11-24-SMB.pdf"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    want = expected(demo_url, "this_month", None, "SMB")
    assert "Nov 1, 2026 – Nov 24, 2026" in text and "segment SMB" in text
    assert fmt.money(want["portfolio"]["arr"]) in text
    kpis = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name("KPIs").to_python()
    values = {row[1]: row[2] for row in kpis[1:]}
    assert values["portfolio.arr"] == pytest.approx(want["portfolio"]["arr"])
    assert values["portfolio.customers"] == want["portfolio"]["customers"]
