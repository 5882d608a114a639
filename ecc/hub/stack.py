"""``ecc hub start``: the whole stack in the foreground — JupyterHub, its proxy and the
services listed in ``jupyterhub_config.py`` — with one demo account per role.

The hub starts (and on Ctrl-C or SIGTERM stops) the proxy, the services and analysts'
servers itself; this wrapper makes the demo accounts first, waits until the hub
answers, prints the logins and the address, and passes signals on to the hub.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from types import FrameType

from ..errors import ConfigError
from .accounts import add_account, hub_running, write_logins
from .roles import ROLES
from .settings import ROOT, HubSettings, check_proxy, venv_bin

CONFIG = ROOT / "jupyterhub_config.py"


def demo_accounts(settings: HubSettings) -> dict[str, str]:
    """One account per role, named after it, each with a new password."""
    logins = {role: add_account(settings, role, [role]) for role in ROLES}
    write_logins(settings.hub_dir / "demo-logins.txt", logins)
    return logins


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigError(f"the hub exited with code {proc.returncode}; its log is above")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return  # the hub's API answers through the proxy: routes are in place
        except OSError:  # not listening yet, or the proxy has no route to the hub yet
            time.sleep(0.5)
    raise ConfigError(f"the hub did not answer at {url} within {timeout:.0f} s")


def start(settings: HubSettings, *, demo_users: bool = True) -> int:
    """Run the stack until interrupted; returns the hub's exit code."""
    check_proxy()
    running = hub_running(settings)
    if running:
        raise ConfigError(f"a hub already runs for {settings.hub_dir} (pid {running})")
    settings.hub_dir.mkdir(parents=True, exist_ok=True)
    # demo accounts are local accounts: with the identity provider, people sign in there
    logins = demo_accounts(settings) if demo_users and settings.auth == "native" else {}
    cmd = [venv_bin("jupyterhub"), "-f", str(CONFIG)]
    started: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        if started and started[0].poll() is None:
            started[0].send_signal(signum)

    # Handlers first: the hub then starts with SIGINT at its default even when this
    # runs in the background (where a shell leaves SIGINT ignored, and the hub's
    # services would ignore the hub's SIGINT too). The hub has a session of its own, so
    # a Ctrl-C reaches it once, passed on from here, and its cleanup is not cut short.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    proc = subprocess.Popen(cmd, cwd=settings.hub_dir, start_new_session=True)
    started.append(proc)
    try:
        wait_until_up(f"{settings.public_url}/hub/api/", proc)
        print_welcome(settings, logins)
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def print_welcome(settings: HubSettings, logins: dict[str, str]) -> None:
    lines = ["", f"Executive Command Center: {settings.public_url}/", ""]
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
    if os.environ.get("ECC_HUB_SCHEDULER", "").strip().lower() in ("1", "true", "yes"):
        lines.append("Scheduler: the reports of schedules/*.yaml and the alert mail")
    if os.environ.get("ECC_MAIL_SINK_PORT", "").strip():
        folder = settings.hub_dir.parent / "mail"
        lines.append(f"Mail (nothing leaves this machine): open the files in {folder}/")
    lines.append("Ctrl-C stops the hub, its proxy and services.")
    print("\n".join(lines), flush=True)
