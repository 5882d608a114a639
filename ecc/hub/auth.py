"""How people prove who they are: local accounts, or the company's identity provider.

``ECC_HUB_AUTH=native`` (the default) uses NativeAuthenticator: per-user passwords,
stored bcrypt-hashed in the hub's database; people may sign up, and an administrator
authorizes them (``/hub/authorize``) and puts them in a group (``/hub/admin``).

``ECC_HUB_AUTH=oauth`` uses OAuthenticator's GenericOAuthenticator against the
company's identity provider (any OAuth 2 / OpenID Connect server). The provider's
groups claim becomes the person's hub groups at every login (``manage_groups``), mapped
to the command center's roles by ``ECC_OAUTH_ROLE_GROUPS``:

- ``ECC_OAUTH_CLIENT_ID``, ``ECC_OAUTH_CLIENT_SECRET``: the hub's client at the provider
- ``ECC_OAUTH_AUTHORIZE_URL``, ``ECC_OAUTH_TOKEN_URL``, ``ECC_OAUTH_USERDATA_URL``: the
  provider's endpoints
- ``ECC_OAUTH_CALLBACK_URL`` (``<ECC_HUB_URL>/hub/oauth_callback``): register it there
- ``ECC_OAUTH_SCOPES`` (``openid profile email groups``)
- ``ECC_OAUTH_USERNAME_CLAIM`` (``preferred_username``)
- ``ECC_OAUTH_GROUPS_CLAIM`` (``groups``): a dotted path into the userinfo answer
- ``ECC_OAUTH_ROLE_GROUPS`` (each role's own name): which provider groups give which
  role, e.g. ``vp=CS Leadership,admin=IT Admins|CS Ops,analyst=CS Analysts``
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import variables
from ..errors import ConfigError
from .roles import ROLES, require_role
from .settings import HubSettings

OAUTH_REQUIRED = (
    "ECC_OAUTH_CLIENT_ID",
    "ECC_OAUTH_CLIENT_SECRET",
    "ECC_OAUTH_AUTHORIZE_URL",
    "ECC_OAUTH_TOKEN_URL",
    "ECC_OAUTH_USERDATA_URL",
)


def configure_auth(c: Any, settings: HubSettings, env: Mapping[str, str]) -> None:
    """Set the authenticator of the hub configuration ``c`` for ``settings.auth``."""
    # Being authenticated is not enough: require_role refuses anyone without a role,
    # with a page that says why (the authenticators' own allow lists would only say
    # "Invalid username or password" or a fixed 403 sentence).
    c.Authenticator.allow_all = True
    c.Authenticator.post_auth_hook = require_role
    if settings.auth == "oauth":
        _configure_oauth(c, settings, env)
    else:
        _configure_native(c)


def _configure_native(c: Any) -> None:
    c.JupyterHub.authenticator_class = "ecc.hub.native.EccNativeAuthenticator"
    c.NativeAuthenticator.enable_signup = True
    c.NativeAuthenticator.open_signup = False  # an administrator authorizes each signup
    c.NativeAuthenticator.minimum_password_length = 10
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 300


def _configure_oauth(c: Any, settings: HubSettings, env: Mapping[str, str]) -> None:
    missing = [name for name in OAUTH_REQUIRED if not env.get(name)]
    if missing:
        raise ConfigError(
            f"ECC_HUB_AUTH=oauth needs {', '.join(missing)} "
            "(see docs/deployment-and-security.md, 'The front door')"
        )
    c.JupyterHub.authenticator_class = "oauthenticator.generic.GenericOAuthenticator"
    g = c.GenericOAuthenticator
    g.client_id = variables.value("ECC_OAUTH_CLIENT_ID", env)
    g.client_secret = variables.value("ECC_OAUTH_CLIENT_SECRET", env)
    if env is os.environ:
        # the hub hands its environment to the proxy it starts: keep the secret in here
        os.environ.pop("ECC_OAUTH_CLIENT_SECRET")
    g.authorize_url = variables.value("ECC_OAUTH_AUTHORIZE_URL", env)
    g.token_url = variables.value("ECC_OAUTH_TOKEN_URL", env)
    g.userdata_url = variables.value("ECC_OAUTH_USERDATA_URL", env)
    g.oauth_callback_url = variables.value("ECC_OAUTH_CALLBACK_URL", env) or (
        f"{settings.public_url}/hub/oauth_callback"
    )
    g.scope = variables.value("ECC_OAUTH_SCOPES", env).split()
    g.username_claim = variables.value("ECC_OAUTH_USERNAME_CLAIM", env)
    g.login_service = variables.value("ECC_OAUTH_LOGIN_SERVICE", env)
    g.manage_groups = True
    g.auth_state_groups_key = groups_from_claim(
        variables.value("ECC_OAUTH_GROUPS_CLAIM", env),
        role_groups(variables.value("ECC_OAUTH_ROLE_GROUPS", env)),
    )


def role_groups(spec: str) -> dict[str, str]:
    """Parse ``ECC_OAUTH_ROLE_GROUPS`` (``vp=CS Leadership,admin=IT|CS Ops``: a role,
    ``=``, the provider's group names separated by ``|``; roles separated by commas)
    into {provider group: role}. Unnamed roles keep their own name."""
    mapping = {role: role for role in ROLES}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        role, sep, names = part.partition("=")
        role = role.strip()
        if not sep or role not in ROLES or not names.strip():
            raise ConfigError(
                f"ECC_OAUTH_ROLE_GROUPS: {part!r} should read role=group[|group] "
                f"with a role among {', '.join(ROLES)}"
            )
        if mapping.get(role) == role:
            del mapping[role]  # named explicitly: the group called like the role no longer counts
        for name in names.split("|"):
            mapping[name.strip()] = role
    return mapping


def groups_from_claim(
    claim: str, mapping: Mapping[str, str]
) -> Callable[[dict[str, Any]], list[str]]:
    """``auth_state_groups_key``: the provider's groups claim (found at ``claim``, a
    dotted path into the userinfo answer), with each provider group that names a role
    replaced by the role. Other groups are kept as they are and grant nothing — except
    one called like a role that the mapping does not give, which is dropped."""
    path = claim.split(".")

    def groups(auth_state: dict[str, Any]) -> list[str]:
        found: Any = auth_state.get("oauth_user") or {}
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        if isinstance(found, str):
            found = [found]
        names = [str(g) for g in found or []]
        return sorted({mapping.get(g, g) for g in names if g in mapping or g not in ROLES})

    return groups
