"""One holder at a time per database, for as long as a block (or a process) runs.

PostgreSQL: a session-level advisory lock held on a connection of its own. SQLite: an
exclusive ``flock`` on a file beside the database, which also names the holder (an
in-memory database: a lock in this process). The server or the operating system
releases both when the holder dies, so a killed process never blocks the next one.

(The refresh lock, :mod:`ecc.cache.lock`, is this lock with its own key.)
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from .errors import EccError

_MEMORY_LOCKS: dict[str, threading.Lock] = {}


def holder_name() -> str:
    """``host:pid`` of this process, as run records and lock files name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def database_lock(
    engine: Engine, *, key: int, suffix: str, busy: Callable[[str], EccError]
) -> Iterator[None]:
    """Hold the lock ``key`` (PostgreSQL) / ``<database><suffix>`` (SQLite) for the block.

    When another process holds it, raise ``busy(holder)`` at once; ``holder`` names that
    process where it can be known (``host:pid`` on SQLite), else is empty.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            if not got:
                raise busy("")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        lock = _MEMORY_LOCKS.setdefault(f"{engine.url}{suffix}", threading.Lock())
        if not lock.acquire(blocking=False):
            raise busy("")
        try:
            yield
        finally:
            lock.release()
        return
    path = Path(database).with_name(Path(database).name + suffix)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy(os.pread(fd, 256, 0).decode(errors="replace").strip()) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_name().encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
