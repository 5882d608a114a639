"""Data access by role, enforced by the database rather than by good manners.

The command center's own processes (load, refresh, scheduler, share links) connect as
the role that owns the tables and write. Two roles only read:

- **analysts** read the source tables of DATA.md and the published cache (the
  dashboards' numbers, month-end snapshots, the leaderboard history, alerts) — never
  the scheduler's job store, share links, the mail outbox, the alert subscribers and
  deliveries, report runs or the refresh's own intermediates — and write nothing;
- **the dashboards' kernels** (the processes that render VPs' pages) read the same
  tables and may only record who acknowledged an alert and when, share a view (add a
  link to ``view_links``, read the links, withdraw one), keep subscriptions and alert-mail
  choices (``subscriptions``, ``alert_subscribers``: add, read, change) and append to the
  audit trail (``audit_events``: add only, never read back, change or delete). Who may
  change which subscription (its owner; any, an admin) and approval of outside
  recipients are the pages' rules: a kernel runs only the page's own code (Voilà
  executes no code sent from a browser), so the role's rights bound what a flaw in that
  code could reach, and the audit trail records each change with its author.

- **PostgreSQL**: a role each (:data:`ROLE` ``ecc_analyst``, :data:`DASHBOARDS_ROLE`
  ``ecc_dashboards``) with exactly those rights; :func:`grant_postgres` creates them and
  sets their rights (idempotent; ``ecc hub start`` runs it). :func:`analyst_url` and
  :func:`dashboards_url` are the URLs they get (``ECC_ANALYST_DATABASE_URL`` and
  ``ECC_DASHBOARDS_DATABASE_URL`` when a deployer sets roles of their own, with
  passwords).
- **SQLite** (the single-machine default): a published copy holding only those tables
  (:func:`publish_sqlite`), group-readable by the analysts' system group and nothing else,
  opened with ``mode=ro``. ``ecc hub start`` publishes it when analysts run as system
  users of their own (:mod:`ecc.hub.identities`), and every ``ecc refresh`` of that
  database publishes it again.
"""

from __future__ import annotations

import grp
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, Table, create_engine, text
from sqlalchemy.engine import URL, make_url

from . import paths
from .db import sqlite_file
from .errors import ConfigError
from .schema import metadata

#: The database role analysts connect as on PostgreSQL.
ROLE = "ecc_analyst"
#: The database role of the dashboards' kernels on PostgreSQL.
DASHBOARDS_ROLE = "ecc_dashboards"
#: What the dashboards' kernels may change: the acknowledgement of an alert.
ACKNOWLEDGE = ("executive_alerts", ("acknowledged_by", "acknowledged_at"))
#: And the views shared from a page: a new link, read back (the "Shared links" page), and
#: its withdrawal; its token's hash, views and last opening are the links service's.
SHARE = ("view_links", ("revoked_at", "revoked_by"))
#: And their subscriptions: made, read and changed from the pages (the scheduler sends).
SUBSCRIBE = "subscriptions"
#: And what they did, in the audit trail: appended only.
AUDIT = "audit_events"
#: And who gets alert mail, set by each person (an admin: anyone) in the alerts center.
ALERT_MAIL = "alert_subscribers"
#: The system group of analysts' identities; the SQLite copy is readable by it alone.
GROUP = "ecc-analysts"
#: Tables analysts never read: delivery machinery, secrets of other people, intermediates.
PRIVATE = frozenset(
    {
        "share_links",
        "view_links",
        "subscriptions",
        "audit_events",
        "report_runs",
        "mail_outbox",
        "alert_subscribers",
        "alert_deliveries",
        "partial_results",
        "kept_states",
        "kept_state_rows",
    }
)


def readable_tables() -> list[Table]:
    """The tables analysts read, in dependency order (the rest of the schema is private;
    tables outside the schema, such as the scheduler's job store, are private too)."""
    return [t for t in metadata.sorted_tables if t.name not in PRIVATE]


