"""Security finding 3: analysts read the source tables and the published numbers and
nothing else, and write nothing — enforced by the database (a read-only role on
PostgreSQL, a published read-only copy on SQLite), not by the notebooks' manners."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ecc.cache import metrics_for
from ecc.db import init_schema, make_engine, read_only_refusal
from ecc.db_roles import (
    DASHBOARDS_ROLE,
    PRIVATE,
    ROLE,
    analyst_url,
    dashboards_url,
    grant_postgres,
    make_private,
    publish_if_wanted,
    publish_sqlite,
    readable_tables,
    sqlite_read_only_url,
    start_publishing,
)
from ecc.request import resolve
from ecc.schema import metadata
from tests.support.builders import demo_sqlite

TODAY = date(2026, 6, 30)
WRITES = [
    "DELETE FROM dashboard_metrics",
    "UPDATE executive_alerts SET acknowledged_by = 'vp'",
    "INSERT INTO share_links (link_id, title, html, created_at, expires_at) "
    "VALUES ('x', 't', '<form>', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "UPDATE customers SET name = 'x'",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = demo_sqlite(tmp_path_factory.mktemp("live"), customers=150, seed=3, today=TODAY)
    engine = make_engine(url)
    from ecc.cache.refresh import refresh

    refresh(engine, prepare=False)
    engine.dispose()
    return url


def test_the_published_copy_holds_the_readable_tables_only(live: str, tmp_path: Path) -> None:
    engine = make_engine(live)
    copy = publish_sqlite(engine, tmp_path / "copy.sqlite")
    assert copy.stat().st_mode & 0o777 == 0o640
    reader = make_engine(sqlite_read_only_url(copy))
    try:
        names = set(inspect(reader).get_table_names())
        assert names == {t.name for t in readable_tables()}
        assert not names & PRIVATE and "apscheduler_jobs" not in names
        with engine.connect() as a, reader.connect() as b:
            for table in ("customers", "arr_events", "dashboard_metrics", "executive_alerts"):
                count = f"SELECT count(*) FROM {table}"
                assert a.execute(text(count)).scalar() == b.execute(text(count)).scalar()
        # the same numbers, read from the copy (its cache, as a notebook would)
        assert _metrics(reader) == _metrics(engine)
        # nothing of the private tables' contents is in the file either
        assert b"share_links" not in copy.read_bytes()
    finally:
        reader.dispose()
        engine.dispose()


def _metrics(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        req = resolve(conn, preset="this_quarter", compare="previous")
    return metrics_for(engine, req.period, compare=req.compare, scope=req.scope).data


@pytest.mark.parametrize("statement", WRITES)
def test_the_copy_refuses_every_write(live: str, tmp_path: Path, statement: str) -> None:
    engine = make_engine(live)
    copy = publish_sqlite(engine, tmp_path / "copy.sqlite")
    engine.dispose()
    reader = make_engine(sqlite_read_only_url(copy))
    try:
        with pytest.raises(DBAPIError) as refused, reader.begin() as conn:
            conn.execute(text(statement))
        assert read_only_refusal(refused.value) or "no such table" in str(refused.value)
    finally:
        reader.dispose()
    # and the file itself is not writable to anyone but its owner
    assert not copy.stat().st_mode & 0o022


def test_a_refresh_publishes_the_copy_of_the_named_database_only(live: str, tmp_path: Path) -> None:
    env = {"ECC_HOME": str(tmp_path)}
    engine = make_engine(live)
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    try:
        assert publish_if_wanted(engine, env) is None  # nobody asked for a copy
        published = start_publishing(engine, env)
        assert published == tmp_path / "data" / "analysts" / "ecc.sqlite"
        assert (tmp_path / "data").stat().st_mode & 0o777 == 0o711
        published.unlink()
        assert publish_if_wanted(other, env) is None  # not the database analysts read
        assert not published.exists()
        assert publish_if_wanted(engine, env) == published
        assert sqlite3.connect(published).execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        engine.dispose()
        other.dispose()


def test_the_analysts_url_on_sqlite_is_the_read_only_copy(tmp_path: Path) -> None:
    url = analyst_url(f"sqlite:///{tmp_path}/data/ecc.sqlite", {"ECC_HOME": str(tmp_path)})
    assert url == f"sqlite:///file:{tmp_path}/data/analysts/ecc.sqlite?mode=ro&uri=true"
    # such a URL names no folder to make, and is not made relative to anywhere
    make_engine(url).dispose()
    assert not (Path.cwd() / "file:").exists()


def refused_all(engine: Engine, statements: list[str]) -> None:
    """Each statement, in a transaction of its own, is refused for lack of rights."""
    for statement in statements:
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text(statement))
        assert read_only_refusal(refused.value), statement


def _as_analyst(url: str) -> Engine:
    return create_engine(
        make_url(analyst_url(url, {})).set(drivername="postgresql+psycopg"),
    )


def test_postgresql_analysts_read_sources_and_published_numbers_only(
    pg_url: str | None,
) -> None:
    if pg_url is None:  # CI fails in the fixture instead
        pytest.skip("PostgreSQL is not reachable (set ECC_TEST_POSTGRES_URL)")
    engine = make_engine(pg_url)
    init_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS apscheduler_jobs (id text, job_state bytea)"))
    grant_postgres(engine)
    grant_postgres(engine)  # idempotent
    analyst = _as_analyst(pg_url)
    try:
        with analyst.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == ROLE
            for table in ("customers", "arr_events", "dashboard_metrics", "executive_alerts"):
                conn.execute(text(f"SELECT count(*) FROM {table}"))
        for table in [*sorted(PRIVATE), "apscheduler_jobs"]:
            with pytest.raises(DBAPIError) as refused, analyst.connect() as conn:
                conn.execute(text(f"SELECT * FROM {table}"))
            assert read_only_refusal(refused.value), table
        refused_all(analyst, [*WRITES, "INSERT INTO apscheduler_jobs VALUES ('x', '\\x80')"])
    finally:
        analyst.dispose()
        engine.dispose()


def test_the_cli_says_read_only_in_one_line(tmp_path: Path, live: str) -> None:
    import subprocess
    import sys

    engine = make_engine(live)
    copy = publish_sqlite(engine, tmp_path / "copy.sqlite")
    engine.dispose()
    env = {**os.environ, "ECC_DATABASE_URL": sqlite_read_only_url(copy)}
    done = subprocess.run(
        [sys.executable, "-m", "ecc.cli", "alerts", "ack", "--by", "vp", "1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("ecc: error: this database is read-only for you")
    assert "Traceback" not in done.stderr


def test_the_live_file_is_made_its_owners_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    engine = make_engine(url)
    init_schema(engine)
    for suffix in ("", "-wal", "-shm"):
        path = tmp_path / f"live.sqlite{suffix}"
        path.touch()
        path.chmod(0o644)  # as a tool with a lax umask would leave it
    try:
        assert len(make_private(engine)) == 3
        assert {p.stat().st_mode & 0o777 for p in tmp_path.glob("live.sqlite*")} == {0o600}
        assert make_private(engine) == []
    finally:
        engine.dispose()


def test_postgresql_dashboards_kernels_read_and_only_acknowledge(pg_url: str | None) -> None:
    """Security finding 3, the dashboards' side: the kernels that render VPs' pages
    connect as ``ecc_dashboards``, which renders every page and records an
    acknowledgement, and changes nothing else."""
    import subprocess
    import sys

    from ecc.alerts.store import acknowledge
    from ecc.schema import executive_alerts
    from ecc.ui.pages import build_context, load_all
    from ecc.ui.view import parse_query

    if pg_url is None:  # CI fails in the fixture instead
        pytest.skip("PostgreSQL is not reachable (set ECC_TEST_POSTGRES_URL)")
    owner = make_engine(pg_url)
    with owner.begin() as conn:
        metadata.drop_all(conn)
    owner.dispose()
    for args in (
        ["demo", "--customers", "150", "--seed", "3", "--today", TODAY.isoformat()],
        ["refresh"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ecc.cli", *args, "--db", pg_url],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    owner = make_engine(pg_url)
    grant_postgres(owner)
    kernels = create_engine(make_url(dashboards_url(pg_url, {})))
    try:
        with kernels.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == DASHBOARDS_ROLE
            for name, page in load_all().items():
                if name in ("account", "csm"):
                    continue  # drill-downs need an id; the same queries as their lists
                build_context(conn, page, parse_query(""))
            first = conn.execute(text("SELECT min(alert_id) FROM executive_alerts")).scalar()
        assert first is not None
        assert acknowledge(kernels, [first], "vp") == 1
        with owner.connect() as conn:
            row = conn.execute(
                executive_alerts.select().where(executive_alerts.c.alert_id == first)
            ).one()
            assert row.acknowledged_by == "vp"
        # and shares a view (issue 19): a new link, its listing and its withdrawal
        from ecc.share.views import list_views, revoke_view, share_view

        made = share_view(kernels, "risk", "preset=this_quarter", kind="frozen", created_by="vp")
        with kernels.connect() as conn:
            assert [r["link_id"] for r in list_views(conn, "vp")] == [made.link_id]
        revoke_view(kernels, made.link_id, "vp")
        # and sets alert mail in the alerts center (part 4)
        from ecc.alerts.preferences import set_mine

        assert set_mine(kernels, "vp", "vp@example.com", "weekly").startswith("Alert mail")
        refused_all(
            kernels,
            [
                *WRITES[:1],
                WRITES[2],
                WRITES[3],
                "UPDATE executive_alerts SET severity = 'low'",
                "SELECT * FROM share_links",
                "SELECT * FROM alert_deliveries",
                # a link's counts and dates are the links service's; none is deleted
                "UPDATE view_links SET views = 1000",
                "UPDATE view_links SET expires_at = now() + interval '1 year'",
                "DELETE FROM view_links",
                # the audit trail is appended to, never read back, changed or emptied
                "SELECT * FROM audit_events",
                "UPDATE audit_events SET actor = 'nobody'",
                "DELETE FROM audit_events",
            ],
        )
    finally:
        kernels.dispose()
        owner.dispose()


def test_the_dashboards_url_by_database() -> None:
    sqlite = "sqlite:////srv/ecc/data/ecc.sqlite"
    assert dashboards_url(sqlite, {}) == sqlite  # one file: the OS user is the boundary
    pg = "postgresql+psycopg://owner:s3cret@db:5432/ecc"
    assert dashboards_url(pg, {}) == "postgresql+psycopg://ecc_dashboards@db:5432/ecc"
    mine = "postgresql+psycopg://reader:pw@db:5432/ecc"
    assert dashboards_url(pg, {"ECC_DASHBOARDS_DATABASE_URL": mine}) == mine
