"""A refresh's read of the data: one state, on both of its connections, whatever a load
commits meanwhile (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from ecc.cache.reader import consistent_read, second_reader
from ecc.db import init_schema, make_engine
from ecc.schema import csms, ecc_meta


def _csm_count(conn: Connection) -> int:
    return len(conn.execute(select(csms.c.csm_id)).all())


def _add_csm(engine: Engine, csm_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            csms.insert().values(
                csm_id=csm_id,
                name=csm_id,
                email=f"{csm_id}@example.com",
                segment="SMB",
                target_accounts=50,
                target_arr=1_000_000,
                active=True,
            )
        )


def test_both_connections_read_the_state_before_a_load_that_commits_meanwhile(
    engine: Engine,
) -> None:
    _add_csm(engine, "c1")
    with consistent_read(engine) as read:
        assert read.twin is not None
        _add_csm(engine, "c2")  # a load commits while the refresh reads
        assert _csm_count(read.conn) == 1
        with second_reader(read.twin) as submit:
            assert submit is not None
            assert submit(_csm_count).result(timeout=30) == 1
        assert _csm_count(read.conn) == 1
        read.conn.rollback()
    with engine.connect() as conn:
        assert _csm_count(conn) == 2  # the next read sees the load


def test_sqlite_reads_on_one_connection_while_a_load_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ecc.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    init_schema(engine)
    _add_csm(engine, "c1")
    load = sqlite3.connect(path, isolation_level=None)
    try:
        load.execute("BEGIN IMMEDIATE")
        load.execute("INSERT INTO ecc_meta (key, value) VALUES ('loading', 'yes')")
        with consistent_read(engine) as read:
            assert read.twin is None  # no waiting on the load for a second connection
            with second_reader(read.twin) as submit:
                assert submit is None
            load.execute("COMMIT")
            _add_csm(engine, "c2")
            # still the state from before the load, on the one connection
            assert _csm_count(read.conn) == 1
            got = read.conn.execute(select(ecc_meta.c.value).where(ecc_meta.c.key == "loading"))
            assert got.scalar() is None
            read.conn.rollback()
    finally:
        load.close()
        engine.dispose()
