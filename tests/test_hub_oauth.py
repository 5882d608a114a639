"""Production login (``ECC_HUB_AUTH=oauth``) end to end: the hub, through
GenericOAuthenticator, against a small OAuth 2 provider on loopback that plays the
company's identity provider (a sign-in form, authorization codes, tokens, a userinfo
answer with a ``groups`` claim). The provider's groups, mapped by
``ECC_OAUTH_ROLE_GROUPS``, decide: a member of "CS Leadership" lands on the command
center; a member of "Sales" only is refused with the reason; an analyst gets JupyterLab.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import tornado.web

from tests.support.builders import demo_sqlite
from tests.support.hubstack import Stack, hub_stack, need_proxy
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, LIVE_KPI, SHOTS, free_port, need_chromium

pytestmark = pytest.mark.slow  # in the "servers" xdist group (conftest.py)
TODAY = date(2026, 11, 24)
PEOPLE = {
    "ann": ["CS Leadership", "Everyone"],
    "bob": ["Sales", "Everyone"],
    "cat": ["CS Analysts"],
}


class Provider:
    """The identity provider's state: codes and tokens it has issued."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}


class Authorize(tornado.web.RequestHandler):
    def initialize(self, idp: Provider) -> None:
        self.idp = idp

    def get(self) -> None:
        hidden = "".join(
            f"<input type='hidden' name='{k}' value='{self.get_argument(k)}'>"
            for k in ("redirect_uri", "state")
        )
        self.finish(
            "<!doctype html><title>Company sign-in</title><form method='post'>"
            f"{hidden}<input name='who'><button type='submit'>Sign in</button></form>"
        )

    def post(self) -> None:
        code = secrets.token_urlsafe(16)
        self.idp.codes[code] = self.get_argument("who")
        query = urlencode({"code": code, "state": self.get_argument("state")})
        self.redirect(f"{self.get_argument('redirect_uri')}?{query}")

    def check_xsrf_cookie(self) -> None:
        return None


class Token(tornado.web.RequestHandler):
    def initialize(self, idp: Provider) -> None:
        self.idp = idp

    def post(self) -> None:
        who = self.idp.codes.pop(self.get_argument("code"), None)
        if who is None:
            self.set_status(400)
            self.finish({"error": "invalid_grant"})
            return
        token = secrets.token_urlsafe(16)
        self.idp.tokens[token] = who
        self.finish({"access_token": token, "token_type": "Bearer", "scope": "openid groups"})


class UserInfo(tornado.web.RequestHandler):
    def initialize(self, idp: Provider) -> None:
        self.idp = idp

    def get(self) -> None:
        token = self.request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        who = self.idp.tokens.get(token)
        if who is None:
            self.set_status(401)
            self.finish({"error": "invalid_token"})
            return
        self.finish(json.dumps({"preferred_username": who, "groups": PEOPLE.get(who, [])}))


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[str]:
    port = free_port()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            idp = Provider()
            app = tornado.web.Application(
                [
                    ("/authorize", Authorize, {"idp": idp}),
                    ("/token", Token, {"idp": idp}),
                    ("/userinfo", UserInfo, {"idp": idp}),
                ]
            )
            server = app.listen(port, address="127.0.0.1")
            holder["stop"] = asyncio.Event()
            holder["loop"] = asyncio.get_running_loop()
            ready.set()
            await holder["stop"].wait()
            server.stop()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the provider did not start within 10 s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
        assert not thread.is_alive(), "the provider did not stop within 10 s"


@pytest.fixture(scope="module")
def stack(identity_provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    need_chromium()
    need_proxy()
    folder = tmp_path_factory.mktemp("hub-oauth")
    db_url = demo_sqlite(folder, customers=200, seed=5, today=TODAY)
    env = {
        "ECC_HUB_AUTH": "oauth",
        "ECC_OAUTH_CLIENT_ID": "ecc-hub",
        "ECC_OAUTH_CLIENT_SECRET": secrets.token_hex(16),
        "ECC_OAUTH_AUTHORIZE_URL": f"{identity_provider}/authorize",
        "ECC_OAUTH_TOKEN_URL": f"{identity_provider}/token",
        "ECC_OAUTH_USERDATA_URL": f"{identity_provider}/userinfo",
        "ECC_OAUTH_ROLE_GROUPS": "vp=CS Leadership,analyst=CS Analysts",
    }
    with hub_stack(db_url, folder, extra_env=env) as s:
        yield s


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def sign_in(browser: Any, stack: Stack, who: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{stack.url}/hub/oauth_login")  # the hub's login sends people to the IdP
    page.fill("input[name=who]", who)
    with page.expect_navigation(timeout=180_000):
        page.click("[type=submit]")
    return page


def test_a_member_of_the_vp_group_at_the_provider_lands_on_the_command_center(
    browser: Any, stack: Stack
) -> None:
    page = sign_in(browser, stack, "ann")
    page.wait_for_selector(LIVE_KPI, timeout=180_000)
    assert "/services/dashboards/voila/render/summary.ipynb" in page.url
    groups = page.context.request.get(f"{stack.url}/hub/api/user")
    assert sorted(groups.json()["groups"]) == ["Everyone", "vp"]  # the claim, mapped
    page.context.close()


def test_a_member_of_other_groups_only_is_refused_with_the_reason(
    browser: Any, stack: Stack
) -> None:
    page = sign_in(browser, stack, "bob")
    text = page.inner_text("body")
    assert "none of the command center's roles" in text
    assert "Sales" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "hub-oauth-refused.png"))
    page.goto(stack.dashboards)
    assert "data-metric" not in page.content(), page.url  # no numbers, wherever it landed
    page.context.close()


def test_an_analyst_at_the_provider_gets_jupyterlab(browser: Any, stack: Stack) -> None:
    page = sign_in(browser, stack, "cat")
    page.wait_for_url("**/user/cat/lab**", timeout=180_000)
    page.wait_for_selector(".jp-LabShell", timeout=180_000)
    assert page.goto(stack.dashboards + "voila/render/portfolio.ipynb").status == 403
    page.context.close()


def test_the_provider_secret_stays_with_the_hub(stack: Stack) -> None:
    from tests.support.hubstack import _ours

    secret = stack.env["ECC_OAUTH_CLIENT_SECRET"].encode()
    hub_pid = int((stack.hub_dir / "jupyterhub.pid").read_text())
    inspected = []
    for pid in _ours(stack.hub_dir):
        if pid == hub_pid:
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"ecc" in cmdline and b"hub\x00start" in cmdline:
            continue  # the launcher has the hub's environment
        assert secret not in environ, cmdline
        inspected.append(cmdline)
    # the proxy and the services at least (a loop over nothing would prove nothing)
    assert len(inspected) >= 3, inspected
