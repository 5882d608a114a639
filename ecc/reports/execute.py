"""Run dashboard notebooks with papermill in report mode and collect their sections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from ..errors import EccError
from ..paths import notebooks_dir

NOTEBOOKS_DIR = notebooks_dir()


class ReportError(EccError):
    """A notebook failed while a report was made."""

    def __init__(self, message: str, *, notebook: str, cell: int | None = None) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell


@dataclass(frozen=True)
class Section:
    """One executed notebook: its output as HTML (no code) and what it reflects."""

    name: str
    title: str
    html: str
    meta: dict[str, Any]
    notebook: Path


def run_notebook(
    name: str, parameters: dict[str, Any], workdir: Path, notebooks: Path = NOTEBOOKS_DIR
) -> Section:
    """Execute ``notebooks/<name>.ipynb`` with ``parameters`` into ``workdir``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = notebooks / f"{name}.ipynb"
    if not src.exists():
        raise ReportError(f"no notebook {src}", notebook=name)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{name}.ipynb"
    try:
        pm.execute_notebook(
            str(src),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(notebooks),
        )
    except PapermillExecutionError as exc:
        raise ReportError(
            f"notebook {name} failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue}); "
            f"the executed notebook is {out}",
            notebook=name,
            cell=exc.exec_count,
        ) from exc
    return _section(name, out)


def _section(name: str, path: Path) -> Section:
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    meta: dict[str, Any] | None = None
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            md = output.get("metadata", {})
            found = md.get("ecc") or md.get("text/html", {}).get("ecc")
            if found:
                meta = dict(found)
            if output.get("output_type") == "error":
                raise ReportError(
                    f"notebook {name} failed ({output.get('ename')}: {output.get('evalue')})",
                    notebook=name,
                )
    if meta is None:
        text = _text_of(nb)
        raise ReportError(
            f"notebook {name} produced no report section"
            + (f": {text}" if text else " (is it a dashboard notebook?)"),
            notebook=name,
        )
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _resources = exporter.from_notebook_node(nb)
    return Section(
        name=name, title=str(meta.get("title", name)), html=body, meta=meta, notebook=path
    )


def _text_of(nb: Any) -> str:
    """The visible message of a notebook whose page showed an error instead of numbers."""
    import re

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            if "ecc-error" in html:
                return re.sub(r"<[^>]+>", "", html).strip()
    return ""


def run_all(
    names: list[str],
    parameters: dict[str, Any],
    workdir: Path,
    *,
    db_url: str,
    parallel: int = 2,
    notebooks: Path = NOTEBOOKS_DIR,
) -> list[Section]:
    """Run the notebooks, ``parallel`` at a time (one kernel each); sections in order."""
    from ..config import absolute_url

    workdir.mkdir(parents=True, exist_ok=True)
    # the notebooks run as report sections, on this database (notebook parameters)
    parameters = {**parameters, "output": "report", "db": absolute_url(db_url)}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [pool.submit(run_notebook, n, parameters, workdir, notebooks) for n in names]
        return [f.result() for f in futures]
