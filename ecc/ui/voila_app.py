"""The dashboards' Voilà for ``ecc serve`` (no login), and the gates both servers share.

``ecc serve`` listens on 127.0.0.1 only and has no login of its own, so two things keep
other sites and local processes out of it:

- **a Host check**: a request whose ``Host`` is not a loopback address or ``localhost``
  is refused (403), so a web page the user visits cannot reach it by DNS rebinding;
- **XSRF on**: a page visit sets Voilà's ``_xsrf`` cookie, which the page's own posts
  (closing a tab shuts its kernel down) carry back; a post from anywhere else lacks it.

The preheated kernels' query channel (``voila/query/<kernel id>``) opens only for the
kernel with its proof (:class:`KernelProofGate`, :mod:`ecc.ui.query_channel`), here and
behind the hub (:mod:`ecc.hub.dashboards`).
"""

from __future__ import annotations

from collections.abc import Sequence
from inspect import isawaitable
from typing import Any

from tornado import web
from tornado.log import app_log

from . import body_cache, liveness, paint_gate, query_channel, template_cache
from .first_paint import FirstPaint

#: What ``ecc serve`` adds to Voilà's tornado settings.
LOCAL_SETTINGS = {"allow_remote_access": False, "disable_check_xsrf": False}


class KernelProofGate(web.RequestHandler):
    """In front of Voilà's ``voila/query/<kernel id>`` websocket, which hands a page's
    request (its query string and the viewer's name) to the preheated kernel that will
    render it. Only that kernel may open it: the request must carry the kernel's proof
    (an HMAC of the id keyed with the kernel's session key, which a local process reading
    kernel ids from ``ps`` does not have), must not come through a proxy
    (X-Forwarded-For), must name a kernel of this server, and that kernel must not have
    its connection already."""

    async def prepare(self) -> None:
        from voila.request_info_handler import RequestInfoSocketHandler

        kernel_id = self.path_kwargs.get("kernel_id", "")
        manager = self.settings["kernel_manager"]
        known = kernel_id in manager.list_kernel_ids()
        key = bytes(manager.get_kernel(kernel_id).session.key or b"") if known else b""
        given = self.get_query_argument(query_channel.PROOF, "")
        if (
            "X-Forwarded-For" in self.request.headers
            or not known
            or not query_channel.verify(key, kernel_id, given)
            or kernel_id in RequestInfoSocketHandler._waiters
        ):
            app_log.warning("refused %s (not a kernel waiting for it)", self.request.path)
            self.set_status(403)
            self.finish("Forbidden")
            return
        parent = super().prepare()
        if isawaitable(parent):
            await parent


class XsrfOnPages(web.RequestHandler):
    """Sets the ``_xsrf`` cookie on a page visit, for the page's own posts."""

    async def prepare(self) -> None:
        parent = super().prepare()  # Jupyter's: the Host check and who is asking
        if isawaitable(parent):
            await parent
        if self.request.method in ("GET", "HEAD") and not self._finished:
            self.xsrf_token  # noqa: B018  (reading it sets the cookie)


_gated: dict[type[Any], type[Any]] = {}


def local_gate(handler: type[Any]) -> type[Any]:
    """``handler`` behind the gate it needs in ``ecc serve`` (one class per handler)."""
    from voila.handler import VoilaHandler
    from voila.request_info_handler import RequestInfoSocketHandler

    if handler not in _gated:
        if issubclass(handler, RequestInfoSocketHandler):
            _gated[handler] = type(f"Proven{handler.__name__}", (KernelProofGate, handler), {})
        elif issubclass(handler, VoilaHandler):  # pages: the first paint from the cache
            bases = (XsrfOnPages, FirstPaint, handler)
            _gated[handler] = type(f"Xsrf{handler.__name__}", bases, {})
        else:
            _gated[handler] = handler
    return _gated[handler]


def main(argv: Sequence[str] | None = None) -> None:
    """Run Voilà with the gates (``python -m ecc.ui.voila_app NOTEBOOKS [Voilà options]``)."""
    from voila.app import Voila

    template_cache.install(template_cache.SharedBytecode())

    class LocalVoila(Voila):  # type: ignore[misc]
        def init_handlers(self) -> list[Any]:
            rules = [(rule[0], local_gate(rule[1]), *rule[2:]) for rule in super().init_handlers()]
            return [paint_gate.route(self.base_url), liveness.route(self.base_url), *rules]

        def start(self) -> None:
            settings: dict[str, Any] = dict(getattr(self, "tornado_settings", {}))
            setattr(self, "tornado_settings", {**settings, **LOCAL_SETTINGS})  # noqa: B010
            super().start()

    with body_cache.shared_folder():  # the pages drawn, shared with the kernels
        LocalVoila.launch_instance(argv=list(argv) if argv is not None else None)


if __name__ == "__main__":  # pragma: no cover
    main()
