"""Numbers in words for screen readers (issue 20): the compact forms a page shows, said."""

from __future__ import annotations

import pytest

from ecc.ui.change import change
from ecc.ui.spoken import amount, moved, sentence


@pytest.mark.parametrize(
    ("shown", "said"),
    [
        ("$44.86M", "44.86 million dollars"),
        ("$575.8K", "575.8 thousand dollars"),
        ("$950", "950 dollars"),
        ("$1", "1 dollar"),
        ("-$1.20M", "minus 1.20 million dollars"),
        ("92.3%", "92.3 percent"),
        ("3.1 pts", "3.1 points"),
        ("4.5 h", "4.5 hours"),
        ("71.4", "71.4"),
        ("1,204", "1,204"),
        ("\u22123", "minus 3"),
        ("—", "no value"),
    ],
)
def test_a_shown_value_is_said_in_words(shown: str, said: str) -> None:
    assert amount(shown) == said


def test_a_change_is_said_with_its_direction() -> None:
    label = "vs previous period"
    assert moved(change(44.86e6, 40.29e6, "money", "up"), label) == (
        "up 4.57 million dollars vs previous period"
    )
    assert moved(change(0.90, 0.931, "rate", "up"), label) == "down 3.1 points vs previous period"
    assert moved(change(5, 5, "count", "up"), label) == "no change vs previous period"
    assert moved(None, label) == label  # no comparison value: the label alone
    assert sentence("ARR", "44.86 million dollars", "") == "ARR, 44.86 million dollars"
