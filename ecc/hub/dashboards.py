"""The dashboards as one shared, preheated Voilà behind the hub (``ecc hub dashboards``).

The hub starts this as the managed service ``dashboards``. It is standalone Voilà —
the same notebooks, template and kernel pools as ``ecc serve`` — with JupyterHub's
OAuth in front of *every* route: pages, static files, the kernel API and both kinds of
websocket. Each request handler Voilà registers is wrapped so that, before anything
else runs, the request must carry the hub's token for this service (its cookie after
the OAuth handshake, or an ``Authorization: token`` header) and that token must hold
the service's access scope (``access:services!service=dashboards``, which only the vp
and admin groups have). Otherwise:

- a page visit without a session goes through the hub's login (OAuth redirect);
- any other request without a session — static files, API, websockets — gets 403;
- a signed-in person without the scope gets 403 with a page that says why.

Two routes have no gate: the OAuth callback, and the beacon a page posts once its
numbers are painted (:mod:`ecc.ui.paint_gate`), whose random, one-time token is its
proof and which can do nothing but end another viewer's short wait.

A request let through carries the person's hub name as its ``viewer`` query parameter
(set here, whatever the address said; an address naming someone else is refused), which
is how a page knows who acknowledges an alert.

Voilà binds to 127.0.0.1 and there is no second, unguarded port: the check lives in
the one process that serves. (An authenticating reverse proxy in front of a plain
Voilà would leave that Voilà reachable by anything on the machine — including an
analyst's JupyterLab terminal — so the check is placed inside instead.)
"""

from __future__ import annotations

import hashlib
import hmac
import html
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from inspect import isawaitable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.escape import parse_qs_bytes
from tornado.httputil import url_concat
from tornado.log import app_log

from .. import variables
from ..config import database_url
from ..db_roles import dashboards_url
from ..paths import notebooks_dir
from ..ui import body_cache, liveness, paint_gate, template_cache
from ..ui.first_paint import FirstPaint
from ..ui.pools import LANDING_PAGE
from ..ui.serve import refresher, voila_command, voila_env
from ..ui.view import ROLE_KEY, VIEWER_KEY
from ..ui.voila_app import KernelProofGate
from .replicas import REPLICA, replicas_wanted, run_tier
from .roles import ADMIN, VP
from .settings import DASHBOARDS

#: The landing page, relative to the service prefix.
LANDING = f"voila/render/{LANDING_PAGE}.ipynb"
#: The query parameter that names who is looking.
VIEWER = VIEWER_KEY


def _role(user: dict[str, Any]) -> str:
    """The command-center role of a signed-in person: admin when in the admin group."""
    return ADMIN if ADMIN in (user.get("groups") or []) else VP


