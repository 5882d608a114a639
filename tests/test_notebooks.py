"""Every dashboard notebook runs top to bottom in a fresh kernel under papermill, for
several parameter sets, and shows the numbers `ecc metrics` gives for them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import pytest

from ecc.db import make_engine
from ecc.ui.notebooks import NOTEBOOKS, notebook
from tests.support.builders import demo_sqlite
from tests.support.pagecheck import ERROR_RE, computed_for, metrics_in, mismatches, widget_html

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_sqlite(tmp_path_factory.mktemp("nb"), customers=200, seed=4, today=TODAY)


def test_committed_notebooks_are_the_generated_ones() -> None:
    for name in NOTEBOOKS:
        for folder in (ROOT / "notebooks", ROOT / "ecc" / "notebooks"):  # the repo's, the package's
            on_disk = nbformat.read(folder / f"{name}.ipynb", as_version=4)
            assert on_disk == notebook(name), f"{folder}/{name}.ipynb: python -m ecc.ui.notebooks"


def run(url: str, tmp: Path, name: str, params: dict[str, Any]) -> str:
    out = tmp / f"{name}.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters={**params, "db": url},  # a parameter: no test's environment changes
        kernel_name="python3",
        progress_bar=False,
        cwd=str(ROOT / "notebooks"),
    )
    return widget_html(nbformat.read(out, as_version=4))


CASES: list[tuple[str, dict[str, Any]]] = [
    *[(name, {}) for name in NOTEBOOKS if name not in ("account", "csm")],
    ("account", {"customer": "C00003"}),
    ("csm", {"csm": "CSM001"}),
    ("portfolio", {"preset": "ytd", "compare": "yoy"}),
    ("portfolio", {"preset": "last_quarter", "segment": "Enterprise"}),
    ("risk", {"preset": "this_month", "csm": "CSM002", "compare": None}),
    ("portfolio", {"preset": None, "start": "2026-01-01", "end": "2026-03-31"}),
    ("retention", {"preset": "last_month", "segment": "SMB", "compare": "yoy"}),
]


@pytest.mark.parametrize(
    ("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_notebook_runs_fresh_and_matches_ecc_metrics(
    demo_url: str, tmp_path: Path, name: str, params: dict[str, Any]
) -> None:
    params = {"today": TODAY.isoformat(), **params}
    html = run(demo_url, tmp_path, name, params)
    assert html, "the page rendered nothing"
    assert not ERROR_RE.search(html), html[:2000]
    engine = make_engine(demo_url)
    query = {k: ("none" if k == "compare" and v is None else v) for k, v in params.items()}
    result = computed_for(engine, query, name)
    engine.dispose()
    assert mismatches(html, result) == []
    if name in ("portfolio", "risk", "retention"):
        assert any(k.startswith(name) for k in metrics_in(html))


def test_yoy_with_too_little_history_says_so(demo_url: str, tmp_path: Path) -> None:
    # the demo's history starts about 3.5 years before today (May 2023): a year-on-year
    # comparison for June 2023 would start before the data does (FR-10)
    html = run(
        demo_url,
        tmp_path,
        "portfolio",
        {"preset": None, "start": "2023-06-01", "end": "2023-06-30", "compare": "yoy"},
    )
    assert "needs 12+ months of history" in html
    assert not ERROR_RE.search(html)
