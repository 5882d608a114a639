"""One refresh at a time per database.

PostgreSQL: a session-level advisory lock held on a connection of its own. SQLite: an
exclusive ``flock`` on a file beside the database (an in-memory database: a lock in
this process). Both are released by the operating system or the server when the
holder dies, so a killed refresh never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from ..errors import EccError

#: The advisory lock key of the refresh job ("ECC-RFSH" as a number).
ADVISORY_KEY = 0x4543432D52465348 & 0x7FFFFFFFFFFFFFFF

_MEMORY_LOCKS: dict[str, threading.Lock] = {}


class RefreshBusy(EccError):
    """Another refresh of the same database is running."""


BUSY = (
    "another refresh of this database is running; wait for it to finish "
    "(`ecc refresh --status` shows it)"
)


@contextmanager
def refresh_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's refresh lock for the block, or raise RefreshBusy at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar()
            conn.commit()
            if not got:
                raise RefreshBusy(BUSY)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        lock = _MEMORY_LOCKS.setdefault(str(engine.url), threading.Lock())
        if not lock.acquire(blocking=False):
            raise RefreshBusy(BUSY)
        try:
            yield
        finally:
            lock.release()
        return
    path = Path(database).with_name(Path(database).name + ".refresh-lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshBusy(BUSY) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
