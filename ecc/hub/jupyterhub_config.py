"""The command center's front door: JupyterHub's configuration (`ecc hub start` runs
`jupyterhub -f` with this file; the repository's jupyterhub_config.py loads it).

Roles (hub groups; ecc/hub/roles.py):
    vp       the command-center dashboards (the `dashboards` service)
    admin    the dashboards, and managing users and groups (/hub/admin, /hub/authorize)
    analyst  JupyterLab with the notebooks and the ecc library; not the dashboards
    anyone else is refused at login with a page that says why.

Login (ecc/hub/auth.py): ECC_HUB_AUTH=native (default; local accounts, bcrypt-hashed
passwords) or ECC_HUB_AUTH=oauth (the company's identity provider, its groups claim
mapped to the roles; ECC_OAUTH_* variables). Ports, folders and databases come from
the ECC_* variables of ecc/variables.py (docs/configuration.md lists them all).
"""

import os

from ecc.hub.config import configure_hub, dashboards_service, links_service, optional_services
from ecc.hub.settings import hub_settings

c = get_config()  # type: ignore[name-defined]  # noqa: F821

settings = hub_settings()

# The services the hub starts, stops and puts behind its login: one entry each
# (ecc.hub.config.service(name, command, settings, os.environ, port=...)).
SERVICES = [
    dashboards_service(settings, os.environ),  # /services/dashboards/: vp and admin only
    links_service(settings, os.environ),  # /services/links/share/<token>: no login
    # ECC_HUB_SCHEDULER=1: `ecc scheduler`; ECC_MAIL_SINK_PORT: the demo's mail sink
    *optional_services(settings, os.environ),
]

configure_hub(c, settings, SERVICES)
