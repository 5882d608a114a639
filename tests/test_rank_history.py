"""Rank history (FR-9): the leaderboard shows how many places each CSM moved since about a
week before, from the nightly records, and a CSM's page draws their rank over time."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select, update

from ecc.demo import build_demo
from ecc.leaderboard import rank_history, rank_moves, record_leaderboard
from ecc.schema import leaderboard_history
from ecc.ui.static import render_page

TODAY = date(2026, 11, 24)
WEEK_AGO = TODAY - timedelta(days=7)
VIEW = "preset=this_quarter&today=2026-11-24"


@pytest.fixture
def ranked(engine: Engine) -> Engine:
    build_demo(engine, customers=150, seed=5, today=TODAY)
    for day in (WEEK_AGO - timedelta(days=3), WEEK_AGO, TODAY - timedelta(days=1), TODAY):
        assert record_leaderboard(engine, day) > 0
    # a week ago the first and the last swapped places (recorded history is what it was)
    t = leaderboard_history
    with engine.begin() as conn:
        q = select(t.c.csm_id, t.c.rank).where(t.c.ranked_on == WEEK_AGO)
        ranks: dict[str, int] = {r.csm_id: r.rank for r in conn.execute(q)}
        first = min(ranks, key=lambda c: ranks[c])
        last = max(ranks, key=lambda c: ranks[c])
        for cid, rank in ((first, ranks[last]), (last, ranks[first])):
            conn.execute(
                update(t).where(t.c.ranked_on == WEEK_AGO, t.c.csm_id == cid).values(rank=rank)
            )
    return engine


def test_moves_are_the_recorded_ranks_a_week_apart(ranked: Engine) -> None:
    with ranked.connect() as conn:
        since, moves = rank_moves(conn, TODAY)
        now = {r["csm_id"]: r["rank"] for r in rank_history(conn, "", 0)}  # nothing asked
        assert now == {}
        then = {
            cid: next(r["rank"] for r in rank_history(conn, cid) if r["ranked_on"] == WEEK_AGO)
            for cid in moves
        }
        latest = {
            cid: next(r["rank"] for r in rank_history(conn, cid) if r["ranked_on"] == TODAY)
            for cid in moves
        }
    assert since == WEEK_AGO  # the earliest recorded day within the 7 days before
    assert moves and all(moves[c] == then[c] - latest[c] for c in moves)
    assert any(m != 0 for m in moves.values())


def test_the_leaderboard_shows_the_moves_only_for_its_own_view(ranked: Engine) -> None:
    with ranked.connect() as conn:
        _, moves = rank_moves(conn, TODAY)
    html = render_page(ranked, "performance", VIEW)
    shown = dict(
        re.findall(
            r'data-metric="csms\.rows\.([^".]+)\.rank"[^>]*>\d+</span> '
            r'<span class="ecc-move[^"]*"[^>]*>([▲▼]\d+|=)</span>',
            html,
        )
    )
    assert shown
    for cid, text in shown.items():
        m = moves[cid]
        assert text == ("=" if m == 0 else f"{'▲' if m > 0 else '▼'}{abs(m)}")
    assert "since Nov 17, 2026" in html
    # another period or a segment ranks differently: no moves shown
    assert 'class="ecc-move' not in render_page(ranked, "performance", VIEW + "&segment=SMB")
    assert 'class="ecc-move' not in render_page(
        ranked, "performance", "preset=ytd&today=2026-11-24"
    )


def test_a_csms_page_draws_their_rank_over_time(ranked: Engine) -> None:
    with ranked.connect() as conn:
        _, moves = rank_moves(conn, TODAY)
    cid = next(iter(moves))
    html = render_page(ranked, "csm", VIEW + f"&csm={cid}")
    assert "Leaderboard rank, as recorded each night" in html
    assert "<svg" in html.split("Leaderboard rank, as recorded each night")[1]
