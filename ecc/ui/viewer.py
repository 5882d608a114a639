"""Who is looking at the dashboards: the name an acknowledgement records.

In order: the ``viewer`` URL parameter (the hub front door sets it on every request and
refuses one that is not the logged-in user), then ``$JUPYTERHUB_USER`` (a single-user
server), then ``$ECC_VIEWER`` (a deployment setting), then the operating-system user —
except in the hub's dashboards service, where only the URL's viewer counts and without
one nobody is named (the empty string: acknowledging is refused).
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping

from .. import variables
from ..errors import ConfigError

__all__ = ["behind_hub", "check_viewer", "resolve_viewer"]

#: A user name as JupyterHub and identity providers spell them: letters, digits and
#: ``. _ - @ +``, at most 128 characters.
_NAME = re.compile(r"[\w.@+-]{1,128}")


def check_viewer(name: str) -> str:
    """``name`` stripped, or a ConfigError saying what a viewer name may hold."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"ignored the viewer {name[:40]!r}: a user name is letters, digits and . _ - @ +"
        )
    return name


def resolve_viewer(requested: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The viewer's user name: ``requested`` (the URL's ``viewer``) when given; in a hub
    service nobody (``""``) otherwise; else the environment's (``JUPYTERHUB_USER``, then
    ``ECC_VIEWER``), else the OS user name.

    A bad ``requested`` raises ConfigError (the page shows it and falls back)."""
    if requested:
        return check_viewer(requested)
    env = os.environ if environ is None else environ
    if env.get("JUPYTERHUB_SERVICE_NAME", "").strip():
        # behind the hub only the signed-in person the front door names is a viewer:
        # a request without one (taken over, or not from a browser) acknowledges nothing
        return ""
    value = env.get("JUPYTERHUB_USER", "").strip() or variables.value("ECC_VIEWER", env)
    if value:
        return value
    try:
        return getpass.getuser()
    except Exception:  # no user name for this uid (a bare container)
        return f"uid-{os.getuid()}"


def behind_hub(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is the hub's dashboards service (or one of its kernels): the
    hub names each viewer, and its links service and scheduler run beside it."""
    env = os.environ if environ is None else environ
    return bool(env.get("JUPYTERHUB_SERVICE_NAME", "").strip())
