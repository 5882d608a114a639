"""Dashboard view state: the URL round trip and bad parameters falling back with a message."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from ecc.ui.view import View, parse_query, validate
from tests.support.cli import small_portfolio


def test_query_round_trip_keeps_every_filter() -> None:
    v = View(
        preset=None,
        start="2025-01-01",
        end="2025-03-31",
        compare="yoy",
        segment="SMB",
        csm="bo",
        customer="c2",
    )
    assert parse_query(v.query()) == v
    assert parse_query("?preset=ytd&compare=none") == View(preset="ytd", compare=None)


def test_choosing_a_range_clears_the_preset_and_back() -> None:
    v = View().with_(start="2025-01-01", end="2025-02-01")
    assert (v.preset, v.start) == (None, "2025-01-01")
    assert v.with_(preset="ytd") == View(preset="ytd")


def test_defaults_are_this_quarter_against_the_previous_period() -> None:
    assert parse_query("") == View(preset="this_quarter", compare="previous")
    assert parse_query("start=2025-01-01&end=2025-01-31").preset is None


@pytest.mark.parametrize(
    ("query", "message", "fallback"),
    [
        ("segment=Retail", "unknown segment 'Retail'", {"segment": None}),
        ("csm=ghost", "CSM 'ghost' does not exist", {"csm": None}),
        ("preset=soon", "unknown preset 'soon'", {"preset": "this_quarter"}),
        (
            "start=2025-02-30&end=2025-03-01",
            "is not a date",
            {"preset": "this_quarter", "start": None},
        ),
        ("start=2025-03-01&end=2025-02-01", "before the start date", {"preset": "this_quarter"}),
        ("compare=mom", "unknown comparison 'mom'", {"compare": "previous"}),
    ],
)
def test_bad_parameters_fall_back_with_a_message(
    engine: Engine, query: str, message: str, fallback: dict[str, object]
) -> None:
    small_portfolio(engine)
    with engine.connect() as conn:
        view, req = validate(conn, parse_query(query))
    assert len(view.messages) == 1 and message in view.messages[0]
    for key, value in fallback.items():
        assert getattr(view, key) == value
    assert req.period.end <= date(2025, 11, 20)


def test_several_bad_parameters_each_get_a_message(engine: Engine) -> None:
    small_portfolio(engine)
    with engine.connect() as conn:
        view, req = validate(conn, parse_query("segment=Retail&csm=ghost&preset=ytd"))
    assert len(view.messages) == 2
    assert (req.period.start, req.period.end) == (date(2025, 1, 1), date(2025, 11, 20))
