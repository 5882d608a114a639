"""Incremental refreshes checked against a full one; a demo CSV edited in place."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from ecc.cache import store
from ecc.cache.refresh import refresh


def _cache(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {k: payload for k, (payload, _) in store.payloads(conn).items()}


def _equals_a_full_refresh(engine: Engine) -> None:
    incremental = _cache(engine)
    assert refresh(engine, full=True).reused == 0
    full = _cache(engine)
    assert set(incremental) == set(full)
    differ = [k for k in full if incremental[k] != full[k]]
    assert not differ, f"{len(differ)} cache rows differ from a full refresh, e.g. {differ[:3]}"


def _edit_csv(folder: Path, table: str, change: Callable[[list[dict[str, str]]], None]) -> None:
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
