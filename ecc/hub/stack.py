"""``ecc hub start``: the whole stack in the foreground as one unit — JupyterHub, its
proxy and the services listed in ``jupyterhub_config.py`` — with one demo account per
role.

Before anything starts, what would make a part fail is checked and said in one line
(the proxy's installation, the database and its schema, every port). Then the hub
starts under a :class:`~ecc.launch.Launch`: a progress line says how far the stack has
come (``starting: hub ✓ proxy ✓ dashboards 9/13 kernels``), and the address and the
logins are printed once, when they work — the hub answers through the proxy, every
preheated page is waiting for a viewer and, signed in as a demo user, the landing page
renders. If the hub or any service dies, or on Ctrl-C or SIGTERM, everything stops:
services, proxy, kernels.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

from .. import paths, variables
from ..errors import ConfigError
from ..launch import Launch, Warmup
from ..lifetime import port_taken
from ..ui import admission
from ..ui.pools import LANDING_PAGE
from ..ui.serve import page_renders, preheated_pages
from .logins import add_account, hub_running, write_logins
from .roles import ADMIN, ROLES, VP
from .settings import HubSettings, check_proxy, venv_bin

CONFIG = Path(__file__).with_name("jupyterhub_config.py")
#: How long the stack may take to be ready before the start is given up.
START_TIMEOUT = 900.0


def demo_accounts(settings: HubSettings) -> dict[str, str]:
    """One account per role, named after it, each with a new password."""
    logins = {role: add_account(settings, role, [role]) for role in ROLES}
    write_logins(settings.hub_dir / "demo-logins.txt", logins)
    return logins


def ports(settings: HubSettings, env: dict[str, str]) -> list[tuple[str, int, str]]:
    """Every address the stack listens on: (host, port, what and the setting that moves it)."""
    out = [
        (settings.ip, settings.port, "the hub's address (ECC_HUB_URL)"),
        ("127.0.0.1", settings.api_port, "the hub's API (ECC_HUB_API_PORT)"),
        ("127.0.0.1", settings.proxy_api_port, "the proxy's API (ECC_HUB_PROXY_API_PORT)"),
        ("127.0.0.1", settings.dashboards_port, "the dashboards (ECC_DASHBOARDS_PORT)"),
        ("127.0.0.1", settings.share_port, "the share links (ECC_SHARE_PORT)"),
    ]
    sink = variables.value("ECC_MAIL_SINK_PORT", env)
    if sink.isdigit():
        out.append(("127.0.0.1", int(sink), "the mail sink (ECC_MAIL_SINK_PORT)"))
    return out


def preflight(settings: HubSettings, env: dict[str, str]) -> None:
    """Raise ConfigError, with the fix, for what would stop a part of the stack."""
    from ..db import check_schema, make_engine

    check_proxy()
    admission.from_environment(env)  # the dashboards' kernel settings, said now
    running = hub_running(settings)
    if running:
        raise ConfigError(f"a hub already runs for {settings.hub_dir} (pid {running})")
    for host, port, what in ports(settings, env):
        if port_taken(host, port):
            raise ConfigError(
                f"port {port} on {host}, {what}, is taken by another process: stop it "
                f"(`ss -ltnp 'sport = :{port}'` names it) or set the variable to a free port"
            )
    engine = make_engine(settings.data_url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()


class HubWatch:
    """How far the stack has come, and whether it is ready for people."""

    def __init__(self, settings: HubSettings, launch: Launch, logins: dict[str, str]) -> None:
        self.settings = settings
        self.login = next(((n, logins[n]) for n in (VP, ADMIN) if n in logins), None)
        pools = {  # every replica keeps its own pools, and says so in the log
            page: count * settings.replicas
            for page, count in preheated_pages(settings.notebooks, settings.pool_size).items()
        }
        self.warmup = Warmup(launch, pools, LANDING_PAGE)
        self.hub = self.proxy = False

    def progress(self) -> str:
        mark = {True: "✓", False: "…"}
        parts = [f"hub {mark[self.hub]}", f"proxy {mark[self.proxy]}", self.warmup.text()]
        if self.login:
            parts.append(f"signed-in landing page {mark[self.warmup.loaded]}")
        return "starting: " + "  ".join(parts)

    def ready(self) -> bool:
        if not self.hub:
            self.hub = answers(f"http://127.0.0.1:{self.settings.api_port}/hub/api/")
        if self.hub and not self.proxy:
            self.proxy = answers(f"{self.settings.public_url}/hub/api/")
        if not self.proxy:
            return False
        login = self.login
        if login is None:  # people sign in with the identity provider: nobody to try
            return self.warmup.ready(None)
        return self.warmup.ready(lambda: landing_renders(self.settings, *login))


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status) == 200
    except (OSError, ValueError):
        return False


def landing_renders(settings: HubSettings, name: str, password: str) -> bool:
    """Sign in as ``name`` through the proxy and load the command center's landing page,
    as a browser does (:func:`ecc.ui.serve.page_renders`)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"{settings.public_url}/hub/login"
    try:
        with opener.open(login, timeout=30) as resp:
            resp.read()
        xsrf = next((c.value for c in jar if c.name == "_xsrf"), "") or ""
        form = urlencode({"username": name, "password": password, "_xsrf": xsrf}).encode()
        with opener.open(login, data=form, timeout=30) as resp:
            resp.read()
    except (OSError, ValueError):
        return False
    return page_renders(settings.dashboards_url, jar)


