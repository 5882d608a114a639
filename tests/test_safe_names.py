"""Values from the data never name a file outside its folder (security finding 10)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ecc.metrics.scope import Scope
from ecc.paths import safe_name
from ecc.periods import Period
from ecc.reports.params import slug
from ecc.request import Request


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("/abs/path", "abs-path"),
        ("..", "file"),
        ("csm-007", "csm-007"),
        ("Mid-market 2026.Q4", "Mid-market-2026.Q4"),
        ("line\nbreak\r\ttab", "line-break-tab"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("", "file"),
    ],
)
def test_a_safe_name_is_one_plain_file_name_part(text: str, name: str) -> None:
    assert safe_name(text) == name
    assert "/" not in name and not name.startswith(".")


def test_a_report_named_for_a_hostile_csm_id_stays_in_its_folder(tmp_path: Path) -> None:
    req = Request(
        period=Period(date(2026, 10, 1), date(2026, 12, 31), "this_quarter"),
        compare="previous",
        scope=Scope(None, "../../../tmp/owned\n"),
        today=date(2026, 12, 6),
    )
    stem = slug(req)
    assert stem == "this_quarter-2026-12-06-vs-previous-tmp-owned"
    target = (tmp_path / f"risk-{stem}.pdf").resolve()
    assert target.parent == tmp_path.resolve()
