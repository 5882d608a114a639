"""Admission of viewers' kernels: a few at a time, in order of arrival, within a budget.

When many people open the command center at once, each page whose preheated kernel is
taken starts one of its own. Started all together, those kernels share the machine's
cores with one another, with the server that sends everyone's first paint and with the
viewers' browsers, and every one of them is slow. Admitted a few at a time (one fewer
than the cores, at least one), each starts at full speed, the server stays free to
answer, and the viewers see their numbers at once from the first paint while their
page's filters wait their turn, with their place in the line on the page.

A budget of kernels (from the memory free at the server's start, or
``ECC_MAX_KERNELS``) keeps a crowd from filling the machine: past it, a viewer keeps
the first paint and waits for a kernel to be released (a tab closed, an idle page
culled).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import variables
from ..errors import ConfigError

#: A kernel's resident memory after a page, with some margin (bytes).
KERNEL_BYTES = 350 * 2**20
#: Memory kept free for the server, the hub and everything else on the machine.
RESERVE_BYTES = 2 * 2**30
#: How often a waiting viewer's place is re-checked when kernels may have ended.
RECHECK_SECONDS = 2.0


def default_concurrency(cores: int | None = None) -> int:
    """Kernel starts at once: one core stays for the server and the browsers."""
    return max(1, (cores if cores is not None else os.cpu_count() or 1) - 1)


def default_budget(available: int | None = None) -> int:
    """Kernels the free memory holds (at least 4)."""
    if available is None:
        available = _mem_available()
    return max(4, (available - RESERVE_BYTES) // KERNEL_BYTES)


def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def from_environment(env: dict[str, str] | None = None) -> Admission:
    """The admission the settings ask for: ``ECC_KERNEL_STARTS`` (kernels started at
    once) and ``ECC_MAX_KERNELS`` (kernels in all), each defaulting to the machine's."""
    env = dict(os.environ) if env is None else env
    starts = _positive(env, "ECC_KERNEL_STARTS") or default_concurrency()
    budget = _positive(env, "ECC_MAX_KERNELS") or default_budget()
    return Admission(concurrency=starts, budget=budget)


def _positive(env: dict[str, str], name: str) -> int | None:
    raw = variables.value(name, env)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={raw!r}: give a whole number of at least 1, or leave it unset")
    return value


@dataclass(eq=False)
class Ticket:
    """One viewer's place in the line."""

    admission: Admission
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    admitted: bool = False

    @property
    def ahead(self) -> int:
        """Viewers before this one in the line (0 when admitted)."""
        return self.admission.ahead_of(self)

    @property
    def place(self) -> tuple[int, bool]:
        """(viewers ahead, whether every kernel of the budget is in use)."""
        return self.ahead, self.admission.full

    async def wait(self, timeout: float) -> None:
        """Until this ticket's place changes, or ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)
        self.changed.clear()
        self.admission.admit()

    def leave(self) -> None:
        """Give the place (or the slot) back: the kernel is up, or the viewer left."""
        self.admission.release(self)


class Admission:
    """First come, first served: at most ``concurrency`` kernels starting at once, and
    no start while ``running()`` kernels reach ``budget``."""

    def __init__(self, concurrency: int, budget: int) -> None:
        if concurrency < 1 or budget < 1:
            raise ValueError("concurrency and budget must be at least 1")
        self.concurrency = concurrency
        self.budget = budget
        self.running: Callable[[], int] = lambda: 0
        self._line: deque[Ticket] = deque()
        self._starting: set[Ticket] = set()

    def join(self) -> Ticket:
        """A place at the end of the line (admitted at once when there is room)."""
        ticket = Ticket(self)
        self._line.append(ticket)
        self.admit()
        return ticket

    def ahead_of(self, ticket: Ticket) -> int:
        if ticket.admitted:
            return 0
        try:
            return self._line.index(ticket)
        except ValueError:
            return 0

    @property
    def waiting(self) -> int:
        return len(self._line)

    @property
    def starting(self) -> int:
        return len(self._starting)

    @property
    def full(self) -> bool:
        """Every kernel of the budget is running or starting."""
        return self.running() + len(self._starting) >= self.budget

    def admit(self) -> None:
        """Let the front of the line in while there is room; tell the rest their place."""
        moved = False
        while self._line and len(self._starting) < self.concurrency:
            if self.full:
                break
            ticket = self._line.popleft()
            ticket.admitted = True
            self._starting.add(ticket)
            ticket.changed.set()
            moved = True
        if moved:
            for waiting in self._line:
                waiting.changed.set()

    def release(self, ticket: Ticket) -> None:
        if ticket in self._starting:
            self._starting.discard(ticket)
        elif ticket in self._line:
            self._line.remove(ticket)
        self.admit()
