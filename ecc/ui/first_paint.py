"""The numbers before the kernel: a page's first paint, rendered by the server from the
cache and streamed with Voilà's page.

A viewer who opens a dashboard used to see nothing until a kernel had run the page:
at once with a preheated kernel, after a cold start (seconds, tens of seconds when many
people arrive together) without one. When the view is in the pre-aggregated cache, the
dashboards server renders the page's header and body itself — the same functions the
kernel calls, so the same HTML, with ``data-metric``/``data-value`` — and puts it in the
page where the template's marker is (:data:`MARKER`). The page's head and this first
paint are sent at once, before Voilà has found or started a kernel (:class:`Prefixes`);
the rest of Voilà's page follows when the kernel is there. The widgets take the first
paint's place when the kernel has rendered them (the template's script removes it).

Rendered pages are kept per (page, view, data version, cache generation, and the alerts'
state for a page that counts them): a second
viewer of the same view gets the same HTML without any work, and a refresh makes new
ones. Several viewers arriving together for a view not yet rendered wait for one
rendering. Pages that act (the alerts page) and views that are not in the cache get no
first paint: their kernel does all the work, as before.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from html import escape
from inspect import isawaitable
from pathlib import Path
from typing import Any

from jupyter_server.utils import url_path_join
from sqlalchemy import Engine
from tornado import web

from . import body_cache, liveness
from .admission import RECHECK_SECONDS, Admission, from_environment
from .liveness import streams_of
from .paint_gate import ROUTE, gate_of

log = logging.getLogger("ecc.ui")
#: Where the template leaves room for the first paint.
MARKER = "<!--ecc-first-paint-->"
#: Where the part of the page that needs no kernel ends (after the first paint's script).
END = "<!--ecc-first-paint-end-->"
#: Rendered pages kept (the views people look at, across pages).
KEEP = 256
#: The cookie that tells one browser's page views from a crowd's (ecc.ui.paint_gate).
BROWSER_COOKIE = "ecc-browser"
#: Query keys that do not change what a page shows.
IGNORED = ("viewer", "viewer_role")


@cache
def _engine() -> Engine:
    from ..db import make_engine

    return make_engine(None)


class Renderer:
    """Renders first paints on one worker thread, each (page, view, cache state) once.

    When the cache changes (a refresh, or the server's first viewer), the default view
    of every other page is rendered too, in the background: the crowd that follows the
    landing page's links finds those pages ready."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecc-first-paint")
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple[str, ...], str | None] = OrderedDict()
        self._running: dict[tuple[str, ...], Future[str | None]] = {}
        self._warmed: tuple[str, str] | None = None
        self._warming: threading.Thread | None = None

    def render(self, page_name: str, query: str) -> str | None:
        """The page's header and body for ``query``, or None when the view is not in the
        cache, the page acts, or the view cannot be shown (the kernel says why)."""
        from .pages import load_all

        page = load_all().get(page_name)
        if page is None or page.live is not None:
            return None
        key = self._key(page_name, query)
        with self._lock:
            if self._warmed != key[2:4]:  # new data or cache: render the other pages ahead
                self._warmed = (key[2], key[3])
                others = [name for name in load_all() if name != page_name]
                self._warming = threading.Thread(target=self._warm, args=(others,), daemon=True)
                self._warming.start()
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = self._pool.submit(self._build, page_name, query)
        try:
            html = running.result()
        finally:
            with self._lock:
                if self._running.get(key) is running:
                    del self._running[key]
                    self._done[key] = running.result() if running.done() else None
                    while len(self._done) > KEEP:
                        self._done.popitem(last=False)
        return html

    def ready(self, page_name: str, query: str, timeout: float = 0) -> bool:
        """Whether the first paint of ``query`` is rendered for the cache as it is now,
        after waiting at most ``timeout`` seconds for the other pages' rendering ahead."""

        warming = self._warming
        if warming is not None:
            warming.join(timeout)
        key = self._key(page_name, query)
        with self._lock:
            return key in self._done

    @staticmethod
    def _key(page_name: str, query: str) -> tuple[str, ...]:
        """What a rendering is kept by: the page, the view, the data version and cache
        generation, and for a page that counts open alerts, the alerts' state (a count
        changes when someone acknowledges, without a new load)."""
        from .pages import load_all

        page = load_all().get(page_name)
        if page is None:
            return (page_name, _canonical(query))
        with _engine().connect() as conn:
            return (page_name, _canonical(query), *body_cache.state_of(conn, page))

    def _warm(self, names: list[str]) -> None:
        for name in names:
            try:
                self.render(name, "")
            except Exception:  # a viewer of that page gets the reason from the kernel
                log.debug("no first paint of %s ahead of its viewers", name, exc_info=True)

    def _build(self, page_name: str, query: str) -> str | None:
        from .app import numbers_region, render_header
        from .pages import build_context, load_all
        from .view import parse_query

        page = load_all()[page_name]
        try:
            with _engine().connect() as conn:
                ctx = build_context(conn, page, parse_query(query))
                if ctx.source not in ("cache", "redis"):
                    return None
                return (
                    f"{render_header(page, ctx)}"
                    "<div class='ecc-first-paint-bar' role='status'>Filters and exports "
                    "are loading\u2026</div>"
                    f"{numbers_region(body_cache.body(conn, page, ctx))}"
                )
        except Exception:  # the kernel shows the sentence; the page is served anyway
            log.debug("no first paint for %s?%s", page_name, query, exc_info=True)
            return None