class HubGate(web.RequestHandler):
    """Mixed in front of each Voilà handler: the hub's check runs first."""

    async def prepare(self) -> None:
        auth: HubOAuth = self.settings["ecc_hub_auth"]
        user = await auth.get_user(self, sync=False)
        if user is None:
            if self._is_page_visit():
                self._login()
            else:
                self._refuse(
                    "Sign in first",
                    "This address needs a signed-in session of the command center.",
                )
            return
        if not auth.check_scopes(auth.access_scopes, user):
            app_log.warning(
                "refused %s %s to %s", self.request.method, self.request.path, user.get("name")
            )
            self._refuse(
                "Not for your role",
                f"{user.get('name', 'This account')} is signed in, but the command-center "
                "dashboards are for the vp and admin roles only.",
            )
            return
        rendering = "/voila/render/" in self.request.path
        if rendering and not self._set_viewer(str(user.get("name", "")), _role(user)):
            return
        if self._is_page_visit():
            # Voilà's page posts its kernel's shutdown on unload with the _xsrf cookie:
            # set it now (the hub's kind, tied to this session) so that post is accepted.
            self.xsrf_token  # noqa: B018
        parent = super().prepare()
        if isawaitable(parent):
            await parent

    def _set_viewer(self, name: str, role: str) -> bool:
        """Name the signed-in person as the page's ``viewer`` (what an acknowledgement
        records, ``ecc.ui.viewer``) and their role as ``viewer_role`` (an admin manages
        everyone's shared links): set on every page request, in place, so Voilà hands them
        to the kernel with the rest of the query. One naming someone else is refused; a
        role in the address is replaced by the session's."""
        given = self.request.query_arguments.get(VIEWER, [])
        if any(v.decode(errors="replace") != name for v in given):
            self._refuse(
                "Not your name",
                f"This address names another viewer; you are signed in as {name}. "
                "Remove viewer= from the address.",
            )
            return False
        pairs = [(k, v) for k, v in parse_qsl(self.request.query, keep_blank_values=True)]
        query = urlencode(
            [
                *((k, v) for k, v in pairs if k not in (VIEWER, ROLE_KEY)),
                (VIEWER, name),
                (ROLE_KEY, role),
            ]
        )
        self.request.query = query
        self.request.uri = f"{self.request.path}?{query}"
        self.request.query_arguments = parse_qs_bytes(query, keep_blank_values=True)
        self.request.arguments = {**self.request.body_arguments}
        for key, values in self.request.query_arguments.items():
            self.request.arguments.setdefault(key, []).extend(values)
        return True

    def _is_page_visit(self) -> bool:
        mode = self.request.headers.get("Sec-Fetch-Mode", "navigate")
        return (
            self.request.method in ("GET", "HEAD")
            and mode == "navigate"
            and ("websocket" not in self.request.headers.get("Upgrade", "").lower())
        )

    def _login(self) -> None:
        auth: HubOAuth = self.settings["ecc_hub_auth"]
        params: dict[str, str] = {}
        verifier = None
        if auth.pkce_enabled:
            verifier, challenge, method = auth.generate_pkce_code_challenge()
            params.update(code_challenge=challenge, code_challenge_method=method)
        params["state"] = auth.set_state_cookie(
            self, next_url=self.request.uri, code_verifier=verifier
        )
        self.redirect(url_concat(auth.login_url, params))

    def _refuse(self, title: str, text: str) -> None:
        self.clear()
        self.set_status(403)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        hub = self.settings["ecc_hub_prefix"]
        self.finish(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
            "margin:15vh auto;max-width:36em;color:#1f2933}}</style></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
            f"<p><a href='{html.escape(hub)}home'>Your hub home page</a></p></body></html>"
        )


class OAuthCallback(HubOAuthCallbackHandler):  # type: ignore[misc]
    """Completes the hub's OAuth handshake (the only route without the gate)."""

    def initialize(self, hub_auth: HubOAuth) -> None:
        self.hub_auth = hub_auth


class Landing(web.RequestHandler):
    """The service's root: the portfolio page."""

    def get(self) -> None:
        self.redirect(url_path_join(self.settings["base_url"], LANDING))


_gated: dict[type[Any], type[Any]] = {}


def gated(handler: type[Any]) -> type[Any]:
    """``handler`` with :class:`HubGate` in front of it (one class per handler), or
    :class:`~ecc.ui.voila_app.KernelProofGate` for the preheated kernels' own websocket."""
    from voila.handler import VoilaHandler
    from voila.request_info_handler import RequestInfoSocketHandler

    if handler not in _gated:
        if issubclass(handler, RequestInfoSocketHandler):
            bases: tuple[type[Any], ...] = (KernelProofGate, handler)
        elif issubclass(handler, VoilaHandler):  # pages: the first paint from the cache
            bases = (HubGate, FirstPaint, handler)
        else:
            bases = (HubGate, handler)
        _gated[handler] = type(f"Gated{handler.__name__}", bases, {})
    return _gated[handler]


def cookie_secret(api_token: str) -> bytes:
    """The key the service signs its cookies with (the hub's OAuth cookie among them):
    derived from the service's hub token, so every replica of the service, and the same
    service after a restart, accepts the cookies another one set (ecc.hub.replicas)."""
    return hmac.new(api_token.encode(), b"ecc dashboards cookies", hashlib.sha256).digest()


