"""The dashboards' kernel manager: no kernel starts while the budget's kernels all run.

Voilà refills a page's pool of preheated kernels as soon as one is taken, and starts a
kernel for a viewer when the pool is empty. Past the budget of kernels
(:func:`ecc.ui.admission.from_environment`), both wait here until a kernel ends (a tab
closed, an idle page culled), so a crowd cannot fill the machine's memory. Viewers
meanwhile have their page's numbers from the first paint and their place in the line
(:mod:`ecc.ui.first_paint`). Voilà is told to use it with
``--VoilaConfiguration.multi_kernel_manager_class``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from .admission import RECHECK_SECONDS, from_environment


class BudgetedKernelManager(AsyncMappingKernelManager):
    """A mapping kernel manager whose new kernels wait for room in the budget."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.kernel_budget = from_environment().budget

    @property
    def full(self) -> bool:
        return len(self.list_kernel_ids()) >= self.kernel_budget

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any
    ) -> str:
        if kernel_id is None or kernel_id not in self:  # a new kernel, not a restart
            while self.full:
                await asyncio.sleep(RECHECK_SECONDS)
        started: str = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        return started
