"""Hostile data from outside (findings 5 and 10): a customer named like a spreadsheet
formula with HTML and a line break, a CSM named the same way with an id that climbs out
of its folder — loaded from CSV, refreshed, rendered into the board pack and exported,
as a person would with the CLI. Everything is escaped, no cell is a formula, and no
file lands outside the report folder."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

pytestmark = [pytest.mark.slow]
CUSTOMER = '=HYPERLINK("http://evil.example","x")<script>alert(1)</script>\nSubject: pwned'
CSM_NAME = "@SUM(1+1)<img src=x onerror=alert(2)>"
CSM_ID = "../../evil"
RAW_HTML = ("<script>alert(1)", "<img src=x onerror")


def ecc(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    done = subprocess.run(
        [sys.executable, "-m", "ecc.cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def poison(folder: Path) -> None:
    """CSM003 becomes ``../../evil`` everywhere; customer C00001 and that CSM get the
    hostile names."""
    for path in folder.glob("*.csv"):
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            continue
        for row in rows:
            for key, value in row.items():
                if value == "CSM003":
                    row[key] = CSM_ID
            if path.name == "customers.csv" and row["customer_id"] == "C00001":
                row["name"] = CUSTOMER
            if path.name == "csms.csv" and row["csm_id"] == CSM_ID:
                row["name"] = CSM_NAME
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def test_hostile_names_and_ids_are_escaped_everywhere_and_stay_in_their_folder(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    clean = f"sqlite:///{tmp_path / 'clean.sqlite'}"
    db = f"sqlite:///{tmp_path / 'hostile.sqlite'}"
    csvs = tmp_path / "csv"
    ecc("demo", "--db", clean, "--customers", "60", "--seed", "3", "--today", "2026-11-24",
        "--csv", str(csvs), cwd=work)  # fmt: skip
    poison(csvs)
    ecc("load", str(csvs), "--db", db, cwd=work)
    ecc("refresh", "--db", db, cwd=work)
    out = tmp_path / "reports"
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    ecc("report", "--all", "--csm", CSM_ID, "--preset", "ytd", "--format", "html,xlsx",
        "--out", str(out), "--db", db, cwd=work)  # fmt: skip
    made = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    outside = [p for p in made if out not in p.parents and not p.name.startswith("hostile")]
    assert not outside, f"written outside the report folder: {outside}"
    assert not list(work.iterdir()), "the current folder was written to"
    html = next(out.glob("*.html"))
    assert html.parent == out and ".." not in html.name
    page = html.read_text()
    assert "@SUM(1+1)&lt;img src=x onerror=alert(2)&gt;" in page  # shown, as text
    for raw in RAW_HTML:
        assert raw not in page
    workbook = openpyxl.load_workbook(next(out.glob("*.xlsx")))
    hostile = []
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str) and (
                    "HYPERLINK" in cell.value or "SUM(" in cell.value
                ):
                    hostile.append(cell.value)
    assert f"'{CUSTOMER}" in hostile and f"'{CSM_NAME}" in hostile  # kept, as text