def _voila_class(api_token: str) -> type[Any]:
    from voila.app import Voila

    class HubVoila(Voila):  # type: ignore[misc]
        """Voilà whose every route is behind the hub (see the module docstring)."""

        def init_settings(self) -> dict[str, Any]:
            self.cookie_secret = cookie_secret(api_token)
            settings: dict[str, Any] = super().init_settings()
            # the service's hub token lives here only: kernels (started with this
            # process's environment, cut down by ``main``) do not get it
            auth = HubOAuth(api_token=api_token, cache_max_age=60)
            settings["ecc_hub_auth"] = auth
            settings["ecc_hub_prefix"] = auth.hub_prefix
            self.ecc_hub_auth = auth
            # the hub stops a service with SIGINT first: stop at once, as on SIGTERM
            signal.signal(signal.SIGINT, self._handle_signal_stop)
            return settings

        def stop(self) -> None:
            """Shut the kernels down too: they run in sessions of their own and would
            outlive the service (here a dead parent is not noticed by the kernels)."""
            try:
                done = self.kernel_manager.shutdown_all(now=True)
                if isawaitable(done):
                    self.ioloop.run_sync(lambda: done, timeout=20)
            except Exception:  # stopping anyway; say what was left
                app_log.exception("could not shut every kernel down")
            super().stop()

        def init_handlers(self) -> list[Any]:
            prefix = self.server_url
            handlers: list[Any] = [
                (
                    url_path_join(prefix, "oauth_callback"),
                    OAuthCallback,
                    {"hub_auth": self.ecc_hub_auth},
                ),
                (prefix.rstrip("/") + "/?", gated(Landing)),
                paint_gate.route(prefix),  # a beacon whose token is its proof
                (liveness.route(prefix)[0], gated(liveness.AliveHandler)),
            ]
            for rule in super().init_handlers():
                pattern, handler, *rest = rule
                if not pattern.startswith(prefix):  # Voilà's /login, /logout: keep them inside
                    pattern = url_path_join(prefix, pattern)
                handlers.append((pattern, gated(handler), *rest))
            return handlers

    return HubVoila


def service_argv(env: Mapping[str, str]) -> list[str]:
    """Voilà's arguments for the service, from what the hub tells a managed service."""
    url = urlsplit(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8867"))
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{DASHBOARDS}/")
    notebooks = variables.value("ECC_NOTEBOOKS", env) or str(notebooks_dir())
    cmd = voila_command(
        Path(notebooks).resolve(),
        port=url.port or 8867,
        ip=url.hostname or "127.0.0.1",
        pool_size=int(variables.value("ECC_DASHBOARDS_POOL_SIZE", env)),
        base_url=prefix,
    )
    # behind the hub, XSRF is checked (the hub's tokens); Voilà's config turns it off
    return [*cmd[1:], "--Voila.tornado_settings={'disable_check_xsrf': False}"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the service (the hub's managed-service command)."""
    missing = [n for n in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_CLIENT_ID") if not os.environ.get(n)]
    if missing:
        sys.exit(
            f"ecc hub dashboards: {', '.join(missing)} not set — this runs as a JupyterHub "
            "service (jupyterhub -f jupyterhub_config.py starts it); use `ecc serve` without a hub"
        )
    full = dict(os.environ)
    if replicas_wanted(full) > 1 and REPLICA not in full:  # the balancer and the replicas
        sys.exit(run_tier(full))
    args = list(argv) if argv is not None else service_argv(full)
    # Voilà starts its kernels with its own environment: from here on, this process holds
    # only what a kernel may see (no hub token, no SMTP settings, no share-link key, on
    # PostgreSQL the dashboards' read-and-acknowledge role); the refresher's child
    # `ecc refresh` gets the service's whole environment
    os.environ.clear()
    data_url = variables.value("ECC_DATABASE_URL", full) or database_url(None)
    os.environ.update(voila_env(dashboards_url(data_url, full), full))
    minutes = int(variables.value("ECC_REFRESH_EVERY", full) or 0)
    scheduler = refresher(None, minutes, env=full) if minutes > 0 else None
    template_cache.install(template_cache.SharedBytecode())
    try:
        with body_cache.shared_folder():  # the pages drawn, shared with the kernels
            _voila_class(full["JUPYTERHUB_API_TOKEN"]).launch_instance(argv=args)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
