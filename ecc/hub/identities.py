"""Analysts' JupyterLab runs as a system user of their own, never as the hub's.

An analyst has a terminal and runs any code, so their server gets an identity that can
read nothing of the hub's: the hub's state folder (cookie secret, database, logins,
proxy token) is 0700 to the hub's user, other processes' ``/proc/<pid>/environ`` and
Voilà's kernel connection files belong to the hub's user, and the notebooks the
dashboards run are not theirs to change.

With the hub running as root (``make demo``), :class:`AnalystSpawner` gives each hub
user of the analyst role a system user (``ecc-<name>``, :func:`system_user`) in the
group ``ecc-analysts``, created on their first start (``useradd --system``, no login
shell, no password), with a home folder of their own (0700) under ``data/analysts/``
that begins as a copy of the dashboard notebooks. Their server gets the analysts'
read-only database (:mod:`ecc.db_roles`).

Without root the hub cannot switch users: :class:`RefusingSpawner` says so on every
start instead of running analysts' code as the hub's own user. Production deployments
set ``ECC_HUB_SPAWNER`` to their platform's spawner (KubeSpawner, DockerSpawner,
SystemdSpawner: a container or a transient unit per analyst), with the same
environment (:func:`ecc.hub.config.analyst_environment`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner, Spawner, set_user_setuid
from traitlets import Unicode

from ..db_roles import GROUP
from ..errors import ConfigError

PREFIX = "ecc-"
#: Linux user names: at most 32 characters; ours stay well below.
MAX_NAME = 28


def system_user(hub_name: str) -> str:
    """The system user of the hub user ``hub_name``: ``ecc-`` and the name in lower case
    when it is a plain one, else its letters and digits and a hash of the whole name (so
    that two hub names never share a system user)."""
    plain = re.sub(r"[^a-z0-9_-]+", "-", hub_name.lower()).strip("-_")
    name = PREFIX + plain
    if plain == hub_name and len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(hub_name.encode()).hexdigest()[:8]
    return f"{PREFIX}{plain[: MAX_NAME - len(PREFIX) - 9]}-{digest}".replace("--", "-")


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.returncode}")


def ensure_group() -> None:
    """The ``ecc-analysts`` system group, created when missing (``-f``: another stack
    making it at the same moment is no error)."""
    _run(["groupadd", "--system", "--force", GROUP])


def home_of(hub_name: str, homes: Path) -> Path:
    """The analyst's home folder under this stack's ``homes`` (the system user's entry
    in ``/etc/passwd`` names the first stack's; this one is used)."""
    return homes / system_user(hub_name)


def ensure_account(hub_name: str, homes: Path) -> pwd.struct_passwd:
    """The system user of ``hub_name`` (created when missing, in ``ecc-analysts``, no
    login shell, locked password) and its home under ``homes`` (0700, theirs)."""
    name = system_user(hub_name)
    home = home_of(hub_name, homes)
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        ensure_group()
        try:
            _run(
                [
                    "useradd", "--system", "--gid", GROUP, "--home-dir", str(home),
                    "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "--comment", f"ecc analyst {hub_name}"[:60], name,
                ]
            )  # fmt: skip
        except ConfigError:
            pwd.getpwnam(name)  # made meanwhile by another stack: fine; else the error
        account = pwd.getpwnam(name)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, account.pw_uid, account.pw_gid)
    home.chmod(0o700)
    return account


def copy_notebooks(account: pwd.struct_passwd, home: Path, notebooks: Path) -> None:
    """The dashboard notebooks into the analyst's home (once), owned by them."""
    target = home / "notebooks"
    if target.exists() or not notebooks.is_dir():
        return
    shutil.copytree(notebooks, target)
    for folder, dirs, files in os.walk(target):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.chown(name, account.pw_uid, account.pw_gid)


def reachable_by_others(command: str) -> str | None:
    """Why a user other than the hub's cannot run ``command`` (the analysts' server) with
    the ``ecc`` library, or None when one can (checked as ``nobody``)."""
    if os.geteuid() != 0:
        return None
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None

    def drop() -> None:
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    probe = [str(Path(command).with_name("python")), "-c", "import ecc.hub, jupyterhub"]
    try:
        done = subprocess.run(
            probe, preexec_fn=drop, capture_output=True, text=True, timeout=60, cwd="/"
        )
    except OSError as exc:
        return f"{probe[0]}: {exc.strerror}"
    if done.returncode == 0:
        return None
    last = (done.stderr.strip().splitlines() or [""])[-1]
    return f"{probe[0]} cannot import ecc as another user ({last})"


class AnalystSpawner(LocalProcessSpawner):  # type: ignore[misc]
    """Each analyst's server as their own system user (:func:`system_user`)."""

    homes = Unicode(help="The folder of analysts' home folders").tag(config=True)
    notebooks = Unicode(help="The dashboard notebooks each home begins with").tag(config=True)

    def _home(self) -> Path:
        return home_of(self.user.name, Path(self.homes))

    def make_preexec_fn(self, name: str) -> Any:
        switch = set_user_setuid(system_user(name), chdir=False)
        home = str(self._home())

        def preexec() -> None:
            switch()
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        home = str(self._home())
        env["USER"] = system_user(self.user.name)
        env["HOME"] = home
        env["SHELL"] = "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh"
        env["ECC_HOME"] = home  # their reports and exports go home
        return env

    async def start(self) -> Any:
        problem = await asyncio.to_thread(reachable_by_others, self.cmd[0])
        if problem:
            raise RuntimeError(
                f"JupyterLab cannot start as the analyst's own system user: {problem}. "
                "The checkout and its Python must be readable by other users: clone into "
                "a folder others can read (e.g. /opt or /srv) and let `make install`, run "
                "as root, make the virtualenv from the system's Python."
            )
        account = await asyncio.to_thread(ensure_account, self.user.name, Path(self.homes))
        await asyncio.to_thread(copy_notebooks, account, self._home(), Path(self.notebooks))
        return await super().start()


class RefusingSpawner(Spawner):  # type: ignore[misc]
    """The spawner of a hub that cannot give analysts an identity of their own: every
    start fails with the reason, rather than run their code as the hub's user."""

    async def start(self) -> Any:
        raise RuntimeError(
            "analysts' JupyterLab is off: the hub does not run as root, so it cannot give "
            "each analyst a system user of their own, and it never runs analysts' code as "
            "its own user. Run the hub as root (make demo does) or set ECC_HUB_SPAWNER to "
            "your platform's spawner (e.g. kubespawner.KubeSpawner)."
        )

    async def poll(self) -> int:
        return 0

    async def stop(self, now: bool = False) -> None:
        return None
