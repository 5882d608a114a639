"""Preheated kernels that failed to start are replaced, not kept.

A preheated kernel is an entry of Voilà's pool: the kernel's start, then its render of
the page up to the point where it waits for a viewer. When the kernel dies while it
starts (a port another process took between the server choosing it and the kernel
binding it, a kill), jupyter_client restarts it on new ports, but the render already
lost its connection and fails ("Kernel died before replying to kernel_info"). Voilà
leaves that failed entry in the pool: the next viewer of the page would get the
failure, and a server warming up would wait for a kernel that never comes.

:func:`failed_entries` finds such entries; :func:`repair` takes them out of their pool,
shuts their kernel down and refills the pool. :class:`ecc.ui.kernels.BudgetedKernelManager`
runs :func:`repair` every :data:`CHECK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, MutableSequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("ecc.ui")

#: How often the pools are checked (s); a check looks at a few futures.
CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Failed:
    """A pool entry that will never serve a viewer, and why."""

    page: str
    entry: asyncio.Future[Any]
    kernel_id: str | None
    why: str


def failed_entries(pools: Mapping[str, MutableSequence[asyncio.Future[Any]]]) -> list[Failed]:
    """The entries of Voilà's pools (page → futures of ``{"task", "kernel_id", ...}``)
    whose kernel start or whose render ended in an error. An entry still starting or
    rendering, or waiting for its viewer, is not one of them."""
    found: list[Failed] = []
    for page, pool in pools.items():
        for entry in list(pool):
            if not entry.done():
                continue
            if entry.cancelled():
                found.append(Failed(page, entry, None, "its start was cancelled"))
                continue
            error = entry.exception()
            if error is not None:
                found.append(Failed(page, entry, None, f"it did not start: {error}"))
                continue
            content = entry.result()
            task = content.get("task") if isinstance(content, dict) else None
            if task is None or not task.done():
                continue
            if task.cancelled():
                why = "its render was cancelled"
            elif task.exception() is not None:
                why = f"its render failed: {task.exception()}"
            else:
                continue
            found.append(Failed(page, entry, content.get("kernel_id"), why))
    return found


async def repair(manager: Any) -> int:
    """Replace the failed entries of ``manager``'s pools (a Voilà kernel manager with
    preheated kernels); how many were replaced."""
    pools = getattr(manager, "_pools", None)
    if not pools:
        return 0
    failed = failed_entries(pools)
    taken = []
    for bad in failed:  # out of the pools first: Voilà's shutdown reads every entry
        pool = pools.get(bad.page)
        if pool is not None and bad.entry in pool:
            pool.remove(bad.entry)
            taken.append(bad)
    for bad in taken:
        log.warning("a preheated kernel of %s is replaced: %s", bad.page, bad.why)
        if bad.kernel_id is not None and bad.kernel_id in manager:
            with contextlib.suppress(Exception):  # a kernel already gone is what we want
                await manager.shutdown_kernel(bad.kernel_id, now=True)
        manager.fill_if_needed(delay=0, notebook_name=bad.page)
    return len(taken)


async def keep_repairing(manager: Any, every: float = CHECK_SECONDS) -> None:
    """Run :func:`repair` on ``manager`` every ``every`` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await repair(manager)
        except Exception:  # a check that failed must not stop the next ones
            log.exception("checking the preheated kernels failed")
