"""The numbers behind a report as an Excel workbook.

- ``About``: what the workbook reflects — period, comparison, filters, data as-of,
  when the numbers were computed and by which version.
- ``KPIs``: every single number of the report's areas (METRICS.md key path, value, the
  comparison period's value).
- One sheet per table (every list of rows in the metrics: top risks, renewals due,
  the leaderboard, workload, cohorts, ...), named by its key path.

Cells are typed: numbers as numbers with money, percent or count formats, dates as
dates; every table has a frozen header row and filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

MONEY = '"$"#,##0.00'
PERCENT = "0.0%"
COUNT = "#,##0"
DECIMAL = "#,##0.00"
DATE = "yyyy-mm-dd"

_PERCENT = re.compile(
    r"(^|\.)(grr|nrr|grr_ttm|nrr_ttm|share|win_rate|forecast_win_rate|forecast_rate|"
    r"utilization|healthy|at_risk|critical|arr_retention|logo_retention|attainment)(\.\d+)?$"
)
_MONEY = re.compile(r"(arr|amount|value|_due|renewed|churn_arr)(_[a-z]+)?$|(^|\.)arr")
_COUNT = re.compile(
    r"(accounts|customers|count|_n|meetings|emails|calls|tasks_completed|rank[a-z_]*|"
    r"renewals_90d|tickets|won|lost|open|scored)$"
)
_DATE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HEADER_FILL = PatternFill("solid", fgColor="1F4E8C")


def number_format(key: str, value: Any) -> str | None:
    """The Excel format of a value by its key path (None: leave as is)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if _PERCENT.search(key):
        return PERCENT
    if _COUNT.search(key) and isinstance(value, int):
        return COUNT
    if _MONEY.search(key):
        return MONEY
    return COUNT if isinstance(value, int) else DECIMAL


#: What a spreadsheet takes for the start of a formula (OWASP's formula-injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_value(text: str) -> str:
    """Text that a spreadsheet shows as text: one starting like a formula gets a leading
    ``'`` (a customer named ``=HYPERLINK(...)`` stays a name, never a live formula)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell_value(value: Any) -> Any:
    if isinstance(value, str) and _DATE_VALUE.match(value):
        return date.fromisoformat(value)
    if isinstance(value, list | dict):
        return None
    if isinstance(value, str):
        return text_value(value)
    return value


def flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A row's scalars with dotted names; lists of scalars become numbered columns."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flat(value, name + ".")
        elif isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                out |= {f"{name}.{i}": v for i, v in enumerate(value)}
        else:
            out[name] = value
    return out


def walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(key path, value) for every scalar and every list of rows (dicts) under ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            yield path, value
        elif all(not isinstance(v, dict | list) for v in value):
            for i, v in enumerate(value):
                yield f"{path}.{i}", v
    else:
        yield path, value


def _header(ws: Worksheet, names: list[str]) -> None:
    ws.append([text_value(n) for n in names])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"


def _finish(ws: Worksheet, widths: dict[int, int]) -> None:
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(w + 2, 60))


def _sheet_name(path: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", path)[:31]
    name, n = base, 2
    while name.lower() in used:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def write_workbook(
    path: Path, about: list[tuple[str, str]], data: dict[str, Any], areas: list[str]
) -> Path:
    """Write the workbook for ``areas`` of a ``compute_all``-shaped ``data`` object."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "About"
    used = {"about", "kpis"}
    for label, text in about:
        ws.append([text_value(label), text_value(text)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90

    kpis = wb.create_sheet("KPIs")
    _header(kpis, ["Area", "Metric", "Value", "Comparison value"])
    widths = {1: 8, 2: 12, 3: 12, 4: 16}
    comparison = data.get("comparison_values") or {}
    tables: list[tuple[str, list[dict[str, Any]]]] = []
    for area in areas:
        before = dict(walk(comparison.get(area, {}), area)) if comparison else {}
        for key, value in walk(data.get(area), area):
            if isinstance(value, list):
                tables.append((key, value))
                continue
            then = before.get(key)
            kpis.append([area, text_value(key), cell_value(value), cell_value(then)])
            row = kpis.max_row
            for col, v in ((3, value), (4, then)):
                fmt = DATE if isinstance(cell_value(v), date) else number_format(key, v)
                if fmt:
                    kpis.cell(row=row, column=col).number_format = fmt
            widths[2] = max(widths[2], len(key))
    _finish(kpis, widths)

    for key, rows in tables:
        sheet = wb.create_sheet(_sheet_name(key, used))
        flats = [flat(r) for r in rows]
        names: list[str] = []
        for f in flats:
            names += [n for n in f if n not in names]
        _header(sheet, names)
        widths = {i: len(n) for i, n in enumerate(names, start=1)}
        for f in flats:
            sheet.append([cell_value(f.get(n)) for n in names])
            r = sheet.max_row
            for i, n in enumerate(names, start=1):
                v = f.get(n)
                fmt = DATE if isinstance(cell_value(v), date) else number_format(n, v)
                if fmt:
                    sheet.cell(row=r, column=i).number_format = fmt
                if isinstance(v, str):
                    widths[i] = max(widths[i], min(len(v), 60))
        _finish(sheet, widths)
    wb.save(path)
    return path
