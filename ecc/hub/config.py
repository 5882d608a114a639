"""The pieces of ``jupyterhub_config.py``: the hub, its proxy, analysts' JupyterLab and
the services behind it — each a function of :class:`~ecc.hub.settings.HubSettings`.

A service is one entry of the list that ``jupyterhub_config.py`` hands to
:func:`configure_hub`; :func:`service` builds one (a command the hub starts and stops,
reached at ``/services/<name>/`` when it has a port).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from .. import paths, variables
from ..db_roles import analyst_url
from ..errors import ConfigError
from .auth import configure_auth
from .roles import landing_url, load_roles
from .settings import DASHBOARDS, LINKS, HubSettings, proxy_command, venv_bin

#: Passed from the hub's environment to its services and analysts' servers (the
#: identity provider's secrets are not).
PASS_PREFIX = "ECC_"
SECRET_PREFIX = "ECC_OAUTH_"


def ecc_environment(settings: HubSettings, env: Mapping[str, str]) -> dict[str, str]:
    """The ``ECC_*`` settings a service or an analyst's server needs (the database above all)."""
    out = {k: v for k, v in env.items() if k.startswith(PASS_PREFIX)}
    out = {k: v for k, v in out.items() if not k.startswith(SECRET_PREFIX)}
    out["ECC_HOME"] = str(paths.home(env))
    out["ECC_DATABASE_URL"] = settings.data_url
    out["ECC_NOTEBOOKS"] = str(settings.notebooks)
    return out


#: What an analyst's JupyterLab gets of the ``ECC_*`` settings: their read-only database
#: and where the notebooks are (``ECC_HOME`` is their home folder) — not the mail server,
#: the share-link key, the alert subscribers, the Redis address or the hub's settings.
ANALYST_ENV = ("ECC_DATABASE_URL", "ECC_NOTEBOOKS")


def analyst_environment(settings: HubSettings, env: Mapping[str, str]) -> dict[str, str]:
    """The environment the hub gives an analyst's server (:data:`ANALYST_ENV`), with the
    analysts' read-only database (:func:`ecc.db_roles.analyst_url`)."""
    full = ecc_environment(settings, env)
    full["ECC_DATABASE_URL"] = analyst_url(settings.data_url, env)
    return {k: full[k] for k in ANALYST_ENV if k in full}


def service(
    name: str,
    command: Sequence[str],
    settings: HubSettings,
    env: Mapping[str, str],
    *,
    port: int | None = None,
    display_name: str | None = None,
) -> dict[str, Any]:
    """One hub-managed service, started and stopped with the hub, with the ``ECC_*``
    settings. With ``port`` it is a web service at ``/services/<name>/`` on 127.0.0.1
    that authenticates people with the hub (OAuth, no consent page); without, a
    background process (a scheduler, a mail sink)."""
    spec: dict[str, Any] = {
        "name": name,
        "command": list(command),
        "environment": {**ecc_environment(settings, env), "ECC_SERVICE": name},
        "cwd": str(settings.hub_dir),
    }
    if port is not None:
        spec.update(url=f"http://127.0.0.1:{port}", oauth_no_confirm=True)
        spec["display"] = True
        if display_name:
            spec["info"] = {"title": display_name}
    return spec


def dashboards_service(settings: HubSettings, env: Mapping[str, str]) -> dict[str, Any]:
    """The command-center dashboards: preheated Voilà behind the hub's OAuth."""
    spec = service(
        DASHBOARDS,
        [venv_bin("ecc"), "hub", "dashboards"],
        settings,
        env,
        port=settings.dashboards_port,
        display_name="Command center",
    )
    spec["environment"]["ECC_DASHBOARDS_POOL_SIZE"] = str(settings.pool_size)
    return spec


def links_service(settings: HubSettings, env: Mapping[str, str]) -> dict[str, Any]:
    """Read-only share links (``ecc share serve``) at ``/services/links/share/<token>``:
    open to anyone with a valid link, without login, and serving nothing else."""
    prefix = f"/services/{LINKS}/"
    return service(
        LINKS,
        [venv_bin("ecc"), "share", "serve", f"--port={settings.share_port}", f"--prefix={prefix}"],
        settings,
        env,
        port=settings.share_port,
        display_name="Share links",
    )


def scheduler_service(settings: HubSettings, env: Mapping[str, str]) -> dict[str, Any]:
    """``ecc scheduler`` as a background service of the hub: the schedule files' reports
    and the alert mail, started and stopped with the hub."""
    return service(
        "scheduler",
        [
            venv_bin("ecc"),
            "scheduler",
            f"--schedules={paths.schedules_dir()}",
            f"--out={paths.outputs_dir(env) / 'scheduled'}",
        ],
        settings,
        env,
    )


def mail_sink_service(settings: HubSettings, env: Mapping[str, str], port: int) -> dict[str, Any]:
    """The demo's local SMTP sink (``ecc mail-sink``): mail lands in files under
    ``data/mail/`` instead of going anywhere."""
    folder = paths.mail_dir(env)
    return service(
        "mail-sink",
        [venv_bin("ecc"), "mail-sink", f"--port={port}", f"--dir={folder}"],
        settings,
        env,
    )


def optional_services(settings: HubSettings, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The scheduler (``ECC_HUB_SCHEDULER=1``) and a local mail sink
    (``ECC_MAIL_SINK_PORT=8025``), which ``make demo`` turns on."""
    out = []
    sink = variables.value("ECC_MAIL_SINK_PORT", env)
    if sink:
        if not sink.isdigit():
            raise ConfigError(f"ECC_MAIL_SINK_PORT={sink!r} is not a port number")
        out.append(mail_sink_service(settings, env, int(sink)))
    if variables.value("ECC_HUB_SCHEDULER", env).lower() in ("1", "true", "yes"):
        out.append(scheduler_service(settings, env))
    return out


def configure_hub(
    c: Any,
    settings: HubSettings,
    services: Sequence[dict[str, Any]],
    env: Mapping[str, str] | None = None,
) -> None:
    """Fill the hub configuration ``c``: network, database, proxy, roles, login, the
    analysts' JupyterLab and ``services``."""
    env = os.environ if env is None else env
    settings.hub_dir.mkdir(parents=True, exist_ok=True)

    c.JupyterHub.bind_url = settings.public_url + "/"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.api_port}"
    c.JupyterHub.db_url = settings.db_url
    c.JupyterHub.cookie_secret_file = str(settings.hub_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(settings.hub_dir / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True

    c.ConfigurableHTTPProxy.command = proxy_command()
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(settings.hub_dir / "proxy.pid")
    c.ConfigurableHTTPProxy.auth_token = env.get("CONFIGPROXY_AUTH_TOKEN") or secrets.token_hex(32)

    c.JupyterHub.load_roles = load_roles(DASHBOARDS)
    c.JupyterHub.default_url = landing_url
    configure_auth(c, settings, env)

    configure_lab(c, settings, env)
    c.JupyterHub.services = list(services)


def configure_lab(c: Any, settings: HubSettings, env: Mapping[str, str]) -> None:
    """Analysts' JupyterLab: a server of their own, started by the hub as a system user
    of their own (:mod:`ecc.hub.identities`), in a home folder that begins as a copy of
    the dashboard notebooks, with the ``ecc`` library and a read-only database."""
    c.JupyterHub.spawner_class = settings.spawner
    c.Spawner.cmd = [venv_bin("jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120
    c.Spawner.environment = analyst_environment(settings, env)
    c.AnalystSpawner.homes = str(paths.analysts_dir(env))
    c.AnalystSpawner.notebooks = str(settings.notebooks)