def analyst_url(data_url: str, env: Mapping[str, str] | None = None) -> str:
    """The database URL analysts get: ``ECC_ANALYST_DATABASE_URL`` when set; on
    PostgreSQL the data URL as :data:`ROLE` (no password: the server's authentication
    decides); on SQLite the published copy, read-only."""
    env = os.environ if env is None else env
    return _url_of(data_url, env, "ECC_ANALYST_DATABASE_URL", ROLE) or sqlite_read_only_url(
        published_path(env)
    )


def dashboards_url(data_url: str, env: Mapping[str, str] | None = None) -> str:
    """The database URL the dashboards' kernels get: ``ECC_DASHBOARDS_DATABASE_URL`` when
    set; on PostgreSQL the data URL as :data:`DASHBOARDS_ROLE`; on SQLite the data URL
    (one file, one system user: the file cannot tell the kernels from the refresh)."""
    env = os.environ if env is None else env
    return _url_of(data_url, env, "ECC_DASHBOARDS_DATABASE_URL", DASHBOARDS_ROLE) or data_url


def _url_of(data_url: str, env: Mapping[str, str], setting: str, role: str) -> str | None:
    """The deployer's ``setting``, else on PostgreSQL ``data_url`` as ``role``; None on
    SQLite (the caller's own answer)."""
    given = env.get(setting, "").strip()
    if given:
        return given
    if make_url(data_url).get_backend_name() == "postgresql":
        return role_url(data_url, role)
    return None


def role_url(data_url: str, role: str) -> str:
    """``data_url`` as the database role ``role``, without the services' password (the
    server's authentication decides)."""
    url = make_url(data_url)
    bare = URL.create(url.drivername, role, None, url.host, url.port, url.database, url.query)
    return bare.render_as_string(hide_password=False)


def sqlite_read_only_url(path: Path) -> str:
    """A URL that opens the SQLite file ``path`` read-only (SQLite's ``mode=ro``)."""
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def published_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the analysts' copy of an SQLite database is published."""
    return paths.analysts_dir(env) / "ecc.sqlite"


