"""Database access: one engine factory, schema creation and the version check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from . import config
from .errors import ConfigError, SchemaError
from .schema import SCHEMA_VERSION, ecc_meta, metadata


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cursor.close()


def _read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """A ``mode=ro`` connection (analysts' copy): the file refuses writes; the
    connection's own temporary tables (the metrics' working sets) stay allowed."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def sqlite_file(database: str | None) -> str | None:
    """The file of an SQLite URL's database part (``file:`` URIs included); None for
    an in-memory database."""
    if not database or database == ":memory:":
        return None
    return database.removeprefix("file:").split("?", 1)[0]


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (or ECC_DATABASE_URL, or the embedded SQLite file)."""
    raw = config.database_url(url)
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(
            f"database URL {raw!r} is not an SQLAlchemy URL; use e.g. sqlite:///path/ecc.sqlite "
            "or postgresql+psycopg://user@host:5432/dbname"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        read_only = parsed.query.get("mode") == "ro"
        path = sqlite_file(parsed.database)
        if path and not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _read_only_pragmas if read_only else _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigError(
        f"database {backend!r} is not supported; use sqlite:///... or postgresql+psycopg://..."
    )


def read_only_refusal(exc: DBAPIError) -> bool:
    """Whether the database refused a write because this connection may only read
    (SQLite's ``mode=ro`` copy, a PostgreSQL role with SELECT only)."""
    text_ = str(exc.orig).lower()
    return "readonly database" in text_ or "permission denied for table" in text_


def describe(engine: Engine) -> str:
    """The URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def init_schema(engine: Engine, *, reset: bool = False) -> None:
    """Create every table (idempotent) and record the schema version.

    ``reset`` drops the project's tables first (all data is lost).
    """
    try:
        with engine.begin() as conn:
            if reset:
                metadata.drop_all(conn)
            else:
                _upgrade(conn)
                _check(conn, allow_empty=True)
            metadata.create_all(conn)
            existing = conn.execute(
                select(ecc_meta.c.value).where(ecc_meta.c.key == "schema_version")
            ).scalar()
            if existing is None:
                conn.execute(
                    ecc_meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                )
    except OperationalError as exc:
        raise ConfigError(f"cannot open the database {describe(engine)}: {exc.orig}") from exc


def _upgrade_1_to_2(conn: Any) -> None:
    """Version 2 added the cache's run records, month-end snapshots and leaderboard history
    and re-keyed dashboard_metrics: the source data is kept, the cache is rebuilt by the
    next ``ecc refresh``."""
    conn.execute(text("DROP TABLE IF EXISTS dashboard_metrics"))


#: In-place upgrades from a schema version to the next; the source tables are kept.
def _upgrade_2_to_3(conn: Any) -> None:
    """Version 3 added share_links (created by the caller's create_all)."""


def _upgrade_3_to_4(conn: Any) -> None:
    """Version 4 added report_runs and mail_outbox for scheduled reports (created by the
    caller's create_all)."""


def _upgrade_4_to_5(conn: Any) -> None:
    """Version 5 added alert_subscribers and alert_deliveries for alert emails (created by
    the caller's create_all)."""


def _upgrade_5_to_6(conn: Any) -> None:
    """Version 6 added source_digests, source_changes, area_results and partial_results,
    with which a
    refresh reuses the areas a load did not change, and made dashboard_metrics rows name
    their area results: the cache is rebuilt by the next ``ecc refresh``."""
    conn.execute(text("DROP TABLE IF EXISTS dashboard_metrics"))


def _upgrade_6_to_7(conn: Any) -> None:
    """Version 7 added kept_states and kept_state_rows, the customer states a refresh
    keeps for the next one (created by the caller's create_all)."""


def _upgrade_7_to_8(conn: Any) -> None:
    """Version 8 added view_links, the views shared from a page (created by the caller's
    create_all)."""


def _upgrade_8_to_9(conn: Any) -> None:
    """Version 9 added subscriptions, the views people subscribe to from a page, and
    audit_events, who shared or subscribed what and when (created by the caller's
    create_all)."""


UPGRADES: dict[str, Callable[[Any], None]] = {
    "1": _upgrade_1_to_2,
    "2": _upgrade_2_to_3,
    "3": _upgrade_3_to_4,
    "4": _upgrade_4_to_5,
    "5": _upgrade_5_to_6,
    "6": _upgrade_6_to_7,
    "7": _upgrade_7_to_8,
    "8": _upgrade_8_to_9,
}


def _upgrade(conn: Any) -> None:
    """Apply the upgrades from the recorded schema version to this one, when there are any."""
    if "ecc_meta" not in set(inspect(conn).get_table_names()):
        return
    version = conn.execute(
        select(ecc_meta.c.value).where(ecc_meta.c.key == "schema_version")
    ).scalar()
    while version in UPGRADES:
        UPGRADES[version](conn)
        version = str(int(version) + 1)
        metadata.create_all(conn)
        conn.execute(
            ecc_meta.update().where(ecc_meta.c.key == "schema_version").values(value=version)
        )


def _check(conn: Any, *, allow_empty: bool) -> bool:
    """True when the schema is present and current; raise SchemaError when incompatible."""
    names = set(inspect(conn).get_table_names())
    if "ecc_meta" not in names:
        if names & {t for t in metadata.tables}:
            raise SchemaError(
                "this database holds command-center tables but no schema version: it was made "
                "by an incompatible version. Run `ecc init --reset` (deletes the data) and "
                "reload it with `ecc load DIR` or `ecc demo`."
            )
        if allow_empty:
            return False
        raise SchemaError(
            "the database has no command-center schema yet: run `ecc init`, then "
            "`ecc load DIR` or `ecc demo`."
        )
    version = conn.execute(
        select(ecc_meta.c.value).where(ecc_meta.c.key == "schema_version")
    ).scalar()
    if version in UPGRADES:
        raise SchemaError(
            f"this database was made by schema version {version}, this ecc needs version "
            f"{SCHEMA_VERSION}. Run `ecc init` to upgrade it (the data is kept)."
        )
    if version != str(SCHEMA_VERSION):
        raise SchemaError(
            f"this database was made by schema version {version}, this ecc needs version "
            f"{SCHEMA_VERSION}. Run `ecc init --reset` (deletes the data) and reload it with "
            "`ecc load DIR` or `ecc demo`."
        )
    return True


def check_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database has the schema this version needs."""
    try:
        with engine.connect() as conn:
            _check(conn, allow_empty=False)
    except SchemaError as exc:  # say which database: the default one depends on ECC_HOME
        raise SchemaError(f"{describe(engine)}: {exc}") from None
    except OperationalError as exc:
        raise ConfigError(f"cannot open the database {describe(engine)}: {exc.orig}") from exc
    except SQLAlchemyError as exc:  # pragma: no cover - unexpected driver errors
        raise ConfigError(f"database error on {describe(engine)}: {exc}") from exc
