"""Which month-end snapshots a computation may read (built by :mod:`ecc.snapshots`).

A snapshot stands in for the ledger replay at its month end only while it was checked
against the data now in the database: :data:`VERIFIED` in ``ecc_meta`` holds the data
version of the last snapshot update.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select

from .schema import ecc_meta, snapshot_months

#: The ``ecc_meta`` key holding the data version the snapshots were last checked against.
VERIFIED = "snapshots_data_version"


def usable_snapshot_dates(conn: Connection) -> frozenset[date]:
    """The snapshotted month ends, when the snapshots were checked against the data now in
    the database (the data version of the last snapshot update); else none, so a
    computation after a load and before the next refresh reads the source tables."""
    versions = dict(
        conn.execute(
            select(ecc_meta.c.key, ecc_meta.c.value).where(
                ecc_meta.c.key.in_((VERIFIED, "data_version"))
            )
        ).all()
    )
    if versions.get(VERIFIED) is None or versions.get(VERIFIED) != versions.get("data_version"):
        return frozenset()
    return frozenset(conn.execute(select(snapshot_months.c.month_end)).scalars())
