"""The dashboard notebooks are generated from this module, so that every notebook has
the same thin shape: a typed ``parameters`` cell, an imports cell, one call into ``ecc``.

``python -m ecc.ui.notebooks notebooks/`` rewrites them; a test checks they match.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from ..filters import NAMES, parameters_cell

#: notebook stem -> (title, extra parameter lines)
NOTEBOOKS: dict[str, tuple[str, list[str]]] = {
    "summary": ("Executive summary", []),
    "portfolio": ("Portfolio health", []),
    "retention": ("ARR retention", []),
    "risk": ("Risk exposure", []),
    "renewals": ("Renewal pipeline", []),
    "expansion": ("Expansion pipeline", []),
    "performance": ("CSM performance", []),
    "workload": ("CSM workload and rebalancing", []),
    "segments": ("Segment comparison", []),
    "alerts": (
        "Executive alerts",
        [
            "severity: Optional[str] = None  # critical | high | warning | info, or None for all",
            "rule: Optional[str] = None  # a rule of METRICS.md (e.g. csm_over_capacity), or None",
            "status: Optional[str] = None  # None: unacknowledged | acknowledged | all",
        ],
    ),
    "accounts": (
        "Accounts",
        ['list_kind: str = "at_risk"  # at_risk | critical | healthy | all (URL key: list)'],
    ),
    "renewal_list": (
        "Renewal list",
        ['list_kind: str = "late"  # late | d30 | d60 | d90 | due90 (URL key: list)'],
    ),
    "save_play_list": (
        "Save plays",
        ['list_kind: str = "active"  # active | saved | lost (URL key: list)'],
    ),
    "account": ("Account detail", ["customer: Optional[str] = None  # the customer_id to show"]),
    "csm": ("CSM portfolio", []),
    "shared_links": ("Shared links", []),
    "subscriptions": ("Subscriptions", []),
}

PARAMETERS = (
    parameters_cell()
    + """
output: str = "page"  # page (widgets) | report (a static section: ecc report)
db: Optional[str] = None  # database URL (default: ECC_DATABASE_URL)"""
)

IMPORTS = """\
from ecc.ui import app

app.warm_up(db)"""


def notebook(name: str) -> nbformat.NotebookNode:
    title, extra = NOTEBOOKS[name]
    params = PARAMETERS + "".join("\n" + line for line in extra)
    names = list(NAMES)
    names += [line.split(":")[0] for line in extra]
    names += ["output", "db"]
    call = f'page = app.show(\n    "{name}",\n' + "".join(f"    {n}={n},\n" for n in names) + ")"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["title"] = f"{title} · Executive Command Center"
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(IMPORTS), nbformat.v4.new_code_cell(call)]
    for i, c in enumerate(nb.cells):
        c["id"] = f"{name}-{i}"
    return nb


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name in NOTEBOOKS:
        path = directory / f"{name}.ipynb"
        nbformat.write(notebook(name), path)
        out.append(path)
    return out


if __name__ == "__main__":  # the package's copy and the repository's (or the folders given)
    from ..paths import CHECKOUT, PACKAGED_NOTEBOOKS

    folders = [Path(a) for a in sys.argv[1:]] or [PACKAGED_NOTEBOOKS, CHECKOUT / "notebooks"]
    for folder in folders:
        for p in write_all(folder):
            print(p)
