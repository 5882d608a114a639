"""Local accounts (``ECC_HUB_AUTH=native``): a hub user, its groups, and its password,
kept by NativeAuthenticator in the hub's database as a bcrypt hash (never in clear).

This writes the hub's database directly, so it is for a hub that is not running: the
stack launcher uses it for the demo users before it starts the hub, and ``ecc hub
add-user`` refuses while the hub runs. With the hub up, people sign up at
``/hub/signup`` and an administrator authorizes them at ``/hub/authorize`` and puts
them in a group at ``/hub/admin``.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError
from .settings import HubSettings

NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")


def generate_password() -> str:
    """A fresh password: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def hub_running(settings: HubSettings) -> int | None:
    """The running hub's pid (from its pid file), if one runs."""
    pid_file = settings.hub_dir / "jupyterhub.pid"
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def add_account(
    settings: HubSettings, name: str, groups: Iterable[str], password: str | None = None
) -> str:
    """Create or update the local account ``name`` in ``groups`` with ``password``
    (generated when None), authorized to log in; returns the password."""
    import bcrypt
    from jupyterhub import orm
    from nativeauthenticator.orm import UserInfo

    name = name.strip().lower()
    if not NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a valid user name: use lower-case letters, digits, . _ @ -"
        )
    password = password or generate_password()
    if len(password) < 10:
        raise ConfigError("a password needs at least 10 characters")
    settings.hub_dir.mkdir(parents=True, exist_ok=True)
    # the hub's schema migrations say what they do at INFO level: not news to a newcomer
    logging.getLogger("alembic").setLevel(logging.WARNING)
    session = orm.new_session_factory(settings.db_url)()
    try:
        user = orm.User.find(session, name)
        if user is None:
            user = orm.User(name=name)
            session.add(user)
        for group_name in groups:
            group = orm.Group.find(session, group_name)
            if group is None:
                group = orm.Group(name=group_name)
                session.add(group)
            if group not in user.groups:
                user.groups.append(group)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
        info = UserInfo.find(session, name)
        if info is None:
            session.add(UserInfo(username=name, password=hashed, is_authorized=True))
        else:
            info.password = hashed
            info.is_authorized = True
        session.commit()
    finally:
        session.close()
        session.get_bind().dispose()
    return password


def write_logins(path: Path, logins: dict[str, str]) -> None:
    """Keep the demo logins beside the hub's state, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        for name, password in logins.items():
            fh.write(f"{name}\t{password}\n")
