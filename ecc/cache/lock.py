"""One refresh at a time per database: :func:`ecc.locks.database_lock` with the refresh's
own key (a PostgreSQL advisory lock, or ``<database>.refresh-lock`` beside SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from ..errors import EccError
from ..locks import database_lock

#: The advisory lock key of the refresh job ("ECC-RFSH" as a number).
ADVISORY_KEY = 0x4543432D52465348 & 0x7FFFFFFFFFFFFFFF


class RefreshBusy(EccError):
    """Another refresh of the same database is running."""


BUSY = (
    "another refresh of this database is running; wait for it to finish "
    "(`ecc refresh --status` shows it)"
)


def _busy(holder: str) -> EccError:
    return RefreshBusy(BUSY + (f" (held by {holder})" if holder else ""))


@contextmanager
def refresh_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's refresh lock for the block, or raise RefreshBusy at once."""
    with database_lock(engine, key=ADVISORY_KEY, suffix=".refresh-lock", busy=_busy):
        yield
