"""``ecc share serve``: answers ``GET /share/<token>`` with a frozen report and
``GET /view/<token>`` with a view shared from a page (its frozen copy, or the live view
computed from the cache), and nothing else — no kernel, no dashboard, no file system, no
other path (404)."""

from __future__ import annotations

import asyncio
import html

import tornado.ioloop
import tornado.web
from sqlalchemy import Engine
from tornado.log import app_log

from .links import LinkRefused, open_link
from .views import PATH, open_view

#: The snapshot is self-contained HTML with inline styles and SVG: nothing else may load.
#: A frozen page is styles, text and inline images: no script, no form, no frame, no base
#: URL, and a sandbox (a unique origin) — it cannot act on the hub's address.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "form-action 'none'; base-uri 'none'; sandbox"
)


def _secure(handler: tornado.web.RequestHandler) -> None:
    handler.set_header("Content-Security-Policy", CSP)
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.set_header("Referrer-Policy", "no-referrer")
    handler.set_header("Cache-Control", "no-store")
    handler.set_header("X-Robots-Tag", "noindex")


class ShareHandler(tornado.web.RequestHandler):
    def initialize(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, token: str) -> None:
        _secure(self)
        try:
            body = open_link(self.engine, token)
        except LinkRefused as refused:
            self.set_status(403)
            self.finish(_page("Link not available", refused.reason))
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(body)


class ViewHandler(tornado.web.RequestHandler):
    def initialize(self, engine: Engine) -> None:
        self.engine = engine

    async def get(self, token: str) -> None:
        _secure(self)
        if self.request.query:  # a shared view is its own page and filters, nothing else
            self.set_status(403)
            self.finish(
                _page(
                    "Link not available",
                    "A shared link shows the one view it was made for: its page, period and "
                    "filters cannot be changed. Open it without anything after its address.",
                )
            )
            return
        loop = tornado.ioloop.IOLoop.current()
        try:  # a live view computes its page: off the loop, other holders keep being served
            body = await loop.run_in_executor(None, open_view, self.engine, token)
        except LinkRefused as refused:
            self.set_status(403)
            self.finish(_page("Link not available", refused.reason))
            return
        except Exception:  # the holder sees a sentence; the log has the details
            app_log.exception("a shared view could not be shown")
            self.set_status(503)
            self.finish(
                _page(
                    "Not available right now",
                    "This view could not be shown just now. Try again in a few minutes.",
                )
            )
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(body)


class NotFound(tornado.web.RequestHandler):
    def prepare(self) -> None:
        _secure(self)
        self.set_status(404)
        self.finish(_page("Not found", "There is nothing here."))


def _page(title: str, text: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
        "margin:15vh auto;max-width:36em;color:#1f2933}}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )


def make_app(engine: Engine, prefix: str = "/") -> tornado.web.Application:
    """``prefix``: the path the server is reached under (``/services/links/`` behind the hub)."""
    base = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    return tornado.web.Application(
        [
            (base + r"share/([A-Za-z0-9_.\-]+)", ShareHandler, {"engine": engine}),
            (base + PATH + r"/([A-Za-z0-9_\-]{16,64})", ViewHandler, {"engine": engine}),
        ],
        default_handler_class=NotFound,
        xsrf_cookies=False,
        serve_traceback=False,
    )


def serve(engine: Engine, *, port: int, address: str = "127.0.0.1", prefix: str = "/") -> None:
    async def main() -> None:
        make_app(engine, prefix).listen(port, address=address)
        path = ("/" + prefix.strip("/") + "/").replace("//", "/")
        print(f"Share links: http://{address}:{port}{path}share/<token>", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
