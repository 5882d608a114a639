"""The hub's deployment settings, from ``ECC_HUB_*`` environment variables.

Every setting has a default that makes ``make hub`` work on one machine; tests and
deployments set the variables (ports, database, folders, the authentication mode).

- ``ECC_HUB_URL`` (``http://127.0.0.1:8000``): where people reach the hub (the proxy)
- ``ECC_HUB_API_PORT`` (8081): the hub's own port on 127.0.0.1
- ``ECC_HUB_PROXY_API_PORT`` (8001): configurable-http-proxy's REST API on 127.0.0.1
- ``ECC_DASHBOARDS_PORT`` (8867): the dashboards service on 127.0.0.1
- ``ECC_SHARE_PORT`` (8877): the share-links service on 127.0.0.1
- ``ECC_DASHBOARDS_POOL_SIZE`` (0): preheated kernels per dashboard (the landing page 2)
- ``ECC_DASHBOARDS_REPLICAS`` (1): dashboards servers behind HAProxy at the dashboards
  port (:mod:`ecc.hub.replicas`)
- ``ECC_HUB_DIR`` (``data/hub`` under the project root, :mod:`ecc.paths`): hub database,
  cookie secret, analysts' folders
- ``ECC_HUB_DB_URL`` (``sqlite:///<ECC_HUB_DIR>/jupyterhub.sqlite``): the hub's database
- ``ECC_HUB_AUTH`` (``native``): ``native`` (local accounts) or ``oauth`` (the company's
  identity provider, see :mod:`ecc.hub.auth`)
- ``ECC_HUB_SPAWNER`` (as root ``ecc.hub.identities.AnalystSpawner``, a system user per
  analyst; else ``ecc.hub.identities.RefusingSpawner``, analysts' JupyterLab off): how
  analysts' JupyterLab starts; production sets its platform's spawner
- ``ECC_ANALYST_DATABASE_URL``: the read-only database analysts get (default: the
  ``ecc_analyst`` role on PostgreSQL, the published copy on SQLite;
  :mod:`ecc.db_roles`)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .. import paths
from ..config import absolute_url
from ..errors import ConfigError
from ..ui.pools import DEFAULT_POOL_SIZE
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


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def hub_settings(env: Mapping[str, str] | None = None) -> HubSettings:
    """Read the settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    hub_dir = Path(env.get("ECC_HUB_DIR") or paths.hub_dir(env)).resolve()
    auth = env.get("ECC_HUB_AUTH", "native").strip().lower() or "native"
    if auth not in AUTH_MODES:
        raise ConfigError(f"ECC_HUB_AUTH={auth!r}: use one of {', '.join(AUTH_MODES)}")
    public_url = env.get("ECC_HUB_URL", "http://127.0.0.1:8000").rstrip("/")
    if urlsplit(public_url).scheme not in ("http", "https"):
        raise ConfigError(f"ECC_HUB_URL={public_url!r} must start with http:// or https://")
    data_url = env.get("ECC_DATABASE_URL") or f"sqlite:///{paths.sqlite_path(env)}"
    return HubSettings(
        public_url=public_url,
        api_port=_int(env, "ECC_HUB_API_PORT", 8081),
        proxy_api_port=_int(env, "ECC_HUB_PROXY_API_PORT", 8001),
        dashboards_port=_int(env, "ECC_DASHBOARDS_PORT", 8867),
        share_port=_int(env, "ECC_SHARE_PORT", 8877),
        pool_size=_int(env, "ECC_DASHBOARDS_POOL_SIZE", DEFAULT_POOL_SIZE),
        replicas=replicas_wanted(env),
        hub_dir=hub_dir,
        db_url=env.get("ECC_HUB_DB_URL") or f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}",
        auth=auth,
        spawner=env.get("ECC_HUB_SPAWNER") or default_spawner(),
        data_url=absolute_url(data_url),
        notebooks=Path(env.get("ECC_NOTEBOOKS") or paths.notebooks_dir()).resolve(),
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
