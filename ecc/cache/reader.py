"""One consistent read of the data for a refresh, on two connections.

A refresh computes every number from one state of the data, whatever a load commits
meanwhile. It reads on a first connection and, where the database allows it, runs
independent queries on a second one reading the very same state, in a worker thread —
the machine's other core.

- PostgreSQL: both connections are REPEATABLE READ; the second imports the first's
  exported snapshot.
- SQLite (WAL): both connections open a read transaction while a third holds the write
  lock for a moment, so that no load can commit between the two; a read transaction
  then keeps its state until it ends. When a load holds the write lock, the refresh
  reads on the first connection alone rather than wait.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from ..db import sqlite_file
from ..schema import ecc_meta

#: How long (seconds) a SQLite refresh waits for a load's write lock before it reads on
#: one connection only.
GATE_WAIT = 1.0

Submit = Callable[..., Future[Any]]


@dataclass(frozen=True)
class Read:
    conn: Connection
    twin: Connection | None  # reads exactly what ``conn`` reads; None: no second connection


@contextmanager
def consistent_read(engine: Engine) -> Iterator[Read]:
    """A :class:`Read` of one state of the data. The caller ends ``conn``'s transaction
    (commit or rollback); the twin's is rolled back on exit."""
    with engine.connect() as conn, engine.connect() as twin:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            twin = twin.execution_options(isolation_level="REPEATABLE READ")
            twin.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            pinned: Connection | None = twin
        elif conn.dialect.name == "sqlite":
            pinned = twin if _pin_sqlite(engine, conn, twin) else None
        else:  # pragma: no cover - make_engine accepts only these two
            pinned = None
        try:
            yield Read(conn, pinned)
        finally:
            twin.rollback()


def begin_read(conn: Connection) -> None:
    """Open a SQLite read transaction on ``conn`` and take its state of the data now."""
    conn.exec_driver_sql("BEGIN")
    conn.execute(select(func.count()).select_from(ecc_meta)).scalar_one()


def _pin_sqlite(engine: Engine, conn: Connection, twin: Connection) -> bool:
    """Begin ``conn``'s read transaction, and ``twin``'s on the same state when the
    write lock can be held meanwhile; whether ``twin`` was pinned."""
    path = sqlite_file(engine.url.database)
    # a read-only connection cannot hold the write lock: read on one connection
    if not path or engine.url.query.get("mode") == "ro":
        begin_read(conn)
        return False
    with closing(sqlite3.connect(path, timeout=GATE_WAIT, isolation_level=None)) as gate:
        try:
            gate.execute("BEGIN IMMEDIATE")  # no load can commit until the rollback
        except sqlite3.OperationalError:  # a load is writing: read on one connection
            begin_read(conn)
            return False
        try:
            begin_read(conn)
            begin_read(twin)
        finally:
            gate.execute("ROLLBACK")
    return True


@contextmanager
def second_reader(twin: Connection | None) -> Iterator[Submit | None]:
    """A worker thread running ``fn(twin, *args)`` for each ``submit(fn, *args)``;
    None without a twin."""
    if twin is None:
        yield None
        return
    with ThreadPoolExecutor(1, thread_name_prefix="ecc-refresh") as pool:

        def submit(fn: Callable[..., Any], *args: Any) -> Future[Any]:
            return pool.submit(fn, twin, *args)

        try:
            yield submit
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
