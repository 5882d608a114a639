"""Local accounts: NativeAuthenticator, with its login page made to work on JupyterHub 6.

NativeAuthenticator 1.3 (the newest) keeps passwords as bcrypt hashes in the hub's
database and adds sign-up, authorization by an administrator and password changes. Its
login form handler predates JupyterHub 6: it times logins with ``self.statsd`` (gone in
JupyterHub 6), and its ``_render`` neither takes the arguments JupyterHub 6 passes when
it shows an error on the login form nor finds its template in the synchronous template
environment used then — so every login attempt failed with a 500. This
module keeps everything of NativeAuthenticator but that handler, which it replaces
with :class:`LoginForm` (same page, same messages).
"""

from __future__ import annotations

from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import TEMPLATE_DIR
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from tornado.escape import url_escape
from tornado.httputil import url_concat


class LoginForm(NativeLoginHandler):  # type: ignore[misc]
    """NativeAuthenticator's login page; errors (wrong password, not yet authorized,
    refused for want of a role) are shown on the form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # NativeAuthenticator adds its templates to the hub's async template environment
        # only; an error on the form is rendered with the synchronous one
        env = self.settings["jinja2_env_sync"]
        if not getattr(env, "_ecc_native_templates", False):
            env.loader = ChoiceLoader([env.loader, FileSystemLoader([TEMPLATE_DIR])])
            env._ecc_native_templates = True

    def _render(
        self,
        login_error: str | None = None,
        username: str | None = None,
        sync: bool = False,
        **ns: Any,
    ) -> Any:
        return self.render_template(
            "native-login.html",
            sync=sync,
            next=url_escape(self.get_argument("next", default="")),
            username=username,
            login_error=login_error,
            custom_html=self.authenticator.custom_html,
            login_url=self.settings["login_url"],
            enable_signup=self.authenticator.enable_signup,
            two_factor_auth=self.authenticator.allow_2fa,
            authenticator_login_url=url_concat(
                self.authenticator.login_url(self.hub.base_url),
                {"next": self.get_argument("next", "")},
            ),
        )

    async def post(self) -> None:
        data = {arg: self.get_argument(arg, strip=False) for arg in self.request.arguments}
        user = await self.login_user(data)
        if user:
            self._jupyterhub_user = user
            self.redirect(self.get_next_url(user))
            return
        username = data.get("username", "")
        error = "Invalid username or password."
        info = self.authenticator.get_user(username)
        if (
            info is not None
            and info.is_valid_password(data.get("password", ""))
            and not info.is_authorized
        ):
            error = f"User {username} has not been authorized by an administrator yet."
        self.finish(await self._render(login_error=error, username=username))


class EccNativeAuthenticator(NativeAuthenticator):  # type: ignore[misc]
    """NativeAuthenticator with :class:`LoginForm` as its login page."""

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        handlers: list[tuple[str, Any]] = super().get_handlers(app)
        return [(path, LoginForm if path == r"/login" else h) for path, h in handlers]
