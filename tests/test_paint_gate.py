"""Issue 16: a crowd's live pages wait until its first paints are on screen."""

from __future__ import annotations

import asyncio
import time

from ecc.ui.paint_gate import PaintGate


def test_a_lone_viewer_waits_only_for_its_own_paint() -> None:
    async def scenario() -> None:
        gate = PaintGate(stall=30)
        mine = gate.issue()
        waiting = asyncio.ensure_future(gate.settle(mine))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # its own numbers are not on screen yet
        started = time.monotonic()
        assert gate.painted(mine)
        await asyncio.wait_for(waiting, 1)  # nobody else is painting or arriving
        assert time.monotonic() - started < 0.2
        # a browser that never says it painted is not waited for beyond `quiet`
        silent = PaintGate(stall=30, quiet=0.3)
        started = time.monotonic()
        await asyncio.wait_for(silent.settle(silent.issue()), 2)
        assert 0.25 <= time.monotonic() - started < 1

    asyncio.run(scenario())


def test_live_pages_wait_for_the_others_first_paints() -> None:
    async def scenario() -> None:
        gate = PaintGate(stall=30, quiet=0)
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
        gate = PaintGate(stall=0.3, quiet=0)
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


def test_a_crowd_that_keeps_painting_keeps_the_live_pages_waiting() -> None:
    """Browsers that take longer than the stall time to paint, but keep painting, hold the
    live pages until the last one has painted."""

    async def scenario() -> None:
        gate = PaintGate(stall=0.4, cap=30, quiet=0)
        first, *others = (gate.issue() for _ in range(4))
        waiting = asyncio.ensure_future(gate.settle(first))
        for token in others[:-1]:  # one report every 0.3 s: 0.9 s in all
            await asyncio.sleep(0.3)
            assert not waiting.done()
            assert gate.painted(token)
        await asyncio.sleep(0.3)
        assert not waiting.done()  # 1.2 s after its own paint was sent: still waiting
        assert gate.painted(others[-1])
        await asyncio.wait_for(waiting, 1)

    asyncio.run(scenario())


def test_no_live_page_waits_beyond_the_cap() -> None:
    async def scenario() -> None:
        gate = PaintGate(stall=30, cap=0.3)
        first = gate.issue()
        gate.issue()  # never reported, and arrivals keep the crowd from stalling
        started = time.monotonic()
        await asyncio.wait_for(gate.settle(first), 5)
        assert 0.2 <= time.monotonic() - started < 2

    asyncio.run(scenario())


def test_the_first_to_paint_waits_while_the_crowd_is_still_arriving() -> None:
    """A viewer whose numbers are on screen before the next viewers' requests have even
    arrived does not go live among them: the live page waits until no first paint has
    been sent for `quiet` seconds (and those sent are painted)."""

    async def scenario() -> None:
        gate = PaintGate(stall=30, quiet=0.5)
        first = gate.issue()
        waiting = asyncio.ensure_future(gate.settle(first))
        await asyncio.sleep(0.2)
        second = gate.issue()  # the crowd arrives while the first is painting
        await asyncio.sleep(0.1)
        assert gate.painted(first)
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert gate.painted(second)
        started = time.monotonic()
        await asyncio.wait_for(waiting, 5)
        # released once nobody had arrived for 0.5 s after the second viewer
        assert 0.2 <= time.monotonic() - started < 1.5
        # and one who arrives alone after that waits for nobody else
        third = gate.issue()
        assert gate.painted(third)
        started = time.monotonic()
        await asyncio.wait_for(gate.settle(third), 1)
        assert time.monotonic() - started < 0.2

    asyncio.run(scenario())


def test_one_person_moving_from_page_to_page_is_not_a_crowd() -> None:
    async def scenario() -> None:
        gate = PaintGate(stall=30, quiet=0.5)
        landing = gate.issue("browser-a")
        assert gate.painted(landing)
        risk = gate.issue("browser-a")  # the same browser, a second later: a click
        assert gate.painted(risk)
        started = time.monotonic()
        await asyncio.wait_for(gate.settle(risk), 1)
        assert time.monotonic() - started < 0.2
        # another browser arriving meanwhile is a crowd
        mine, theirs = gate.issue("browser-a"), gate.issue("browser-b")
        assert gate.painted(mine)
        waiting = asyncio.ensure_future(gate.settle(mine))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert gate.painted(theirs)
        await asyncio.wait_for(waiting, 2)

    asyncio.run(scenario())
