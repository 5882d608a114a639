"""Every plain-words definition names a number that `ecc metrics` really prints."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ecc.glossary import DEFINITIONS, definition
from ecc.metrics import compute_all
from ecc.periods import Period
from tests.support.cli import small_portfolio


def _has_path(obj: object, path: list[str]) -> bool:
    """Follow ``path``; a list of rows or an object keyed by segment is entered at its first."""
    for key in path:
        if not isinstance(obj, dict):
            return False
        if key in obj:
            obj = obj[key]
        elif isinstance(obj.get("rows"), list) and obj["rows"]:
            obj = obj["rows"][0].get(key, KeyError)
        elif obj and all(isinstance(v, dict) for v in obj.values()):
            obj = next(iter(obj.values())).get(key, KeyError)
        else:
            return False
        if obj is KeyError:
            return False
    return True


def test_every_definition_points_at_a_key_of_the_json(engine: Engine) -> None:
    small_portfolio(engine)
    result = compute_all(engine, Period(date(2025, 10, 1), date(2025, 11, 20)))
    missing = [k for k in DEFINITIONS if not _has_path(result, k.split("."))]
    assert missing == []
    assert not _has_path(result, ["retention", "no_such_key"])


def test_definitions_say_which_dates_they_cover() -> None:
    p = Period(date(2026, 10, 1), date(2026, 11, 24))
    grr = definition("retention.grr")
    assert grr is not None and grr.covers(p) == "Oct 1, 2026 – Nov 24, 2026"
    at_risk = definition("risk.arr_at_risk")
    assert at_risk is not None and at_risk.covers(p) == "as of Nov 24, 2026"
    fc = definition("retention.forecast.churn_arr")
    assert fc is not None and fc.covers(p) == "Nov 25 – Feb 22, 2027"
    seg = definition("portfolio.by_segment.SMB.arr")
    assert seg is not None and seg.label == "ARR"