def _canonical(query: str) -> str:
    """One key for every spelling of a view: no query and the default view's own are the
    same page (the landing page's links spell out what an address typed bare leaves
    out)."""
    from urllib.parse import parse_qsl, urlencode

    from .view import FILTER_KEYS, PAGE_KEYS, parse_query

    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in IGNORED]
    if all(k in (*FILTER_KEYS, *PAGE_KEYS) for k, _ in pairs):
        return urlencode(sorted(parse_query(dict(pairs)).params().items()))
    return urlencode(sorted(pairs))


@cache
def renderer() -> Renderer:
    """The process's renderer (one per dashboards server)."""
    return Renderer()


class Prefixes:
    """The part of each page's HTML up to :data:`END` (head, styles, spinner, the room for
    the first paint and its script), with :data:`MARKER` in it.

    Voilà renders it before the kernel is needed, but sends nothing until it has a kernel
    (a preheated one, or a cold start that takes seconds when many viewers arrive
    together). It depends only on the notebook, the template and the server's address.
    It is taken from the page a preheated kernel has rendered while waiting for its
    viewer, or else from the page's first response; every response checks it, and every
    viewer gets it at once, with the first paint, while their kernel is found."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def get(self, path: str, manager: Any = None) -> str | None:
        """The prefix of ``path``, if a response or a preheated kernel has shown it."""
        if path not in self._known and manager is not None:
            found = _from_pool(manager, path)
            if found is not None:
                self._known[path] = found
        return self._known.get(path)

    def derive(self, path: str, title: str, manager: Any = None) -> str | None:
        """A prefix for ``path`` from another page's: the pages' heads differ only in
        their title (the notebook's ``title``), so a page nobody has opened yet (no
        preheated kernel, no response) still sends its numbers at once. Its first
        response checks it, as every response does (:meth:`learn`)."""
        pools = getattr(manager, "_pools", None)
        for pooled in pools if isinstance(pools, dict) else ():  # the landing page's
            self.get(pooled, manager)
        for other in list(self._known.values()):
            head = other[: other.find("</head>")]  # the spinner's SVG has a title too
            start, end = head.find("<title>"), head.find("</title>")
            if start < 0 or end < start or head.count("<title>") != 1:
                continue
            derived = f"{other[: start + 7]}{escape(title, quote=False)}{other[end:]}"
            self._known[path] = derived
            return derived
        return None

    def learn(self, path: str, prefix: str) -> None:
        old = self._known.get(path)
        if old is not None and old != prefix:
            log.warning("the head of %s changed; later viewers get the new one", path)
        self._known[path] = prefix


def _from_pool(manager: Any, path: str) -> str | None:
    """The prefix in the page a preheated kernel of ``path`` has rendered so far."""
    pools = getattr(manager, "_pools", None)
    if not isinstance(pools, dict):
        return None
    for task in pools.get(path, []):
        if task.done() and not task.cancelled() and task.exception() is None:
            renderer = task.result().get("renderer")
            text = "".join(getattr(renderer, "rendered_cache", []))
            if END in text:
                return text[: text.index(END)]
    return None


def _wait_script(ahead: int, full: bool) -> str:
    """The page's note of its place in the line (the template's ``ecc_wait``)."""
    return f"<script>window.ecc_wait && ecc_wait({ahead}, {'true' if full else 'false'})</script>\n"


#: Voilà's response headers for a page (sent with the first paint, before Voilà sets them).
PAGE_HEADERS = {
    "Content-Type": "text/html",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}


class FirstPaint(web.RequestHandler):
    """Mixed in front of Voilà's page handler: the page's head and its first paint are
    sent at once, before Voilà has a kernel; Voilà's own stream then continues after the
    marker (its copy of the head is checked against the one sent, and dropped)."""

    _ecc_gone = False

    _ecc_token: str | None = None

    def on_connection_close(self) -> None:
        self._ecc_gone = True
        if self._ecc_token is not None:  # a tab closed before painting holds no one up
            gate_of(self.settings).painted(self._ecc_token)
        super().on_connection_close()

    async def get_generator(self, path: str | None = None) -> AsyncIterator[str]:
        parent: Any = super().get_generator(path)  # type: ignore[misc]
        if not (path and path.endswith(".ipynb") and await self._exists(path)):
            async for chunk in parent:  # Voilà's answer (a redirect, a 404)
                yield chunk
            return
        paint = await self._paint(path)
        prefixes = self._prefixes()
        known = prefixes.get(path, self.settings.get("kernel_manager"))
        if known is None:
            manager = self.settings.get("kernel_manager")
            known = prefixes.derive(path, await self._title(path), manager)
        gate = gate_of(self.settings)
        token = None
        base = self.settings.get("base_url", "/")
        streams = streams_of(self.settings)
        stream = streams.open()  # the page asks whether it is still being sent
        if known is not None and paint is not None:  # sent now: painted in a moment
            token = self._ecc_token = gate.issue(self._browser_id())
            told_at = url_path_join(base, ROUTE, token)
            alive_at = url_path_join(base, liveness.ROUTE, "stream", stream)
            paint = (
                f'<span hidden data-ecc-painted="{told_at}" data-ecc-stream="{alive_at}">'
                f"</span>{paint}"
            )
        try:
            async for chunk in self._page(parent, path, paint, known, token):
                yield chunk
        finally:
            streams.close(stream)

    def _browser_id(self) -> str:
        """The id this browser keeps across the command center's pages (a cookie, set
        here the first time): the paint gate tells a crowd from one person's clicks."""
        given = self.get_cookie(BROWSER_COOKIE) or ""
        if len(given) == 22 and given.replace("-", "").replace("_", "").isalnum():
            return given
        made = secrets.token_urlsafe(16)
        self.set_cookie(
            BROWSER_COOKIE,
            made,
            path=self.settings.get("base_url", "/"),
            httponly=True,
            samesite="Lax",
        )
        return made

    async def _page(
        self, parent: Any, path: str, paint: str | None, known: str | None, token: str | None
    ) -> AsyncIterator[str]:
        """The page: the head and first paint at once when known, then Voilà's stream
        once the crowd has painted and a kernel is free."""
        gate = gate_of(self.settings)
        if known is not None:
            for name, value in PAGE_HEADERS.items():
                self.set_header(name, value)
            yield known.replace(MARKER, paint or "", 1)
        if token is not None:  # the crowd's numbers first, then the widgets
            await gate.settle(token)
            if self._ecc_gone:
                return
        ticket = None
        if self._starts_a_kernel(path):
            ticket = self._admission().join()
            told = None
            while not ticket.admitted:
                if self._ecc_gone:  # the viewer left while waiting: start nothing
                    ticket.leave()
                    return
                if not self._starts_a_kernel(path):  # a preheated kernel came free
                    ticket.leave()
                    ticket = None
                    break
                if known is not None and ticket.place != told:
                    told = ticket.place
                    yield _wait_script(*told)
                await ticket.wait(RECHECK_SECONDS)
        try:
            async for chunk in self._after_prefix(parent, path, paint, known is not None):
                yield chunk
        finally:
            if ticket is not None:
                ticket.leave()

    async def _after_prefix(
        self, parent: Any, path: str, paint: str | None, sent: bool
    ) -> AsyncIterator[str]:
        """Voilà's page from the end of the prefix on (all of it when none was sent)."""
        seen, passing = "", False
        async for chunk in parent:
            if passing:
                yield chunk
                continue
            seen += chunk
            at = seen.find(END)
            if at < 0:
                continue
            head, rest = seen[:at], seen[at:]
            self._prefixes().learn(path, head)
            passing = True
            yield rest if sent else head.replace(MARKER, paint or "", 1) + rest
        if not passing and seen:  # a page without the marker (another template)
            yield seen

    def _starts_a_kernel(self, path: str) -> bool:
        """Whether this page would wait for a kernel to start: no preheated kernel of
        the page has finished its start (Voilà takes the oldest of the pool, ready or
        not, and starts another in its place)."""
        manager: Any = self.settings.get("kernel_manager")
        pools = getattr(manager, "_pools", None)
        if not isinstance(pools, dict):  # no pools (or another Voilà): always a start
            return True
        pool = pools.get(path, [])
        return not (pool and pool[0].done() and not pool[0].cancelled())

    async def _exists(self, path: str) -> bool:
        """Whether ``path`` names a notebook: an address typed to no page takes no place
        in the line for a kernel."""
        exists = self.contents_manager.file_exists(path)  # type: ignore[attr-defined]
        return bool(await exists if isawaitable(exists) else exists)

    async def _title(self, path: str) -> str:
        """The page's title as the template writes it: the notebook's ``title``, else
        its name."""
        model = self.contents_manager.get(path, content=True)  # type: ignore[attr-defined]
        if isawaitable(model):
            model = await model
        return str(model["content"].metadata.get("title", Path(path).stem))

    def _prefixes(self) -> Prefixes:
        """This server's page prefixes (kept in its settings)."""
        known: Prefixes = self.settings.setdefault("ecc_prefixes", Prefixes())
        return known

    def _admission(self) -> Admission:
        admission: Admission | None = self.settings.get("ecc_admission")
        if admission is None:
            admission = self.settings["ecc_admission"] = from_environment()
            manager: Any = self.settings.get("kernel_manager")
            if manager is not None:  # the budget the manager keeps (ecc.ui.kernels)
                admission.budget = getattr(manager, "kernel_budget", admission.budget)
                admission.running = lambda: len(manager.list_kernel_ids())
        return admission

    async def _paint(self, path: str) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                None, renderer().render, Path(path).stem, self.request.query
            )
        except Exception:
            log.exception("first paint of %s failed", path)
            return None
