"""jupyterhub_config.py loaded as JupyterHub loads it, in both login modes: every
setting names a real option of the class it configures, the roles give the dashboards
to vp and admin only, and the identity provider's groups claim maps to the roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ecc.errors import ConfigError
from ecc.hub.auth import groups_from_claim, role_groups
from ecc.hub.roles import Refused, roles_of
from tests.support.servers import ROOT

OAUTH_ENV = {
    "ECC_HUB_AUTH": "oauth",
    "ECC_OAUTH_CLIENT_ID": "ecc-hub",
    "ECC_OAUTH_CLIENT_SECRET": "s3cret",
    "ECC_OAUTH_AUTHORIZE_URL": "https://idp.example.com/oauth2/authorize",
    "ECC_OAUTH_TOKEN_URL": "https://idp.example.com/oauth2/token",
    "ECC_OAUTH_USERDATA_URL": "https://idp.example.com/oauth2/userinfo",
    "ECC_OAUTH_ROLE_GROUPS": "vp=CS Leadership,admin=IT Admins|CS Ops,analyst=CS Analysts",
}


def load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Config:
    for name in [*OAUTH_ENV, "ECC_HUB_AUTH", "ECC_HUB_SCHEDULER", "ECC_MAIL_SINK_PORT"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECC_HUB_DIR", str(tmp_path / "hub"))
    monkeypatch.setenv("ECC_DATABASE_URL", f"sqlite:///{tmp_path / 'ecc.sqlite'}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT)).load_config()


def classes() -> dict[str, Any]:
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import Authenticator
    from jupyterhub.proxy import ConfigurableHTTPProxy
    from jupyterhub.spawner import Spawner
    from nativeauthenticator import NativeAuthenticator
    from oauthenticator.generic import GenericOAuthenticator

    from ecc.hub.identities import AnalystSpawner

    return {
        c.__name__: c
        for c in (
            JupyterHub,
            Authenticator,
            ConfigurableHTTPProxy,
            Spawner,
            AnalystSpawner,
            NativeAuthenticator,
            GenericOAuthenticator,
        )
    }


def assert_every_setting_exists(cfg: Config) -> None:
    known = classes()
    for section, values in cfg.items():
        assert section in known, f"a setting for an unexpected class {section}"
        options = set(known[section].class_trait_names(config=True))
        assert set(values) <= options, f"{section}: unknown {set(values) - options}"


def test_local_accounts_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = load(monkeypatch, tmp_path)
    assert_every_setting_exists(cfg)
    assert cfg.JupyterHub.authenticator_class == "ecc.hub.native.EccNativeAuthenticator"
    assert cfg.NativeAuthenticator.open_signup is False  # an admin authorizes signups
    assert cfg.Authenticator.allow_all is True  # roles are checked by the post-auth hook
    roles = {r["name"]: r for r in cfg.JupyterHub.load_roles}
    dashboards = "access:services!service=dashboards"
    assert sorted(roles["ecc-dashboards"]["groups"]) == ["admin", "vp"]
    assert dashboards in roles["ecc-dashboards"]["scopes"]
    assert roles["ecc-analyst"]["groups"] == ["analyst"]
    assert dashboards not in roles["ecc-analyst"]["scopes"]
    assert "admin:users" in roles["ecc-user-admin"]["scopes"]
    assert roles["ecc-user-admin"]["groups"] == ["admin"]
    assert "self" not in roles["user"]["scopes"]  # logging in alone grants nothing
    services = {s["name"]: s for s in cfg.JupyterHub.services}
    assert set(services) == {"dashboards", "links"}
    assert services["dashboards"]["url"].startswith("http://127.0.0.1:")
    assert services["dashboards"]["command"][-2:] == ["hub", "dashboards"]
    assert services["dashboards"]["environment"]["ECC_DATABASE_URL"].endswith("ecc.sqlite")
    assert cfg.JupyterHub.db_url == f"sqlite:///{tmp_path / 'hub' / 'jupyterhub.sqlite'}"
    # the authenticator class loads with this configuration
    from ecc.hub.native import EccNativeAuthenticator

    assert EccNativeAuthenticator.class_trait_names(config=True)


def test_identity_provider_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from oauthenticator.generic import GenericOAuthenticator

    cfg = load(monkeypatch, tmp_path, **OAUTH_ENV)
    assert_every_setting_exists(cfg)
    assert cfg.JupyterHub.authenticator_class == "oauthenticator.generic.GenericOAuthenticator"
    auth = GenericOAuthenticator(config=cfg)
    assert auth.manage_groups is True
    assert auth.client_id == "ecc-hub"
    assert auth.token_url == "https://idp.example.com/oauth2/token"
    assert auth.oauth_callback_url == "http://127.0.0.1:8000/hub/oauth_callback"
    state = {"oauth_user": {"groups": ["CS Leadership", "Sales", "vp"]}}
    # the provider's groups, mapped; a provider group called "vp" is not the vp role
    assert auth.auth_state_groups_key(state) == ["Sales", "vp"]
    assert auth.auth_state_groups_key({"oauth_user": {"groups": ["vp"]}}) == []
    assert auth.auth_state_groups_key({"oauth_user": {"groups": ["CS Ops"]}}) == ["admin"]
    assert auth.auth_state_groups_key({"oauth_user": {}}) == []
    secrets = cfg.JupyterHub.services[0]["environment"]
    assert not any(k.startswith("ECC_OAUTH_") for k in secrets)  # IdP secrets stay in the hub


def test_identity_provider_mode_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="ECC_OAUTH_CLIENT_SECRET"):
        load(monkeypatch, tmp_path, ECC_HUB_AUTH="oauth", ECC_OAUTH_CLIENT_ID="x")
    with pytest.raises(ConfigError, match="native"):
        load(monkeypatch, tmp_path, ECC_HUB_AUTH="ldap")


def test_role_mapping_and_refusal_message() -> None:
    assert role_groups("") == {"vp": "vp", "admin": "admin", "analyst": "analyst"}
    with pytest.raises(ConfigError, match="role=group"):
        role_groups("cfo=Finance")
    claim = groups_from_claim("realm.groups", role_groups("vp=Execs"))
    assert claim({"oauth_user": {"realm": {"groups": "Execs"}}}) == ["vp"]
    assert roles_of(["sales", "analyst", "vp"]) == ["vp", "analyst"]
    refused = Refused("dora", ["sales"])
    assert refused.status_code == 403
    assert "none of the command center's roles" in refused.jupyterhub_message
    assert "sales" in refused.jupyterhub_message


def test_local_accounts_keep_only_a_bcrypt_hash_and_wait_for_a_stopped_hub(
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    import bcrypt
    from sqlalchemy import create_engine, text

    hub_dir = tmp_path / "hub"
    env = {**os.environ, "ECC_HUB_DIR": str(hub_dir)}

    def add_user(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ecc.cli", "hub", "add-user", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
        )

    made = add_user("Carol", "--group", "vp")
    assert made.returncode == 0, made.stderr
    name, groups, password = made.stdout.strip().split("\t")
    assert (name, groups) == ("carol", "vp") and len(password) >= 16
    other = add_user("dave", "--group", "analyst")
    assert other.stdout.strip().split("\t")[2] != password  # each account its own
    engine = create_engine(f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}")
    with engine.connect() as conn:
        stored = conn.execute(
            text("select password, is_authorized from users_info where username = 'carol'")
        ).one()
        in_vp = conn.execute(
            text(
                "select count(*) from user_group_map m join users u on u.id = m.user_id "
                "join groups g on g.id = m.group_id where u.name = 'carol' and g.name = 'vp'"
            )
        ).scalar()
    engine.dispose()
    assert password.encode() not in stored.password
    assert bcrypt.checkpw(password.encode(), stored.password) and stored.is_authorized
    assert in_vp == 1
    assert add_user("eve", "--group", "vp", "--password-stdin", stdin="short\n").returncode == 2
    # while the hub runs (its pid file names a live process) the database is left alone
    (hub_dir / "jupyterhub.pid").write_text(str(os.getpid()))
    refused = add_user("frank", "--group", "vp")
    assert refused.returncode == 2 and "the hub is running" in refused.stderr


def test_the_demo_stack_adds_the_scheduler_and_a_mail_sink(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = load(monkeypatch, tmp_path, ECC_HUB_SCHEDULER="1", ECC_MAIL_SINK_PORT="8025")
    assert_every_setting_exists(cfg)
    services = {s["name"]: s for s in cfg.JupyterHub.services}
    assert set(services) == {"dashboards", "links", "scheduler", "mail-sink"}
    scheduler, sink = services["scheduler"], services["mail-sink"]
    assert scheduler["command"][1] == "scheduler" and "url" not in scheduler
    assert f"--schedules={ROOT / 'schedules'}" in scheduler["command"]
    assert scheduler["environment"]["ECC_DATABASE_URL"].endswith("ecc.sqlite")
    assert sink["command"][1:3] == ["mail-sink", "--port=8025"] and "url" not in sink
    with pytest.raises(ConfigError, match="ECC_MAIL_SINK_PORT='smtp' is not a port"):
        load(monkeypatch, tmp_path, ECC_MAIL_SINK_PORT="smtp")


def test_analysts_get_where_the_data_is_and_no_other_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Security finding 3 (its environment part): an analyst's server gets a read-only
    database and the notebooks — not the mail server, the share-link key, the alert
    subscribers or the Redis password that the services get, nor the live database."""
    secrets = {
        "ECC_SMTP_URL": "smtp://ops:s3cret@mail.example.com:587",
        "ECC_SECRET_KEY": "k" * 64,
        "ECC_REDIS_URL": "redis://:pw@127.0.0.1:6379/0",
        "ECC_ALERT_EMAILS": "vp@example.com",
    }
    cfg = load(monkeypatch, tmp_path, ECC_HOME=str(tmp_path), **secrets)
    lab = cfg.Spawner.environment
    assert set(lab) == {"ECC_DATABASE_URL", "ECC_NOTEBOOKS"}
    copy = tmp_path / "data" / "analysts" / "ecc.sqlite"
    assert lab["ECC_DATABASE_URL"] == f"sqlite:///file:{copy}?mode=ro&uri=true"
    services = {s["name"]: s["environment"] for s in cfg.JupyterHub.services}
    assert services["dashboards"]["ECC_SMTP_URL"] == secrets["ECC_SMTP_URL"]


