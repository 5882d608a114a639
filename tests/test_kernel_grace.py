"""Issue 16: a kernel whose page's last connection closed is shut down after a grace
period, unless the page connected again within it (ecc.ui.kernels)."""

from __future__ import annotations

import asyncio

import pytest

from ecc.ui import kernels
from ecc.ui.kernels import BudgetedKernelManager


class Recording(BudgetedKernelManager):
    """The dashboards' manager with kernels that are only names: shutting one down
    records it (starting real kernels is test_kernel_reclaim's part)."""

    def __init__(self) -> None:
        super().__init__()
        self.shut: list[str] = []

    def add(self, kernel_id: str) -> None:
        self._kernels[kernel_id] = object()
        self._kernel_connections[kernel_id] = 0

    async def shutdown_kernel(  # type: ignore[override]
        self, kernel_id: str, now: bool = False, restart: bool = False
    ) -> None:
        self.shut.append(kernel_id)
        del self._kernels[kernel_id]


@pytest.fixture
def grace(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(kernels, "RECONNECT_GRACE", 0.2)
    return 0.2


def test_a_kernel_whose_page_left_is_shut_down_after_the_grace(grace: float) -> None:
    async def scenario() -> list[str]:
        manager = Recording()
        manager.add("left")
        manager.add("open")
        for kid in ("left", "open"):
            manager.notify_connect(kid)  # type: ignore[no-untyped-call]
        manager.notify_connect("open")  # type: ignore[no-untyped-call]  # two tabs
        manager.notify_disconnect("left")
        manager.notify_disconnect("open")  # one of its two tabs left
        await asyncio.sleep(grace / 2)
        assert manager.shut == []  # not before the grace
        await asyncio.sleep(grace * 2)
        return manager.shut

    assert asyncio.run(scenario()) == ["left"]


def test_a_page_that_reconnects_within_the_grace_keeps_its_kernel(grace: float) -> None:
    async def scenario() -> list[str]:
        manager = Recording()
        manager.add("blip")
        manager.notify_connect("blip")  # type: ignore[no-untyped-call]
        manager.notify_disconnect("blip")  # a network blip
        await asyncio.sleep(grace / 2)
        manager.notify_connect("blip")  # type: ignore[no-untyped-call]  # the page is back
        await asyncio.sleep(grace * 2)
        return manager.shut

    assert asyncio.run(scenario()) == []


def test_a_kernel_already_shut_down_by_its_page_is_left_alone(grace: float) -> None:
    async def scenario() -> list[str]:
        manager = Recording()
        manager.add("closed")
        manager.notify_connect("closed")  # type: ignore[no-untyped-call]
        manager.notify_disconnect("closed")
        del manager._kernels["closed"]  # the page's unload post shut it down
        await asyncio.sleep(grace * 2)
        return manager.shut

    assert asyncio.run(scenario()) == []


def test_a_page_that_comes_back_and_leaves_again_gets_the_whole_grace(grace: float) -> None:
    async def scenario() -> list[str]:
        manager = Recording()
        manager.add("flap")
        manager.notify_connect("flap")  # type: ignore[no-untyped-call]
        manager.notify_disconnect("flap")
        await asyncio.sleep(grace * 0.6)
        manager.notify_connect("flap")  # type: ignore[no-untyped-call]
        manager.notify_disconnect("flap")  # left again, 0.6 grace after the first time
        await asyncio.sleep(grace * 0.6)  # the first leaving's timer has fired
        assert manager.shut == []
        await asyncio.sleep(grace)
        return manager.shut

    assert asyncio.run(scenario()) == ["flap"]
