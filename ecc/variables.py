"""Every ``ECC_*`` setting, declared once: its name, default, meaning and whether it is a
secret. The code reads settings through :func:`value`, ``ecc config`` prints the ones in
force and where each came from (:func:`in_force`, secrets redacted), and
docs/configuration.md's table is :func:`markdown` (a test keeps them equal).

A default in backquotes is the value itself; a default in words is computed where the
setting is used (the project root, a file under it, the machine's cores).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .ui.pools import DEFAULT_POOL_SIZE


@dataclass(frozen=True)
class Setting:
    """One ``ECC_*`` environment variable."""

    name: str
    group: str
    help: str
    default: str = ""  # the value when unset ('' : unset, or computed: see default_text)
    default_text: str = ""  # how a computed default reads
    secret: bool = False

    def shown_default(self) -> str:
        if self.default_text:
            return self.default_text
        return f"`{self.default}`" if self.default else "unset"


_DATA = "data"
_HUB = "hub"
_MAIL = "mail and alerts"
_LOGIN = "company login (ECC_HUB_AUTH=oauth)"
_RUN = "set by the stack for the processes it starts"

SETTINGS: tuple[Setting, ...] = (
    # data and files
    Setting(
        "ECC_DATABASE_URL",
        _DATA,
        "SQLAlchemy URL of the data: `sqlite:///path` or "
        "`postgresql+psycopg://user@host:5432/db` (`--db URL` on a command wins)",
        default_text="`data/ecc.sqlite` under the project root",
    ),
    Setting(
        "ECC_HOME",
        _DATA,
        "the project root: `data/` (database, hub state, mail) and `outputs/` live under "
        "it; never the current directory, so every command and process uses one root",
        default_text="the checkout",
    ),
    Setting("ECC_REDIS_URL", _DATA, "Redis read-through cache of dashboard payloads (optional)"),
    Setting(
        "ECC_STALE_DAYS",
        _DATA,
        "pages, reports and scheduled mail warn when the latest data is more than this many "
        "days old (the daily load did not run)",
        "2",
    ),
    Setting(
        "ECC_SECRET_KEY",
        _DATA,
        "the key that signs share links",
        default_text="generated once, kept in `data/hub/share-key` (owner-only)",
        secret=True,
    ),
    Setting(
        "ECC_SHARE_MAX_DAYS",
        _DATA,
        "the longest a view shared from a page may stay open, in days",
        "90",
    ),
    Setting("ECC_CHROMIUM", _DATA, "the Chromium that prints PDF reports", "/usr/bin/chromium"),
    Setting(
        "ECC_ANALYST_DATABASE_URL",
        _DATA,
        "the read-only database analysts get",
        default_text="the `ecc_analyst` role (PostgreSQL); the published copy (SQLite)",
    ),
    Setting(
        "ECC_DASHBOARDS_DATABASE_URL",
        _DATA,
        "the dashboards' kernels' database: read, record acknowledgements and shared links only",
        default_text="the `ecc_dashboards` role (PostgreSQL); the data URL (SQLite)",
    ),
    # the hub and the dashboards service
    Setting(
        "ECC_HUB_URL",
        _HUB,
        "where people reach the hub (the proxy listens there; put TLS in front in production)",
        "http://127.0.0.1:8000",
    ),
    Setting("ECC_HUB_API_PORT", _HUB, "the hub's own port on 127.0.0.1", "8081"),
    Setting("ECC_HUB_PROXY_API_PORT", _HUB, "the proxy's API port on 127.0.0.1", "8001"),
    Setting("ECC_DASHBOARDS_PORT", _HUB, "the dashboards service's port on 127.0.0.1", "8867"),
    Setting("ECC_SHARE_PORT", _HUB, "the share-links service's port on 127.0.0.1", "8877"),
    Setting(
        "ECC_HUB_AUTH",
        _HUB,
        "`native` (the hub's own logins) or `oauth` (a company login)",
        "native",
    ),
    Setting(
        "ECC_HUB_DIR",
        _HUB,
        "the hub's database, cookie secret, pid files, log and analysts' folders",
        default_text="`data/hub` under the project root",
    ),
    Setting(
        "ECC_HUB_DB_URL",
        _HUB,
        "the hub's own database (PostgreSQL in production)",
        default_text="SQLite in `ECC_HUB_DIR`",
    ),
    Setting(
        "ECC_HUB_SPAWNER",
        _HUB,
        "how analysts' JupyterLab starts (a system user each; none without root)",
        default_text="as root `ecc.hub.identities.AnalystSpawner`, else `…RefusingSpawner`",
    ),
    Setting(
        "ECC_DASHBOARDS_POOL_SIZE",
        _HUB,
        "preheated kernels per dashboard besides the landing page, which keeps 2",
        str(DEFAULT_POOL_SIZE),
    ),
    Setting(
        "ECC_DASHBOARDS_REPLICAS",
        _HUB,
        "dashboards servers behind HAProxy at the dashboards port (docs/DEPLOY.md)",
        "1",
    ),
    Setting(
        "ECC_KERNEL_STARTS",
        _HUB,
        "viewers' kernels started at once",
        default_text="the machine's cores − 1 (at least 1)",
    ),
    Setting(
        "ECC_MAX_KERNELS",
        _HUB,
        "kernels in all; past it, viewers wait with their numbers shown",
        default_text="free memory ÷ 350 MB (at least 4)",
    ),
    Setting(
        "ECC_REFRESH_EVERY",
        _HUB,
        "minutes between cache refreshes by the dashboards service (0: none)",
        "15",
    ),
    Setting(
        "ECC_HUB_SCHEDULER",
        _HUB,
        "`1`: the hub also runs `ecc scheduler` (what `make demo` does)",
    ),
    Setting(
        "ECC_MAIL_SINK_PORT",
        _HUB,
        "a port: the hub also runs `ecc mail-sink` there (what `make demo` does)",
    ),
    Setting(
        "ECC_NOTEBOOKS",
        _HUB,
        "the dashboard notebooks the services serve",
        default_text="`notebooks/` of the checkout",
    ),
    Setting(
        "ECC_VIEWER",
        _HUB,
        "who is looking, outside the hub (an acknowledgement records it)",
        default_text="the operating-system user",
    ),
    # mail and alerts
    Setting(
        "ECC_SMTP_URL",
        _MAIL,
        "where mail goes: `smtp://user:pass@host:587?starttls=true`, `smtps://…` "
        "(unset: `ecc scheduler` refuses to start)",
        secret=True,
    ),
    Setting(
        "ECC_ORG_DOMAINS",
        _MAIL,
        "the organisation's mail domains (comma-separated): a subscription to any other "
        "address waits for an admin's approval",
        default_text="the domain of `ECC_MAIL_FROM`",
    ),
    Setting(
        "ECC_MAIL_FROM",
        _MAIL,
        "the sender of every email",
        "Executive Command Center <ecc@localhost>",
    ),
    Setting(
        "ECC_ADMIN_EMAILS",
        _MAIL,
        "comma-separated: told of failed scheduled runs and undeliverable mail",
    ),
    Setting(
        "ECC_ALERT_EMAILS",
        _MAIL,
        "subscribed to alert mail when nobody is: "
        "`vp@example.com:immediate,admin@example.com` (default cadence daily)",
    ),
    Setting("ECC_ALERT_DAILY_CRON", _MAIL, "when the daily alert digest goes out", "0 7 * * *"),
    Setting("ECC_ALERT_WEEKLY_CRON", _MAIL, "when the weekly alert digest goes out", "0 7 * * 1"),
    Setting("ECC_ALERT_TIMEZONE", _MAIL, "the time zone of the digests' times", "UTC"),
    Setting(
        "ECC_SUBSCRIPTIONS_EVERY",
        _MAIL,
        "how often, in seconds, the scheduler reads the subscriptions made from the pages",
        "20",
    ),
    Setting(
        "ECC_DASHBOARDS_URL",
        _MAIL,
        "where links in mail point",
        default_text="the hub's dashboards service with `ECC_HUB_URL`, "
        "else `http://127.0.0.1:8866/`",
    ),
    # company login
    Setting("ECC_OAUTH_CLIENT_ID", _LOGIN, "the client registered at the provider (required)"),
    Setting(
        "ECC_OAUTH_CLIENT_SECRET",
        _LOGIN,
        "the client's secret at the provider (required)",
        secret=True,
    ),
    Setting("ECC_OAUTH_AUTHORIZE_URL", _LOGIN, "the provider's authorization endpoint (required)"),
    Setting("ECC_OAUTH_TOKEN_URL", _LOGIN, "the provider's token endpoint (required)"),
    Setting("ECC_OAUTH_USERDATA_URL", _LOGIN, "the provider's userinfo endpoint (required)"),
    Setting(
        "ECC_OAUTH_CALLBACK_URL",
        _LOGIN,
        "where the provider sends people back",
        default_text="`$ECC_HUB_URL/hub/oauth_callback`",
    ),
    Setting("ECC_OAUTH_SCOPES", _LOGIN, "the scopes asked for", "openid profile email groups"),
    Setting(
        "ECC_OAUTH_USERNAME_CLAIM", _LOGIN, "the claim that names a person", "preferred_username"
    ),
    Setting(
        "ECC_OAUTH_GROUPS_CLAIM",
        _LOGIN,
        "where the groups are in the userinfo answer (dotted path)",
        "groups",
    ),
    Setting(
        "ECC_OAUTH_ROLE_GROUPS",
        _LOGIN,
        "which provider groups give which role, e.g. "
        "`vp=CS Leadership,admin=IT Admins|CS Ops,analyst=CS Analysts`; "
        "a role not named keeps its own name",
    ),
    Setting("ECC_OAUTH_LOGIN_SERVICE", _LOGIN, "the login button's text", "your company account"),
    # set by the stack
    Setting("ECC_SERVICE", _RUN, "which hub service a process is (`ecc hub` sets it)"),
    Setting("ECC_DASHBOARDS_REPLICA", _RUN, "which dashboards replica a process is"),
    Setting(
        "ECC_BODY_CACHE",
        _RUN,
        "the folder where a dashboards server and its kernels share the pages they drew "
        "(`ecc serve` and the dashboards service make one for their lifetime)",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """The declared setting ``name`` (a KeyError for a name nobody declared)."""
    return _BY_NAME[name]


def value(name: str, env: Mapping[str, str] | None = None) -> str:
    """The setting's text in ``env`` (default: the process environment), stripped, or its
    default ('' when it has none or it is computed where used)."""
    given = (os.environ if env is None else env).get(name, "").strip()
    return given or setting(name).default


def given(name: str, env: Mapping[str, str] | None = None) -> str:
    """The setting's text in ``env`` (default: the process environment), stripped; ''
    when it is not set, whatever its default (for "is it set?" questions)."""
    setting(name)  # declared
    return (os.environ if env is None else env).get(name, "").strip()


def in_force(
    env: Mapping[str, str] | None = None, computed: Mapping[str, str] | None = None
) -> list[tuple[Setting, str, str]]:
    """(setting, value as shown, where it came from) for every setting: ``environment``,
    ``computed`` (a default worked out where it is used, given in ``computed``) or
    ``default``. Secrets set in the environment show as ``(set, hidden)``."""
    source = os.environ if env is None else env
    known = computed or {}
    out = []
    for s in SETTINGS:
        given = source.get(s.name, "").strip()
        if given:
            out.append((s, "(set, hidden)" if s.secret else redacted(given), "environment"))
        elif s.name in known:
            out.append((s, redacted(known[s.name]), "computed"))
        else:
            shown = s.default or s.default_text.replace("`", "") or "unset"
            out.append((s, shown, "default"))
    return out


def redacted(text: str) -> str:
    """``text`` with the password of a URL in it (``scheme://user:password@host``) hidden."""
    if "://" not in text:
        return text
    try:
        password = urlsplit(text).password
    except ValueError:
        return text
    return text.replace(f":{password}@", ":***@") if password else text


def markdown() -> str:
    """docs/configuration.md's table of every setting, by group."""
    lines = []
    group = None
    for s in SETTINGS:
        if s.group != group:
            group = s.group
            lines += ["", f"**{group[0].upper()}{group[1:]}**", ""]
            lines += ["| setting | default | meaning |", "|---|---|---|"]
        secret = " (a secret: `ecc config` hides it)" if s.secret else ""
        cells = (f"`{s.name}`", s.shown_default(), s.help + secret)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines).strip() + "\n"