def test_analysts_connect_to_postgresql_as_the_read_only_role(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Security finding 3: on PostgreSQL analysts get the ``ecc_analyst`` role's URL (or
    the one a deployer sets), never the services' own role."""
    cfg = load(monkeypatch, tmp_path, ECC_DATABASE_URL="postgresql://owner:pw@db:5432/ecc")
    assert cfg.Spawner.environment["ECC_DATABASE_URL"] == "postgresql://ecc_analyst@db:5432/ecc"
    given = "postgresql://reader:r3ad@db:5432/ecc"
    cfg = load(
        monkeypatch,
        tmp_path,
        ECC_DATABASE_URL="postgresql://owner:pw@db:5432/ecc",
        ECC_ANALYST_DATABASE_URL=given,
    )
    assert cfg.Spawner.environment["ECC_DATABASE_URL"] == given


def test_analysts_servers_never_run_as_the_hub_user(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Security finding 1: as root, each analyst runs as a system user of their own;
    a hub that cannot switch users starts no analyst server at all."""
    import asyncio
    import os

    from ecc.hub.identities import RefusingSpawner

    cfg = load(monkeypatch, tmp_path, ECC_HOME=str(tmp_path))
    expected = "AnalystSpawner" if os.geteuid() == 0 else "RefusingSpawner"
    assert cfg.JupyterHub.spawner_class == f"ecc.hub.identities.{expected}"
    assert cfg.AnalystSpawner.homes == str(tmp_path / "data" / "analysts")
    assert "--allow-root" not in (cfg.Spawner.get("args") or [])
    with pytest.raises(RuntimeError, match="never runs analysts' code as its own user"):
        asyncio.run(RefusingSpawner().start())
