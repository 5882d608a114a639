"""axe-core (from npm, installed by ``make install``) run in a Playwright page: the WCAG 2.0
and 2.1 A and AA rules, and what each violation is, where, and how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import IN_CI

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: The rules a page must pass: WCAG 2.0 and 2.1, levels A and AA.
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
#: And the page's structure (axe's best-practice rules for it): one ``h1``, headings in
#: order, one ``main`` landmark, landmarks told apart.
STRUCTURE = (
    "page-has-heading-one",
    "heading-order",
    "landmark-one-main",
    "landmark-no-duplicate-main",
    "landmark-unique",
)

_RUN = """async ([type, values]) => {
  const result = await axe.run(document, {runOnly: {type, values}});
  return result.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), fix: n.failureSummary})),
  }));
}"""


def need_axe() -> None:
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"CI needs axe-core at {AXE} (make install puts it there)")
        pytest.skip(f"axe-core not installed at {AXE} (make install)")


def violations(page: Any) -> list[str]:
    """Every WCAG A/AA violation on ``page`` as it is now, and every break of its heading
    and landmark structure: ``rule (impact) at element: how to fix it``, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = [
        *page.evaluate(_RUN, ["tag", list(WCAG_AA)]),
        *page.evaluate(_RUN, ["rule", list(STRUCTURE)]),
    ]
    return [
        f"{v['rule']} ({v['impact']}) at {n['target']}: "
        + " ".join(str(n["fix"]).split())
        + f" [{v['help']}]"
        for v in found
        for n in v["nodes"]
    ]
