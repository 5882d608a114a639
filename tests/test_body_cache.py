"""Issue 16: a page's body for a view is drawn once and shared by the dashboards server
and its kernels (ecc.ui.body_cache): the same HTML as drawing it, a new one when the
data or the cache changes, one drawing when several processes ask at once, and nothing
kept without the server's folder or for a page that acts."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import stat
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ecc.cache.refresh import refresh
from ecc.db import make_engine
from ecc.ui import body_cache
from ecc.ui.pages import Page, PageContext, build_context, load_all
from ecc.ui.view import parse_query
from tests.support.builders import demo_sqlite

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_sqlite(tmp_path_factory.mktemp("bodies"), customers=150, seed=5, today=TODAY)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "bodies"
    where.mkdir(mode=0o700)
    monkeypatch.setenv(body_cache.VARIABLE, str(where))
    return where


def drawn(db: str, page: Page, query: str) -> tuple[str, str]:
    """(the body through the shared folder, the body drawn anew) of ``query``."""
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            ctx = build_context(conn, page, parse_query(query))
            return body_cache.body(conn, page, ctx), page.render(ctx)
    finally:
        engine.dispose()


def test_a_body_is_drawn_once_then_read_and_equals_a_drawing(db: str, folder: Path) -> None:
    page = load_all()["retention"]
    kept, fresh = drawn(db, page, "preset=ytd")
    assert kept == fresh and "data-metric" in kept
    files = list(folder.glob("*.html"))
    assert len(files) == 1 and files[0].read_text() == kept
    files[0].write_text("<p>read, not drawn</p>")  # the next viewer reads what is kept
    assert drawn(db, page, "preset=ytd")[0] == "<p>read, not drawn</p>"
    other, other_fresh = drawn(db, page, "preset=ytd&segment=SMB")  # another view
    assert other == other_fresh and len(list(folder.glob("*.html"))) == 2


def test_a_refresh_of_the_cache_makes_new_bodies(db: str, folder: Path) -> None:
    page = load_all()["risk"]
    drawn(db, page, "preset=this_quarter")
    for kept in folder.glob("*.html"):
        kept.write_text("<p>stale</p>")
    engine = make_engine(db)
    try:
        refresh(engine, full=True)
    finally:
        engine.dispose()
    after, fresh = drawn(db, page, "preset=this_quarter")
    assert after == fresh != "<p>stale</p>"
    assert len(list(folder.glob("*.html"))) == 2


def test_without_the_server_s_folder_nothing_is_kept(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(body_cache.VARIABLE, raising=False)
    kept, fresh = drawn(db, load_all()["portfolio"], "")
    assert kept == fresh
    monkeypatch.setenv(body_cache.VARIABLE, str(tmp_path / "gone"))  # named, not there
    assert drawn(db, load_all()["portfolio"], "")[0] == fresh
    assert not (tmp_path / "gone").exists()


def test_a_page_that_acts_is_never_kept(db: str, folder: Path) -> None:
    page = load_all()["portfolio"]
    acting = dataclasses.replace(page, live=lambda env: None)  # type: ignore[arg-type,return-value]
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            ctx = build_context(conn, page, parse_query(""))
            body_cache.body(conn, acting, ctx)
    finally:
        engine.dispose()
    assert list(folder.glob("*.html")) == []


def test_the_oldest_bodies_go_past_the_limit(
    db: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(body_cache, "KEEP", 2)
    page = load_all()["portfolio"]
    for preset in ("this_month", "last_month", "this_quarter", "ytd"):
        drawn(db, page, f"preset={preset}")
    assert len(list(folder.glob("*.html"))) == 2
    # the newest two are the ones kept: asking again draws nothing new
    kept = {p.read_text() for p in folder.glob("*.html")}
    assert drawn(db, page, "preset=ytd")[0] in kept


def _draw_counted(db: str, counter: str, out: str, together: Any) -> None:
    """In a child process: the retention body, whose drawing is slow and counted, asked
    for when every child is ready."""
    page = load_all()["retention"]

    def slow(ctx: PageContext) -> str:
        with open(counter, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        return page.render(ctx)

    counted = dataclasses.replace(page, render=slow)
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            ctx = build_context(conn, counted, parse_query("preset=last_quarter"))
            together.wait(timeout=60)
            Path(out).write_text(body_cache.body(conn, counted, ctx))
    finally:
        engine.dispose()


def test_processes_asking_for_one_body_at_once_draw_it_once(
    db: str, folder: Path, tmp_path: Path
) -> None:
    counter = tmp_path / "drawings"
    # spawned, not forked: this process has run vl-convert, whose threads a fork lacks
    spawns: Any = multiprocessing.get_context("spawn")
    together = spawns.Barrier(4)
    children = [
        spawns.Process(
            target=_draw_counted, args=(db, str(counter), str(tmp_path / f"out{i}"), together)
        )
        for i in range(4)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
        assert child.exitcode == 0
    assert len(counter.read_text().split()) == 1  # one drawing; three readers waited for it
    outs = {(tmp_path / f"out{i}").read_text() for i in range(4)}
    assert len(outs) == 1 and "data-metric" in outs.pop()


def test_the_server_s_folder_is_its_user_s_only_and_goes_with_it() -> None:
    with body_cache.shared_folder() as where:
        assert os.environ[body_cache.VARIABLE] == str(where)
        assert stat.S_IMODE(where.stat().st_mode) == 0o700
        (where / "x.html").write_text("x")
    assert not where.exists()
    assert body_cache.VARIABLE not in os.environ


def test_a_killed_server_s_folder_goes_at_the_next_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = tmp_path / f"{body_cache.PREFIX}{ended.stdout.strip()}-abc"  # its server is gone
    alive = tmp_path / f"{body_cache.PREFIX}{os.getpid()}-def"  # this process: running
    other = tmp_path / "ecc-bodies-without-a-pid"
    for folder in (dead, alive, other):
        folder.mkdir()
        (folder / "x.html").write_text("x")
    assert body_cache.sweep(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()
