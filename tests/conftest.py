"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

Every database test takes the ``engine`` fixture and so runs twice: on a new SQLite
file and on a PostgreSQL database made for this test session. PostgreSQL comes from
ECC_TEST_POSTGRES_URL (default: the local server, database ``test``). Outside CI the
PostgreSQL runs skip with a visible reason when no server answers; with CI=true they
fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ecc.db import init_schema, make_engine
from ecc.schema import metadata
from tests.support.empty_db import EmptyDatabases

PG_URL = os.environ.get(
    "ECC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_admin() -> Engine | None:
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
        return admin
    except Exception as exc:
        if IN_CI:
            raise RuntimeError(f"CI needs PostgreSQL at {PG_URL}: {exc}") from exc
        return None


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A PostgreSQL database of this test session's own (dropped at the end), or None."""
    admin = _pg_admin()
    if admin is None:
        yield None
        return
    name = f"ecc_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str | None) -> Iterator[str]:
    """An empty database URL: a new SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ecc.sqlite'}"
        return
    if pg_url is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set ECC_TEST_POSTGRES_URL)")
    eng = make_engine(pg_url)
    with eng.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
    eng.dispose()
    yield pg_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def empty_dbs(request: pytest.FixtureRequest, pg_url: str | None) -> Iterator[EmptyDatabases]:
    """For property tests: ``empty_dbs.fresh()`` gives each hypothesis example an empty
    database of the parameter's dialect (module-scoped, as hypothesis asks)."""
    if request.param == "postgresql" and pg_url is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set ECC_TEST_POSTGRES_URL)")
    dbs = EmptyDatabases(request.param, pg_url)
    try:
        yield dbs
    finally:
        dbs.close()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database with the current schema."""
    eng = make_engine(db_url)
    init_schema(eng)
    try:
        yield eng
    finally:
        eng.dispose()


#: Test modules that start whole servers (Voilà, JupyterHub, the proxy, Chromium): run
#: one after another on one xdist worker, so two stacks never share the two cores and a
#: page's time limit measures the page, not a neighbour's start-up.
SERVER_MODULES = frozenset(
    {
        "test_admission",
        "test_browser",
        "test_kernel_reclaim",
        "test_pool_repair",
        "test_zygote",
        "test_hub",
        "test_hub_oauth",
        "test_notebooks",
        "test_replicas",
        "test_first_paint",
        "test_analyst_attacks",
    }
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SERVER_MODULES:
            item.add_marker(pytest.mark.xdist_group("servers"))
