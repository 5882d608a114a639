"""Empty databases for property tests, one per hypothesis example, on both dialects.

Hypothesis runs a test body many times inside one test: a function-scoped fixture
would serve every example the same database. ``EmptyDatabases.fresh()`` gives each
example an empty one instead — a new in-memory SQLite database, or the test session's
PostgreSQL database with every table emptied (TRUNCATE: much quicker than a new schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from ecc.db import init_schema, make_engine
from ecc.schema import ecc_meta, metadata


class EmptyDatabases:
    """``fresh()``: an engine on an empty database of ``dialect`` with the schema."""

    def __init__(self, dialect: str, pg_url: str | None) -> None:
        self.dialect = dialect
        self.pg_url = pg_url
        self._pg: Engine | None = None

    @contextmanager
    def fresh(self) -> Iterator[Engine]:
        if self.dialect == "sqlite":
            eng = make_engine("sqlite://")
            init_schema(eng)
            try:
                yield eng
            finally:
                eng.dispose()
            return
        assert self.pg_url is not None
        if self._pg is None:
            self._pg = make_engine(self.pg_url)
        # another test on this worker may have dropped or filled the tables meanwhile
        init_schema(self._pg)
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t is not ecc_meta)
        with self._pg.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
            conn.execute(ecc_meta.delete().where(ecc_meta.c.key != "schema_version"))
        yield self._pg

    def close(self) -> None:
        if self._pg is not None:
            self._pg.dispose()
