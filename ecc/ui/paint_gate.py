"""The crowd sees its numbers before anyone's widgets load.

When many people open the command center together, every viewer gets the page's first
paint at once (:mod:`ecc.ui.first_paint`), but the browsers that show it share the
viewers' machines and, in a test or a small office, the server's cores with everything
else. The live page that follows a first paint is far heavier to a browser (Voilà's
scripts, JupyterLab's styles, the widgets) and costs the server a kernel's run. Sent
while others are still painting, it takes their time.

So each first paint carries a one-time token, and the page's script posts it back
(:data:`ROUTE`) once the browser has painted the numbers. A viewer's live page waits
until its own numbers are on screen (at most :data:`QUIET_SECONDS`), then while another
browser's first paint is out and not yet painted, or was sent in the last
:data:`QUIET_SECONDS` (a crowd arrives over a second or two: the first to paint must not
go live among the ones still arriving; one person's own page views are not a crowd), as
long as the crowd is making progress: a first paint pending for :data:`STALL_SECONDS`
stops holding anyone once no first paint has been sent or painted for that long (a
browser without script, a closed tab), and no live page waits more than
:data:`CAP_SECONDS` after its own first paint was sent (viewers arriving without end).
A lone viewer waits for nobody else; a crowd gets its numbers first, however long its
browsers take to paint them, then its widgets.
(A fixed wait of 10 s from each viewer's own first paint let 50 browsers that needed
more than 10 s to paint start their live pages in the middle of the others' paints:
first KPI p95 26 s where it had been 10 to 13 s.)
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable

from tornado import web

#: How long the crowd may go without a first paint sent or painted before the ones still
#: pending stop holding anyone (seconds).
STALL_SECONDS = 10.0
#: The longest a viewer's live page waits for other viewers' first paints (seconds).
CAP_SECONDS = 60.0
#: A crowd arrives over a second or two: a live page also waits until no other viewer's
#: first paint has been sent for this long (seconds), so the first to paint does not go
#: live while the rest of the crowd is still arriving.
QUIET_SECONDS = 2.0
#: The route (under the server's base URL) a page posts its token to once painted.
ROUTE = "ecc/painted/"


class PaintGate:
    """First paints out and not yet painted, by token."""

    def __init__(
        self,
        stall: float = STALL_SECONDS,
        cap: float = CAP_SECONDS,
        quiet: float = QUIET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stall = stall
        self.cap = cap
        self.quiet = quiet
        self._clock = clock
        self._out: dict[str, float] = {}  # token -> when its first paint was sent
        self._sent: dict[str, float] = {}  # the same for the last `quiet` seconds, painted or not
        self._browser: dict[str, str] = {}  # token -> the browser it was sent to ('' unknown)
        self._progress = clock()  # when a first paint was last sent or painted
        self._changed = asyncio.Event()

    def issue(self, browser: str = "") -> str:
        """A token for a first paint being sent now to ``browser`` (an id the browser keeps
        across its pages; a person moving from page to page is not a crowd)."""
        self._prune()
        token = secrets.token_urlsafe(16)
        self._out[token] = self._sent[token] = self._progress = self._clock()
        self._browser[token] = browser
        return token

    def _other(self, token: str, besides: str | None) -> bool:
        """Whether ``token`` is another browser's than ``besides``'s."""
        if besides is None:
            return True
        if token == besides:
            return False
        mine = self._browser.get(besides, "")
        return not mine or self._browser.get(token, "") != mine

    def painted(self, token: str) -> bool:
        """The browser has painted the first paint of ``token`` (False: unknown token)."""
        if self._out.pop(token, None) is None:
            return False
        self._progress = self._clock()
        self._changed.set()
        self._changed = asyncio.Event()
        return True

    def pending(self, besides: str | None = None) -> int:
        """First paints out and not painted that still hold the others."""
        self._prune()
        return sum(1 for token in self._out if self._other(token, besides))

    def arriving(self, besides: str | None = None) -> float:
        """When the crowd stops arriving: ``quiet`` seconds after the latest other first
        paint was sent (0 when none was sent that recently)."""
        latest = max((at for t, at in self._sent.items() if self._other(t, besides)), default=None)
        return 0.0 if latest is None else latest + self.quiet

    async def settle(self, token: str) -> None:
        """Until ``token``'s own numbers are on screen (or ``quiet`` seconds have passed
        since they were sent), no other viewer's first paint is pending and none was sent
        in the last ``quiet`` seconds; at most ``cap`` seconds after ``token``'s was sent.
        Waiting for one's own paint first lets the rest of a crowd arrive meanwhile."""
        sent = self._out.get(token, self._clock())
        deadline = sent + self.cap
        own_by = min(deadline, sent + self.quiet)
        while token in self._out and self._clock() < own_by:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, own_by - self._clock()))
        while self.pending(besides=token) or self._clock() < self.arriving(besides=token):
            now = self._clock()
            if now >= deadline:
                return
            if not self.pending(besides=token):  # painted, but more may be arriving
                quiet_at = min(deadline, self.arriving(besides=token))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), max(0.0, quiet_at - now))
                continue
            # wake when a paint is reported, the crowd stalls, or a token's cap is reached
            left = min(deadline, self._progress + self.stall, self._oldest(token) + self.cap)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, left - now))

    def _oldest(self, besides: str) -> float:
        return min(
            (at for token, at in self._out.items() if self._other(token, besides)), default=0.0
        )

    def _prune(self) -> None:
        now = self._clock()
        for token, at in list(self._sent.items()):
            if now - at >= self.quiet:
                del self._sent[token]
        for token in list(self._browser):
            if token not in self._out and token not in self._sent:
                del self._browser[token]
        stalled = now - self._progress >= self.stall
        for token, at in list(self._out.items()):
            if now - at >= self.cap or (stalled and now - at >= self.stall):
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