def analysts_database(settings: HubSettings, env: dict[str, str]) -> None:
    """Give analysts their read-only database before they can start a server: the
    ``ecc_analyst`` role's rights on PostgreSQL (and the dashboards kernels' role's),
    the published copy on SQLite (when they run as system users of their own); print
    why analysts' JupyterLab will not start when another user cannot run this
    installation."""
    from ..db import make_engine
    from ..db_roles import grant_postgres, make_private, start_publishing
    from .identities import ensure_group, reachable_by_others

    analysts_are_users = settings.spawner.endswith(".AnalystSpawner")
    engine = make_engine(settings.data_url)
    try:
        if engine.url.get_backend_name() == "postgresql":
            given = ("ECC_ANALYST_DATABASE_URL", "ECC_DASHBOARDS_DATABASE_URL")
            if not all(env.get(name) for name in given):
                grant_postgres(engine)
        else:
            make_private(engine)  # the live file: the hub's user's alone
        if engine.url.get_backend_name() == "sqlite" and analysts_are_users:
            ensure_group()
            start_publishing(engine, env)
    finally:
        engine.dispose()
    if analysts_are_users:
        problem = reachable_by_others(venv_bin("jupyterhub-singleuser"))
        if problem:
            print(
                f"warning: analysts' JupyterLab will not start: {problem}. Clone into a "
                "folder other users can read (e.g. /opt or /srv) and run `make install` "
                "as root, which makes the virtualenv from the system's Python.",
                file=sys.stderr,
                flush=True,
            )


def start(settings: HubSettings, *, demo_users: bool = True) -> int:
    """Run the stack until interrupted or until a part fails; the exit status."""
    env = dict(os.environ)
    env["ECC_HOME"] = str(paths.home(env))  # one root for the hub and all it starts
    preflight(settings, env)
    paths.private_dirs(env)
    settings.hub_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.hub_dir.chmod(0o700)
    analysts_database(settings, env)
    # demo accounts are local accounts: with the identity provider, people sign in there
    logins = demo_accounts(settings) if demo_users and settings.auth == "native" else {}
    launch = Launch(
        [venv_bin("jupyterhub"), "-f", str(CONFIG)],
        env=env,
        cwd=settings.hub_dir,
        log=settings.hub_dir / "hub.log",
        name="JupyterHub",
    )
    watch = HubWatch(settings, launch, logins)
    print(f"Starting the command center (log: {launch.log_path}) …", flush=True)
    return launch.run(
        ready=watch.ready,
        progress=watch.progress,
        welcome=lambda: print_welcome(settings, logins, env),
        timeout=START_TIMEOUT,
    )


def print_welcome(settings: HubSettings, logins: dict[str, str], env: dict[str, str]) -> None:
    lines = [f"Executive Command Center: {settings.public_url}/", ""]
    if logins:
        lines.append("Demo logins (also in " + str(settings.hub_dir / "demo-logins.txt") + "):")
        what = {
            "vp": "the command center",
            "admin": "the command center + managing users",
            "analyst": "JupyterLab",
        }
        lines += [f"  {n:<8} password {p}   ({what.get(n, '')})" for n, p in logins.items()]
        lines.append("")
    lines.append(f"Command center (vp, admin): {settings.dashboards_url}")
    lines.append(f"Share links: ecc share create REPORT --base-url {settings.links_url}")
    if variables.value("ECC_HUB_SCHEDULER", env).lower() in ("1", "true", "yes"):
        lines.append("Scheduler: the reports of schedules/*.yaml and the alert mail")
    if variables.value("ECC_MAIL_SINK_PORT", env):
        folder = paths.mail_dir(env)
        lines.append(f"Mail (nothing leaves this machine): open the files in {folder}/")
    lines.append("Ctrl-C stops the hub, its proxy, services and kernels.")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
