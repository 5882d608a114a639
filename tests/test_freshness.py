"""Every page, report and scheduled mail says when the data was loaded, and warns when its
latest day is more than ECC_STALE_DAYS old or the last refresh failed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from ecc.cache.refresh import refresh
from ecc.demo import build_demo
from ecc.errors import ConfigError
from ecc.freshness import freshness, stale_days
from ecc.mail.compose import Headline, HeadlineRow, report_message
from ecc.schema import refresh_runs
from ecc.ui.static import render_page

TODAY = date(2026, 11, 24)
MORNING = datetime(2026, 11, 24, 9, 0)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, customers=60, seed=3, today=TODAY)
    refresh(engine)
    return engine


def test_fresh_data_has_no_warning_and_says_when_it_was_loaded(demo: Engine) -> None:
    with demo.connect() as conn:
        fresh = freshness(conn, now=MORNING, days=2)
    assert fresh.data_as_of == TODAY and fresh.loaded_at is not None
    assert fresh.loaded_text().startswith("loaded ")
    assert fresh.warnings() == []


@pytest.mark.parametrize(("days_later", "stale"), [(2, False), (3, True)])
def test_data_older_than_the_threshold_is_stale(demo: Engine, days_later: int, stale: bool) -> None:
    with demo.connect() as conn:
        fresh = freshness(conn, now=MORNING + timedelta(days=days_later), days=2)
    assert fresh.stale is stale
    if stale:
        assert fresh.warnings() == [
            "The latest data is from Nov 24, 2026, 3 days ago (more than 2): the daily load "
            "may not have run."
        ]


def test_a_failed_refresh_after_the_last_success_is_said_until_one_succeeds(
    demo: Engine,
) -> None:
    with demo.begin() as conn:
        conn.execute(
            insert(refresh_runs).values(
                kind="incremental",
                status="failed",
                started_at=datetime(2026, 11, 24, 6, 0),
                finished_at=datetime(2026, 11, 24, 6, 1),
                error="Traceback ...\nOperationalError: the database is locked",
            )
        )
    with demo.connect() as conn:
        (warning,) = freshness(conn, now=MORNING, days=2).warnings()
    assert warning == (
        "The last refresh failed on Nov 24, 06:01 UTC (OperationalError: the database is "
        "locked): these are the numbers of the refresh before it."
    )
    refresh(demo, full=True)
    with demo.connect() as conn:
        assert freshness(conn, now=MORNING, days=2).warnings() == []


def test_the_page_header_shows_the_load_time_and_the_warning(demo: Engine) -> None:
    html = render_page(demo, "portfolio", "today=2026-11-24")
    assert "Data as of Nov 24, 2026 · loaded " in html
    # the real clock is past the demo's last day by more than two days
    assert datetime.now().date() - TODAY > timedelta(days=2)
    assert 'class="ecc-fresh" role="status">The latest data is from Nov 24, 2026' in html


def test_a_report_mail_says_the_warning_first() -> None:
    facts = {
        "Period": "Oct 1 – Nov 24, 2026",
        "Data as of": "November 24, 2026",
        "Warning": "The latest data is from Nov 24, 2026, 13 days ago (more than 2): ...",
    }
    msg = report_message(
        sender="ecc@example.com",
        recipients=["vp@example.com"],
        subject="Weekly",
        title="Board pack",
        facts=facts,
        numbers=Headline([HeadlineRow("ARR", "portfolio.arr", "$44.86M", "")], ""),
        files=[],
        footer="f",
    )
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert text.splitlines()[2].startswith("WARNING: The latest data is from Nov 24, 2026")
    assert "<strong>Warning:</strong> The latest data" in html.get_content()


def test_a_bad_threshold_says_how_to_fix_it() -> None:
    assert stale_days({}) == 2
    assert stale_days({"ECC_STALE_DAYS": "5"}) == 5
    with pytest.raises(ConfigError, match="ECC_STALE_DAYS='two' is not a number of days"):
        stale_days({"ECC_STALE_DAYS": "two"})


def test_the_pages_get_the_threshold_and_no_secret() -> None:
    from ecc.ui.serve import kernel_environment

    env = kernel_environment(
        {"ECC_STALE_DAYS": "5", "ECC_SMTP_PASSWORD": "x", "ECC_HUB_AUTH": "native"}
    )
    assert env == {"ECC_STALE_DAYS": "5"}
