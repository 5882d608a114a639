"""Issue 17: one definition of a view's filters (ecc/filters.py) serves the command line,
the URL, the notebooks' parameters, reports and schedules."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecc.cli import cli
from ecc.filters import FIELDS, NAMES, Filters
from ecc.metrics.scope import Scope
from ecc.periods import Period
from ecc.request import Request
from ecc.ui.notebooks import NOTEBOOKS, notebook
from ecc.ui.view import View, parse_query

ROOT = Path(__file__).resolve().parents[1]


def test_given_values_are_normalised_once() -> None:
    assert Filters.of({}) == Filters()
    assert Filters.of({"compare": "none"}).compare is None
    assert Filters.of({"compare": "None"}).compare is None
    assert Filters.of({"compare": " yoy "}).compare == "yoy"
    assert Filters.of({"preset": None, "segment": ""}) == Filters()  # unset: the defaults
    ranged = Filters.of({"start": "2026-01-01", "end": "2026-03-31"})
    assert (ranged.preset, ranged.start, ranged.end) == (None, "2026-01-01", "2026-03-31")
    both = Filters.of({"preset": "ytd", "start": "2026-01-01", "end": "2026-03-31"})
    assert both.preset == "ytd"  # kept, so that validation says to choose one
    with pytest.raises(TypeError, match="not filters: viewer"):
        Filters.of({"viewer": "vp"})


def test_a_view_is_its_filters_and_round_trips_through_its_url() -> None:
    view = View(preset=None, start="2026-01-01", end="2026-03-31", compare=None, segment="SMB")
    assert view.filters() == {
        "preset": None,
        "start": "2026-01-01",
        "end": "2026-03-31",
        "today": None,
        "compare": None,
        "segment": "SMB",
        "csm": None,
    }
    assert view.params()["compare"] == "none"
    assert parse_query(view.query()) == view
    assert view.with_(preset="ytd").filters()["start"] is None


def test_pinned_filters_name_the_dates_the_request_resolved_to() -> None:
    req = Request(
        period=Period(date(2026, 10, 1), date(2026, 11, 24), "this_quarter"),
        compare="previous",
        scope=Scope("SMB", None),
        today=date(2026, 11, 24),
    )
    assert Filters().pinned(req) == Filters(
        preset="this_quarter", today="2026-11-24", compare="previous", segment="SMB"
    )
    custom = Request(
        period=Period(date(2026, 1, 1), date(2026, 3, 31)),
        compare=None,
        scope=Scope(None, "csm-007"),
        today=date(2026, 11, 24),
    )
    assert Filters().pinned(custom) == Filters(
        preset=None,
        start="2026-01-01",
        end="2026-03-31",
        today="2026-11-24",
        compare=None,
        csm="csm-007",
    )


def test_the_commands_and_the_notebooks_declare_the_same_filters() -> None:
    runner = CliRunner()
    helps = {}
    for command in ("metrics", "report"):
        out = runner.invoke(cli, [command, "--help"], terminal_width=200).output
        helps[command] = out
        for f in FIELDS:
            assert f"--{f.name} TEXT" in out, (command, f.name)
            assert f.help in out, (command, f.help)
    assert "[default: none]" in helps["metrics"]  # metrics: no comparison unless asked
    assert "[default: previous]" in helps["report"]  # a report compares by default
    for name in NOTEBOOKS:
        cell = "".join(notebook(name).cells[0].source)
        declared = [
            node.target.id
            for node in ast.parse(cell).body
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        ]
        assert declared[: len(NAMES)] == list(NAMES), name
        defaults = {
            node.target.id: ast.literal_eval(node.value)
            for node in ast.parse(cell).body
            if isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        }
        assert {k: defaults[k] for k in NAMES} == {f.name: f.default for f in FIELDS}
