"""The numbers before the kernel: a page's first paint, rendered by the server from the
cache and streamed with Voilà's page.

A viewer who opens a dashboard used to see nothing until a kernel had run the page:
at once with a preheated kernel, after a cold start (seconds, tens of seconds when many
people arrive together) without one. When the view is in the pre-aggregated cache, the
dashboards server renders the page's header and body itself — the same functions the
kernel calls, so the same HTML, with ``data-metric``/``data-value`` — and puts it in the
page Voilà streams, where the template's marker is (:data:`MARKER`). The widgets take
its place when the kernel has rendered them (the template's script removes it).

Rendered pages are kept per (page, view, data version, cache generation): a second
viewer of the same view gets the same HTML without any work, and a refresh makes new
ones. Several viewers arriving together for a view not yet rendered wait for one
rendering. Pages that act (the alerts page) and views that are not in the cache get no
first paint: their kernel does all the work, as before.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from tornado import web

log = logging.getLogger("ecc.ui")
#: Where the template leaves room for the first paint.
MARKER = "<!--ecc-first-paint-->"
#: Rendered pages kept (the views people look at, across pages).
KEEP = 256
#: Query keys that do not change what a page shows.
IGNORED = ("viewer",)


@cache
def _engine() -> Engine:
    from ..db import make_engine

    return make_engine(None)


class Renderer:
    """Renders first paints on one worker thread, each (page, view, cache state) once."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecc-first-paint")
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple[str, ...], str | None] = OrderedDict()
        self._running: dict[tuple[str, ...], Future[str | None]] = {}

    def render(self, page_name: str, query: str) -> str | None:
        """The page's header and body for ``query``, or None when the view is not in the
        cache, the page acts, or the view cannot be shown (the kernel says why)."""
        from ..cache.service import generation
        from .pages import load_all

        page = load_all().get(page_name)
        if page is None or page.live is not None:
            return None
        engine = _engine()
        with engine.connect() as conn:
            state = generation(conn)
        key = (page_name, _canonical(query), str(state[0]), str(state[1]))
        with self._lock:
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

    def _build(self, page_name: str, query: str) -> str | None:
        from .app import render_header
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
                    f"{page.render(ctx)}"
                )
        except Exception:  # the kernel shows the sentence; the page is served anyway
            log.debug("no first paint for %s?%s", page_name, query, exc_info=True)
            return None


def _canonical(query: str) -> str:
    from urllib.parse import parse_qsl, urlencode

    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in IGNORED]
    return urlencode(sorted(pairs))


@cache
def renderer() -> Renderer:
    """The process's renderer (one per dashboards server)."""
    return Renderer()


class FirstPaint(web.RequestHandler):
    """Mixed in front of Voilà's page handler: the first paint goes where the template's
    marker is, in the page Voilà streams."""

    async def get_generator(self, path: str | None = None) -> AsyncIterator[str]:
        paint: str | None = None
        if path and path.endswith(".ipynb"):
            loop = asyncio.get_running_loop()
            try:
                paint = await loop.run_in_executor(
                    None, renderer().render, Path(path).stem, self.request.query
                )
            except Exception:
                log.exception("first paint of %s failed", path)
        parent: Any = super().get_generator(path)  # type: ignore[misc]
        async for chunk in parent:
            if paint is not None and MARKER in chunk:
                chunk = chunk.replace(MARKER, paint, 1)
                paint = None
            yield chunk
