"""Whether this server still holds a page: its stream, or its kernel.

A page whose server went away (a lost replica, :mod:`ecc.hub.replicas`) cannot always
tell by itself: a stream cut in the middle leaves the browser's document "loading" for
ever, and a kernel's websocket that closes may come back. So the page asks, through the
same address (the balancer sends the question to a live replica):
``GET <base>/ecc/alive/stream/<id>`` while the page is still loading, and
``GET <base>/ecc/alive/kernel/<kernel id>`` when its kernel's websocket closes. 204:
the server holds it, carry on; 404: nobody does, load the page again; no answer: no
server is up, keep waiting (the template's script).
"""

from __future__ import annotations

import secrets

from tornado import web

#: The route, under the server's base URL.
ROUTE = "ecc/alive/"


class Streams:
    """Page streams this server is sending, by id."""

    def __init__(self) -> None:
        self._open: set[str] = set()

    def open(self) -> str:
        stream = secrets.token_urlsafe(12)
        self._open.add(stream)
        return stream

    def close(self, stream: str) -> None:
        self._open.discard(stream)

    def __contains__(self, stream: object) -> bool:
        return stream in self._open


def streams_of(settings: dict[str, object]) -> Streams:
    """The server's open streams (kept in its tornado settings)."""
    streams = settings.get("ecc_streams")
    if not isinstance(streams, Streams):
        streams = settings["ecc_streams"] = Streams()
    return streams


class AliveHandler(web.RequestHandler):
    """204 when this server holds the stream or kernel, 404 when it does not."""

    def get(self, kind: str, ident: str) -> None:
        if kind == "stream":
            held = ident in streams_of(self.settings)
        else:
            manager = self.settings.get("kernel_manager")
            held = manager is not None and ident in manager.list_kernel_ids()
        self.set_header("Cache-Control", "no-store")
        self.set_status(204 if held else 404)
        self.finish()


def route(base_url: str) -> tuple[str, type[AliveHandler]]:
    """The handler's rule for a server at ``base_url``."""
    pattern = base_url.rstrip("/") + "/" + ROUTE + r"(stream|kernel)/([A-Za-z0-9_\-]+)"
    return (pattern, AliveHandler)