def grant_postgres(engine: Engine) -> None:
    """Create :data:`ROLE` and :data:`DASHBOARDS_ROLE` when missing and leave them exactly
    their rights: ``SELECT`` on :func:`readable_tables` (those present), and for the
    dashboards ``UPDATE`` of an alert's acknowledgement; raise ConfigError with the fix
    when the connecting role may not manage roles."""
    readable = {t.name for t in readable_tables()}
    table, columns = ACKNOWLEDGE
    try:
        with engine.begin() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            present = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                ).scalars()
            )
            for role in (ROLE, DASHBOARDS_ROLE):
                # roles belong to the whole server: another database's stack may make it too
                conn.execute(
                    text(
                        f"DO $$ BEGIN CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB "
                        "NOCREATEROLE; EXCEPTION WHEN duplicate_object OR unique_violation "
                        "THEN NULL; END $$"
                    )
                )
                conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
                conn.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}'))
                conn.execute(text(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {role}'))
                for name in sorted(readable & present):
                    conn.execute(text(f'GRANT SELECT ON "{schema}"."{name}" TO {role}'))
            if table in present:
                names = ", ".join(columns)
                conn.execute(
                    text(f'GRANT UPDATE ({names}) ON "{schema}"."{table}" TO {DASHBOARDS_ROLE}')
                )
            for table_, rights, key in (
                (SUBSCRIBE, "SELECT, INSERT, UPDATE", "sub_id"),
                (AUDIT, "INSERT", "event_id"),  # appended, never changed nor read back
                (ALERT_MAIL, "SELECT, INSERT, UPDATE, DELETE", ""),  # set in the alerts center
            ):
                if table_ not in present:
                    continue
                conn.execute(text(f'GRANT {rights} ON "{schema}"."{table_}" TO {DASHBOARDS_ROLE}'))
                serial = (
                    key
                    and conn.execute(
                        text("SELECT pg_get_serial_sequence(:t, :c)"),
                        {"t": f'"{schema}"."{table_}"', "c": key},
                    ).scalar()
                )
                if serial:  # the ids of new rows, and no other sequence
                    conn.execute(text(f"GRANT USAGE ON SEQUENCE {serial} TO {DASHBOARDS_ROLE}"))
            shared, revoke = SHARE
            if shared in present:
                conn.execute(
                    text(f'GRANT SELECT, INSERT ON "{schema}"."{shared}" TO {DASHBOARDS_ROLE}')
                )
                conn.execute(
                    text(
                        f'GRANT UPDATE ({", ".join(revoke)}) ON "{schema}"."{shared}" '
                        f"TO {DASHBOARDS_ROLE}"
                    )
                )
    except Exception as exc:  # the driver's own error says which right is missing
        raise ConfigError(
            f"cannot set up the read-only database roles {ROLE!r} and {DASHBOARDS_ROLE!r}: "
            f"{exc}. Connect as a role that may create roles (CREATEROLE) and owns the "
            "tables, or create such roles yourself and set ECC_ANALYST_DATABASE_URL and "
            "ECC_DASHBOARDS_DATABASE_URL to them"
        ) from exc


def publish_sqlite(engine: Engine, target: Path) -> Path:
    """Write a copy of the SQLite database behind ``engine`` holding only
    :func:`readable_tables` to ``target``, replacing the previous copy at once (readers
    keep the copy they opened): rollback-journal mode, so that a read-only connection
    needs nothing but read access; mode 0640, group :data:`GROUP` when it exists."""
    source = sqlite_file(engine.url.database)
    if engine.url.get_backend_name() != "sqlite" or not source:
        raise ConfigError("only an SQLite database file is published for analysts")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    tables = readable_tables()
    plain = create_engine(f"sqlite:///{partial}")
    try:
        metadata.create_all(plain, tables=tables)
    finally:
        plain.dispose()
    try:
        with sqlite3.connect(f"file:{partial}", uri=True, isolation_level=None) as copy:
            copy.execute("PRAGMA journal_mode=DELETE")
            copy.execute("ATTACH DATABASE ? AS live", (f"file:{source}?mode=ro",))
            copy.execute("BEGIN")
            for table in tables:
                columns = ", ".join(f'"{c.name}"' for c in table.columns)
                copy.execute(
                    f'INSERT INTO main."{table.name}" ({columns}) '
                    f'SELECT {columns} FROM live."{table.name}"'
                )
            copy.execute("COMMIT")
            copy.execute("DETACH DATABASE live")
        copy.close()
        os.chmod(partial, 0o640)
        gid = group_id()
        if gid is not None and os.geteuid() == 0:
            os.chown(partial, 0, gid)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def make_private(engine: Engine) -> list[Path]:
    """Make the live SQLite file and its journal files readable by their owner only,
    whoever created them and with whatever umask (``ecc`` itself makes them so); the
    files changed."""
    source = sqlite_file(engine.url.database)
    if engine.url.get_backend_name() != "sqlite" or not source:
        return []
    changed = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(source + suffix)
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)
            changed.append(path)
    return changed


def group_id() -> int | None:
    """The analysts' system group, when it exists."""
    try:
        return grp.getgrnam(GROUP).gr_gid
    except KeyError:
        return None


#: In the analysts' folder: the SQLite file whose copy is published there.
SOURCE_FILE = "published-from"


def start_publishing(engine: Engine, env: Mapping[str, str] | None = None) -> Path:
    """Make the analysts' folder (``data/analysts/``: traversable, not listable), name
    the database published there and publish it; its path."""
    folder = paths.analysts_dir(env)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o711)
    paths.data_dir(env).chmod(0o711)  # analysts pass through to their copy and homes only
    source = Path(sqlite_file(engine.url.database) or "").resolve()
    (folder / SOURCE_FILE).write_text(f"{source}\n")
    return publish_sqlite(engine, published_path(env))


def publish_if_wanted(engine: Engine, env: Mapping[str, str] | None = None) -> Path | None:
    """Publish the analysts' SQLite copy again when ``engine`` is the database
    :func:`start_publishing` named; None when nothing was to be published."""
    if engine.url.get_backend_name() != "sqlite":
        return None
    named = paths.analysts_dir(env) / SOURCE_FILE
    try:
        source = Path(named.read_text().strip())
    except OSError:
        return None
    if Path(sqlite_file(engine.url.database) or "").resolve() != source:
        return None  # another database: its copy is not the one analysts are given
    return publish_sqlite(engine, published_path(env))
