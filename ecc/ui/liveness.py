"""Whether this server still holds a page: its stream, or its kernel.

A page whose server went away (a lost replica, :mod:`ecc.hub.replicas`) cannot always
tell by itself: a stream cut in the middle leaves the browser's document "loading" for
ever, and a kernel's websocket that closes may come back. So the page asks, through the
same address (the balancer sends the question to a live replica):
``GET <base>/ecc/alive/stream/<id>`` while the page is still loading (held: the server
is sending it, or has sent it), and
``GET <base>/ecc/alive/kernel/<kernel id>`` when its kernel's websocket closes. 204:
the server holds it, carry on; 404: nobody does, load the page again; no answer: no
server is up, keep waiting (the template's script).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict

from tornado import web

#: The route, under the server's base URL.
ROUTE = "ecc/alive/"


class Streams:
    """Page streams this server is sending or has sent, by id.

    A stream that has been sent is still held: the browser may take a while to read
    the last of it (a slow script before the end of the page), and must not take its
    own slowness for a lost server. The last :data:`KEEP` sent are remembered."""

    #: Sent streams remembered (a viewer's page reads the rest of its stream long before
    #: this many later pages have been sent).
    KEEP = 10_000

    def __init__(self) -> None:
        self._open: set[str] = set()
        self._sent: OrderedDict[str, None] = OrderedDict()

    def open(self) -> str:
        stream = secrets.token_urlsafe(12)
        self._open.add(stream)
        return stream

    def close(self, stream: str) -> None:
        if stream in self._open:
            self._open.discard(stream)
            self._sent[stream] = None
            while len(self._sent) > self.KEEP:
                self._sent.popitem(last=False)

    def __contains__(self, stream: object) -> bool:
        return stream in self._open or stream in self._sent


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
