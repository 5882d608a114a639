"""Who may do what (FR-3): the command center's roles as JupyterHub groups and roles.

A person's role is the hub group they belong to — set by an administrator for local
accounts, or taken from the identity provider's groups claim in production:

    vp       the command-center dashboards
    admin    the dashboards, and managing users and groups (the hub's admin page)
    analyst  JupyterLab with the notebooks and the ``ecc`` library; not the dashboards

Anyone else is refused at login with a page that says why (:func:`require_role`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from tornado import web

from .settings import DASHBOARDS

VP, ADMIN, ANALYST = "vp", "admin", "analyst"
ROLES: tuple[str, ...] = (VP, ADMIN, ANALYST)
#: Groups that reach the dashboards service.
DASHBOARD_GROUPS: tuple[str, ...] = (VP, ADMIN)


def load_roles(service: str = DASHBOARDS) -> list[dict[str, Any]]:
    """``c.JupyterHub.load_roles``: scopes per group. The default ``user`` role is cut
    down so that being logged in grants nothing by itself (no server, no service)."""
    access = [f"access:services!service={service}", f"read:services!service={service}"]
    return [
        {
            "name": "user",
            "description": "Every account: only its own name and groups",
            "scopes": ["read:users:name!user", "read:users:groups!user"],
        },
        {
            "name": "ecc-dashboards",
            "description": "The command-center dashboards",
            "scopes": access,
            "groups": list(DASHBOARD_GROUPS),
        },
        {
            "name": "ecc-user-admin",
            "description": "Manage users and groups (the hub's admin page, signups)",
            "scopes": [
                "admin-ui",
                "admin:users",
                "admin:groups",
                "admin:servers",
                "list:users",
                "read:users",
                "read:groups",
                "read:roles:users",
                "read:roles:groups",
            ],
            "groups": [ADMIN],
        },
        {
            "name": "ecc-analyst",
            "description": "JupyterLab of one's own with the notebooks and the ecc library",
            "scopes": ["self"],
            "groups": [ANALYST],
        },
    ]


def roles_of(groups: Iterable[str]) -> list[str]:
    """The command-center roles among ``groups``, in ROLES order."""
    have = set(groups)
    return [r for r in ROLES if r in have]


class Refused(web.HTTPError):
    """A login refused because the account has no command-center role; the hub shows
    its error page with :attr:`jupyterhub_html_message`."""

    def __init__(self, name: str, groups: Iterable[str]) -> None:
        listed = sorted(set(groups))
        text = (
            f"{name} signed in, but has none of the command center's roles "
            f"({', '.join(ROLES)})"
            + (f"; their groups are: {', '.join(listed)}." if listed else "; they have no group.")
            + " Access is refused. Ask an administrator to add you to the vp, admin or "
            "analyst group."
        )
        super().__init__(403, "%s", text, reason="No command-center role")
        self.jupyterhub_message = text
        self.jupyterhub_html_message = (
            f"<p><strong>{html.escape(name)}</strong> signed in, but has none of the "
            "command center's roles.</p>"
            "<ul><li><b>vp</b>, <b>admin</b>: the command-center dashboards</li>"
            "<li><b>analyst</b>: JupyterLab with the notebooks</li></ul>"
            + (
                f"<p>Your groups: {html.escape(', '.join(listed))}.</p>"
                if listed
                else "<p>You are in no group.</p>"
            )
            + "<p>Access is refused. Ask an administrator to add you to one of these groups.</p>"
        )


async def require_role(authenticator: Any, handler: Any, authentication: dict[str, Any]) -> Any:
    """``c.Authenticator.post_auth_hook``: refuse an account without a role.

    The groups are the identity provider's (``authentication["groups"]``, when the
    authenticator manages groups) or else the hub's own for that account."""
    name = str(authentication["name"])
    groups: list[str]
    if authentication.get("groups") is not None:
        groups = [str(g) for g in authentication["groups"]]
    else:
        user = handler.find_user(name)
        groups = [g.name for g in user.groups] if user is not None else []
    if not roles_of(groups):
        handler.log.warning("refused %s: no command-center role (groups: %s)", name, groups)
        raise Refused(name, groups)
    return authentication


def landing_url(handler: Any) -> str:
    """``c.JupyterHub.default_url``: where a person goes after login — the command
    center for vp and admin, JupyterLab for an analyst, the hub's home otherwise."""
    user = handler.current_user
    base = str(handler.base_url)
    groups = [g.name for g in user.groups] if user is not None else []
    roles = roles_of(groups)
    if any(r in DASHBOARD_GROUPS for r in roles):
        return f"{base}services/{DASHBOARDS}/"
    if ANALYST in roles and user is not None:
        return f"{base}hub/spawn/{user.name}?next={base}user/{user.name}/lab"
    return f"{base}hub/home"
