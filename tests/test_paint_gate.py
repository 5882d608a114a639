"""Issue 16: a crowd's live pages wait until its first paints are on screen."""

from __future__ import annotations

import asyncio
import time

from ecc.ui.paint_gate import PaintGate


def test_a_lone_viewer_never_waits() -> None:
    async def scenario() -> None:
        gate = PaintGate(wait=30)
        mine = gate.issue()
        started = time.monotonic()
        await gate.settle(mine)  # nobody else is painting
        assert time.monotonic() - started < 1

    asyncio.run(scenario())


def test_live_pages_wait_for_the_others_first_paints() -> None:
    async def scenario() -> None:
        gate = PaintGate(wait=30)
        first, second = gate.issue(), gate.issue()
        waiting = asyncio.ensure_future(gate.settle(first))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # the second viewer's numbers are not on screen yet
        assert gate.pending(besides=first) == 1
        assert gate.painted(second)
        await asyncio.wait_for(waiting, 1)  # released by the report, not by the clock
        assert not gate.painted(second)  # a token is good once
        assert gate.pending() == 1  # the first's own paint, not yet reported

    asyncio.run(scenario())


def test_a_browser_that_never_answers_holds_no_one_up_for_long() -> None:
    async def scenario() -> None:
        gate = PaintGate(wait=0.3)
        first = gate.issue()
        gate.issue()  # never reported (no script, a closed tab)
        started = time.monotonic()
        await asyncio.wait_for(gate.settle(first), 5)
        waited = time.monotonic() - started
        assert 0.2 <= waited < 2
        assert gate.pending() == 0  # both expired

    asyncio.run(scenario())


def test_an_unknown_token_ends_nothing() -> None:
    gate = PaintGate()
    gate.issue()
    assert not gate.painted("made-up")
    assert gate.pending() == 1
