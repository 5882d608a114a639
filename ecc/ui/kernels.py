"""The dashboards' kernel manager: kernels yield the CPU to the server, and no kernel
starts while the budget's kernels all run.

Kernels run at a lower CPU priority (``nice`` :data:`NICENESS`) than the server that
sends every viewer's page and first paint: when a crowd arrives, the numbers go out
first and the kernels that bring the widgets use what is left. On an idle machine the
priority changes nothing.

Voilà refills a page's pool of preheated kernels as soon as one is taken (and one that
failed to start is replaced, :mod:`ecc.ui.pool_repair`), and starts a
kernel for a viewer when the pool is empty. Past the budget of kernels
(:func:`ecc.ui.admission.from_environment`), both wait here until a kernel ends (a tab
closed, an idle page culled), so a crowd cannot fill the machine's memory. Viewers
meanwhile have their page's numbers from the first paint and their place in the line
(:mod:`ecc.ui.first_paint`). Voilà is told to use it with
``--VoilaConfiguration.multi_kernel_manager_class``.

A kernel whose page has gone is shut down :data:`RECONNECT_GRACE` seconds after the
page's last connection closed, unless the page came back: a tab closed without its
unload post (a browser ending, a crash, a lost network) otherwise kept its kernel, and
its place in the budget, until the idle cull a minute and a half later, and the next
viewers waited for it.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from traitlets import default

from .admission import RECHECK_SECONDS, from_environment
from .pool_repair import keep_repairing

#: The kernels' ``nice`` value (0 is the server's; 19 the lowest priority).
NICENESS = 10
#: How long a kernel whose page's last connection closed waits for the page to reconnect
#: before it is shut down (s). The page's first four tries to reconnect after a network
#: blip come within 11 s (JupyterLab's back-off: at most 0, 1, 3 and 7 s apart).
RECONNECT_GRACE = 20.0


class NicedKernelManager(ServerKernelManager):
    """One kernel, started under ``nice``."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd: list[str] = super().format_kernel_cmd(extra_arguments)
        nice = shutil.which("nice")
        return [nice, "-n", str(NICENESS), *cmd] if nice else cmd


class BudgetedKernelManager(AsyncMappingKernelManager):
    """A mapping kernel manager whose new kernels wait for room in the budget."""

    @default("kernel_manager_class")
    def _niced(self) -> str:
        return f"{__name__}.NicedKernelManager"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.kernel_budget = from_environment().budget
        self._repairing: asyncio.Task[None] | None = None
        self._reclaims: set[asyncio.Future[None]] = set()
        self._left: dict[str, float] = {}  # kernel id -> when its last page left

    @property
    def full(self) -> bool:
        return len(self.list_kernel_ids()) >= self.kernel_budget

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any
    ) -> str:
        if self._repairing is None:  # failed preheated kernels replaced (pool_repair)
            self._repairing = asyncio.ensure_future(keep_repairing(self))
        if kernel_id is None or kernel_id not in self:  # a new kernel, not a restart
            while self.full:
                await asyncio.sleep(RECHECK_SECONDS)
        started: str = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        return started

    def notify_disconnect(self, kernel_id: str) -> None:
        """A page's connection to ``kernel_id`` closed: if it was the last, the kernel is
        shut down unless a page connects again within :data:`RECONNECT_GRACE`."""
        super().notify_disconnect(kernel_id)  # type: ignore[no-untyped-call]
        if self._kernel_connections.get(kernel_id) == 0:
            loop = asyncio.get_running_loop()
            self._left[kernel_id] = loop.time()
            loop.call_later(RECONNECT_GRACE, self._reclaim_soon, kernel_id)

    def _reclaim_soon(self, kernel_id: str) -> None:
        task = asyncio.ensure_future(self._reclaim(kernel_id))
        self._reclaims.add(task)
        task.add_done_callback(self._reclaims.discard)

    async def _reclaim(self, kernel_id: str) -> None:
        # a page that came back and left again has its grace from its last leaving
        left = self._left.get(kernel_id)
        if left is None or asyncio.get_running_loop().time() - left < RECONNECT_GRACE - 0.01:
            return
        try:
            if kernel_id not in self or self._kernel_connections.get(kernel_id, 0) > 0:
                return
            del self._left[kernel_id]
            self.log.info(
                "Kernel %s: its page left %.0f s ago; shut down", kernel_id, RECONNECT_GRACE
            )
            await self.shutdown_kernel(kernel_id)  # type: ignore[no-untyped-call]
        except Exception:  # already gone (its page's unload post, the cull): nothing to do
            self.log.debug("kernel %s was not reclaimed", kernel_id, exc_info=True)

    async def shutdown_all(self, now: bool = False) -> None:  # type: ignore[override]
        """Every kernel, then the zygote they were forked from (ecc.ui.zygote)."""
        if self._repairing is not None:
            self._repairing.cancel()
        await super().shutdown_all(now=now)
        zygote = getattr(self, "ecc_zygote", None)
        if zygote is not None:
            zygote.stop()
