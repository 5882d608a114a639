"""Issue 16: a preheated kernel that failed to start is replaced (ecc/ui/pool_repair.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path
from typing import Any

import psutil
import pytest

from ecc.ui.pool_repair import failed_entries, repair
from tests.support.builders import demo_sqlite
from tests.support.servers import voila_server


async def _entry(outcome: str) -> asyncio.Future[Any]:
    """A pool entry as Voilà keeps one: a future of the kernel's start whose result holds
    the render task, here in the state ``outcome`` names."""
    loop = asyncio.get_running_loop()
    entry: asyncio.Future[Any] = loop.create_future()
    if outcome == "start failed":
        entry.set_exception(RuntimeError("no kernel"))
        return entry
    if outcome == "starting":
        return entry
    render: asyncio.Future[Any] = loop.create_future()
    if outcome == "render failed":
        render.set_exception(RuntimeError("Kernel died before replying to kernel_info"))
    elif outcome == "rendered":
        render.set_result((["<div>"], None))
    entry.set_result({"task": render, "kernel_id": f"k-{outcome}"})
    return entry


class FakeVoilaManager:
    """What repair uses of Voilà's kernel manager: its pools, membership, shutdown and
    refill (the real one is exercised by the server test below)."""

    def __init__(self, pools: dict[str, list[asyncio.Future[Any]]]) -> None:
        self._pools = pools
        self.kernels = {"k-render failed", "k-waiting", "k-rendered"}
        self.shut: list[str] = []
        self.filled: list[str] = []

    def __contains__(self, kernel_id: str) -> bool:
        return kernel_id in self.kernels

    async def shutdown_kernel(self, kernel_id: str, now: bool = False) -> None:
        self.shut.append(kernel_id)

    def fill_if_needed(self, delay: float | None = None, notebook_name: str = "") -> None:
        self.filled.append(notebook_name)


def test_only_entries_whose_start_or_render_failed_are_replaced() -> None:
    async def run() -> None:
        outcomes = ["start failed", "starting", "render failed", "waiting", "rendered"]
        entries = {o: await _entry(o) for o in outcomes}
        pools = {"portfolio.ipynb": list(entries.values()), "risk.ipynb": []}
        found = failed_entries(pools)
        assert {f.entry for f in found} == {entries["start failed"], entries["render failed"]}
        assert {f.kernel_id for f in found} == {None, "k-render failed"}
        assert any("Kernel died before replying" in f.why for f in found)

        manager = FakeVoilaManager(pools)
        assert await repair(manager) == 2
        # the failed entries left their pool, the others stay in their order
        assert pools["portfolio.ipynb"] == [entries[o] for o in ("starting", "waiting", "rendered")]
        assert manager.shut == ["k-render failed"]  # the one with a kernel to stop
        assert manager.filled == ["portfolio.ipynb", "portfolio.ipynb"]
        assert await repair(manager) == 0  # nothing left to replace

    asyncio.run(run())


def _kill_first_kernel(launcher: int) -> None:
    """Kill the first kernel the server forks, as soon as it exists (a kernel dying as it
    starts, as one does when another process took its port)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for process in psutil.Process(launcher).children(recursive=True):
            try:
                if "ipykernel_launcher -f" in " ".join(process.cmdline()):
                    process.kill()
                    return
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.02)
    pytest.fail("the server started no kernel within 120 s")


@pytest.mark.slow
def test_a_server_whose_preheated_kernel_died_as_it_started_gets_ready(tmp_path: Path) -> None:
    """Voilà kept the failed entry: the server then waited for ever for its pool (seen in
    CI as 'the command center was not ready within 900 s')."""
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    log = tmp_path / "serve.log"
    with voila_server(db, log, pool_size=0, starting=_kill_first_kernel) as base:
        voila_log = log.with_suffix(".voila.log").read_text()
        assert "a preheated kernel of summary.ipynb is replaced" in voila_log
        # no kernel left over from the failed start: the landing page's two
        from tests.support.servers import server_of

        kernels = [
            p
            for p in server_of(base).children(recursive=True)
            if "ipykernel_launcher -f" in " ".join(p.cmdline())
        ]
        assert len(kernels) == 2, [k.cmdline() for k in kernels]
