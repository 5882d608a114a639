"""The crowd sees its numbers before anyone's widgets load.

When many people open the command center together, every viewer gets the page's first
paint at once (:mod:`ecc.ui.first_paint`), but the browsers that show it share the
viewers' machines and, in a test or a small office, the server's cores with everything
else. The live page that follows a first paint is far heavier to a browser (Voilà's
scripts, JupyterLab's styles, the widgets) and costs the server a kernel's run. Sent
while others are still painting, it takes their time.

So each first paint carries a one-time token, and the page's script posts it back
(:data:`ROUTE`) once the browser has painted the numbers. A viewer's live page waits
while another viewer's first paint is out and not yet painted, for at most
:data:`WAIT_SECONDS` after the viewer's own first paint was sent: a lone viewer never
waits, a crowd gets its numbers first and then its widgets, and a browser that never
answers (no script, a closed tab) holds no one up for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable

from tornado import web

#: The longest a viewer's live page waits for other viewers' first paints (seconds).
WAIT_SECONDS = 10.0
#: The route (under the server's base URL) a page posts its token to once painted.
ROUTE = "ecc/painted/"


class PaintGate:
    """First paints out and not yet painted, by token."""

    def __init__(
        self, wait: float = WAIT_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.wait = wait
        self._clock = clock
        self._out: dict[str, float] = {}  # token -> when its first paint was sent
        self._changed = asyncio.Event()

    def issue(self) -> str:
        """A token for a first paint being sent now."""
        self._prune()
        token = secrets.token_urlsafe(16)
        self._out[token] = self._clock()
        return token

    def painted(self, token: str) -> bool:
        """The browser has painted the first paint of ``token`` (False: unknown token)."""
        if self._out.pop(token, None) is None:
            return False
        self._changed.set()
        self._changed = asyncio.Event()
        return True

    def pending(self, besides: str | None = None) -> int:
        """First paints out, not painted, sent less than ``wait`` seconds ago."""
        self._prune()
        return sum(1 for token in self._out if token != besides)

    async def settle(self, token: str) -> None:
        """Until no other viewer's first paint is pending, or ``wait`` seconds after
        ``token``'s was sent."""
        deadline = self._out.get(token, self._clock()) + self.wait
        while self.pending(besides=token):
            now = self._clock()
            if now >= deadline:
                return
            # wake when a paint is reported, the oldest pending one expires, or our own
            left = min(deadline, self._oldest(besides=token) + self.wait) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, left))

    def _oldest(self, besides: str) -> float:
        return min((at for token, at in self._out.items() if token != besides), default=0.0)

    def _prune(self) -> None:
        cutoff = self._clock() - self.wait
        for token in [t for t, at in self._out.items() if at <= cutoff]:
            del self._out[token]


class PaintedHandler(web.RequestHandler):
    """``POST <base>/ecc/painted/<token>``: a page has painted its numbers. No login:
    the token, random and used once, is the proof, and all it does is end a wait."""

    def check_xsrf_cookie(self) -> None:  # a beacon carries no form token
        return

    def post(self, token: str) -> None:
        gate: PaintGate | None = self.settings.get("ecc_paint_gate")
        if gate is None or not gate.painted(token):
            self.set_status(404)
        else:
            self.set_status(204)
        self.finish()


def gate_of(settings: dict[str, object]) -> PaintGate:
    """The server's gate (kept in its tornado settings)."""
    gate = settings.get("ecc_paint_gate")
    if not isinstance(gate, PaintGate):
        gate = settings["ecc_paint_gate"] = PaintGate()
    return gate


def route(base_url: str) -> tuple[str, type[PaintedHandler]]:
    """The handler's rule for a server at ``base_url``."""
    return (base_url.rstrip("/") + "/" + ROUTE + r"([A-Za-z0-9_\-]+)", PaintedHandler)
