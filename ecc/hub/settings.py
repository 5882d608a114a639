"""The hub's deployment settings: ports, folders, databases, the login mode, read from
the ``ECC_*`` environment variables declared (with their defaults and meanings) in
:mod:`ecc.variables`. The defaults make ``make demo`` work on one machine; tests and
deployments set the variables. Analysts' databases: :mod:`ecc.db_roles`; the company
login: :mod:`ecc.hub.auth`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .. import paths, variables
from ..config import absolute_url
from ..errors import ConfigError
from .replicas import replicas_wanted

ROOT = paths.CHECKOUT
#: The hub-managed service that serves the dashboards.
DASHBOARDS = "dashboards"
#: The hub-managed service that serves read-only share links (no login).
LINKS = "links"
AUTH_MODES = ("native", "oauth")


@dataclass(frozen=True)
class HubSettings:
    """Where the hub, its proxy and its services listen and keep their state."""

    public_url: str
    api_port: int
    proxy_api_port: int
    dashboards_port: int
    share_port: int
    pool_size: int
    replicas: int
    hub_dir: Path
    db_url: str
    auth: str
    spawner: str
    data_url: str
    notebooks: Path

    @property
    def ip(self) -> str:
        return urlsplit(self.public_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.public_url).port or 80

    @property
    def links_url(self) -> str:
        """The base of share links through the hub (``ecc share create --base-url``)."""
        return f"{self.public_url.rstrip('/')}/services/{LINKS}"

    @property
    def dashboards_url(self) -> str:
        """The landing page, as people reach it through the hub."""
        return f"{self.public_url.rstrip('/')}/services/{DASHBOARDS}/"


def _int(env: Mapping[str, str], name: str) -> int:
    raw = variables.value(name, env)
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def hub_settings(env: Mapping[str, str] | None = None) -> HubSettings:
    """Read the settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    hub_dir = Path(variables.value("ECC_HUB_DIR", env) or paths.hub_dir(env)).resolve()
    auth = variables.value("ECC_HUB_AUTH", env).strip().lower() or "native"
    if auth not in AUTH_MODES:
        raise ConfigError(f"ECC_HUB_AUTH={auth!r}: use one of {', '.join(AUTH_MODES)}")
    public_url = variables.value("ECC_HUB_URL", env).rstrip("/")
    if urlsplit(public_url).scheme not in ("http", "https"):
        raise ConfigError(f"ECC_HUB_URL={public_url!r} must start with http:// or https://")
    data_url = variables.value("ECC_DATABASE_URL", env) or f"sqlite:///{paths.sqlite_path(env)}"
    return HubSettings(
        public_url=public_url,
        api_port=_int(env, "ECC_HUB_API_PORT"),
        proxy_api_port=_int(env, "ECC_HUB_PROXY_API_PORT"),
        dashboards_port=_int(env, "ECC_DASHBOARDS_PORT"),
        share_port=_int(env, "ECC_SHARE_PORT"),
        pool_size=_int(env, "ECC_DASHBOARDS_POOL_SIZE"),
        replicas=replicas_wanted(env),
        hub_dir=hub_dir,
        db_url=variables.value("ECC_HUB_DB_URL", env)
        or f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}",
        auth=auth,
        spawner=variables.value("ECC_HUB_SPAWNER", env) or default_spawner(),
        data_url=absolute_url(data_url),
        notebooks=Path(variables.value("ECC_NOTEBOOKS", env) or paths.notebooks_dir()).resolve(),
    )


def default_spawner() -> str:
    """A system user per analyst when the hub can make them (root), else none at all."""
    name = "AnalystSpawner" if os.geteuid() == 0 else "RefusingSpawner"
    return f"ecc.hub.identities.{name}"


def proxy_command() -> list[str]:
    """configurable-http-proxy: the project's own (``make install`` puts it in
    node_modules/), else the one on PATH."""
    local = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return [str(local)]
    return [shutil.which("configurable-http-proxy") or "configurable-http-proxy"]


def check_proxy() -> None:
    """Fail with the fix when configurable-http-proxy (or node) is missing."""
    cmd = proxy_command()[0]
    if not (Path(cmd).exists() or shutil.which(cmd)):
        raise ConfigError(
            "configurable-http-proxy is not installed: run `make install` "
            "(npm installs it into node_modules/) or `npm install -g configurable-http-proxy`"
        )
    if not shutil.which("node"):
        raise ConfigError("configurable-http-proxy needs Node.js: apt-get install nodejs")


venv_bin = paths.venv_bin
