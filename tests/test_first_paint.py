"""Issue 16: what the server sends before a kernel (ecc/ui/first_paint.py) and the
template it comes from."""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

import pytest

from ecc.cache.refresh import refresh
from ecc.db import make_engine
from ecc.paths import VOILA_FILES
from ecc.ui import first_paint
from ecc.ui.first_paint import END, MARKER, Prefixes, Renderer, _canonical
from tests.support.builders import demo_sqlite

TEMPLATE = VOILA_FILES / "voila" / "templates" / "ecc"


def test_the_head_needs_no_other_request_before_the_first_paint() -> None:
    """Everything before the first paint's end is inline: no stylesheet or script to
    fetch (each one waits behind every other viewer's requests in a crowd)."""
    page = (TEMPLATE / "index.html.j2").read_text()
    before = page[: page.index(END)]
    assert MARKER in before
    assert not re.search(r"include_(css|js)|<script src|<link rel=.stylesheet", before)
    assert '{% include "static/ecc.css" %}' in before
    # the styles are included as a template: they must hold no template syntax
    css = (TEMPLATE / "static" / "ecc.css").read_text()
    assert not re.search(r"\{[{%#]", css)


def test_a_prefix_that_changes_is_replaced_and_said(caplog: pytest.LogCaptureFixture) -> None:
    prefixes = Prefixes()
    assert prefixes.get("risk.ipynb") is None
    prefixes.learn("risk.ipynb", "<head>one")
    with caplog.at_level(logging.WARNING, logger="ecc.ui"):
        prefixes.learn("risk.ipynb", "<head>two")
    assert prefixes.get("risk.ipynb") == "<head>two"
    assert "changed" in caplog.text


def test_a_page_not_yet_seen_takes_another_page_s_head_with_its_own_title() -> None:
    prefixes = Prefixes()
    assert prefixes.derive("risk.ipynb", "Risk") is None  # nothing known yet
    head = (
        "<html><head><title>Portfolio health · ECC</title></head><body>"
        f"<svg><title>spin</title></svg>{MARKER}"
    )
    prefixes.learn("portfolio.ipynb", head)
    derived = prefixes.derive("risk.ipynb", "Risk & renewals")
    assert derived == head.replace("Portfolio health · ECC", "Risk &amp; renewals")
    assert prefixes.get("risk.ipynb") == derived  # kept, and checked by the first response


def test_every_spelling_of_a_view_is_one_first_paint() -> None:
    """A bare address and the landing page's links (which spell the default view out)
    name the same page; the viewer key changes nothing."""
    bare = _canonical("")
    assert _canonical("preset=this_quarter&compare=previous") == bare
    assert _canonical("compare=previous&viewer=vp") == bare
    assert _canonical("preset=ytd") != bare


def test_the_cache_s_first_viewer_has_the_other_pages_rendered_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    engine = make_engine(db)
    try:
        refresh(engine)
    finally:
        engine.dispose()
    monkeypatch.setenv("ECC_DATABASE_URL", db)
    first_paint._engine.cache_clear()
    try:
        renderer = Renderer()
        html = renderer.render("portfolio", "")
        assert html is not None and "data-metric" in html
        # the rest arrive in the background, each then served without rendering again
        assert renderer.ready("retention", "preset=this_quarter&compare=previous", timeout=120)
        assert renderer.ready("segments", "")
        assert not renderer.ready("retention", "preset=ytd")  # only the default views
    finally:
        first_paint._engine.cache_clear()


def test_an_acknowledgement_renews_the_summary_s_first_paint_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from ecc.alerts.evaluate import run_range
    from ecc.alerts.store import acknowledge
    from ecc.schema import executive_alerts
    from tests.support.pagecheck import metrics_in

    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    engine = make_engine(db)
    monkeypatch.setenv("ECC_DATABASE_URL", db)
    first_paint._engine.cache_clear()
    try:
        run_range(engine, date(2026, 10, 1), date(2026, 11, 24))
        refresh(engine)
        renderer = Renderer()
        before = renderer.render("summary", "")
        assert before is not None
        open_before = int(metrics_in(before)["summary.open_alerts"])
        assert open_before > 0
        assert renderer.ready("portfolio", "", timeout=120)
        with engine.connect() as conn:
            urgent = (
                conn.execute(
                    select(executive_alerts.c.alert_id).where(
                        executive_alerts.c.severity.in_(("critical", "high")),
                        executive_alerts.c.acknowledged_at.is_(None),
                    )
                )
                .scalars()
                .first()
            )
        assert urgent is not None and acknowledge(engine, [urgent], "vp") == 1
        assert not renderer.ready("summary", "")  # its count changed without a new load
        after = renderer.render("summary", "")
        assert after is not None
        assert int(metrics_in(after)["summary.open_alerts"]) == open_before - 1
        assert renderer.ready("portfolio", "")  # a page without alerts keeps its rendering
    finally:
        engine.dispose()
        first_paint._engine.cache_clear()


def test_a_slow_kernel_s_output_is_waited_for() -> None:
    """nbclient's default drops a cell's output that comes more than 4 s after the cell's
    reply; under a crowd's load that left pages without widgets. The command center's
    Voilà settings, as Voilà loads them, wait as long as a page may take."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("voila.py", path=str(VOILA_FILES / "config")).load_config()
    assert config.VoilaExecutor.iopub_timeout >= 60
