"""Concise construction of small hand-made datasets for tests.

``seed(engine, csms=[...], customers=[...], ...)`` inserts rows, filling the required
columns a test does not care about with defaults and turning ISO strings into dates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Engine

from ecc import schema

DEFAULTS: dict[str, dict[str, Any]] = {
    "csms": {
        "name": None,  # filled from csm_id
        "email": None,
        "segment": "SMB",
        "target_accounts": 10,
        "target_arr": Decimal("100000"),
        "active": True,
    },
    "customers": {
        "name": None,
        "segment": "SMB",
        "csm_id": "csm1",
        "signup_date": "2024-01-01",
        "onboarded_on": None,
        "industry": None,
        "region": None,
    },
    "arr_events": {"expansion_type": None},
    "health_scores": {},
    "renewals": {
        "forecast_status": "on_track",
        "outcome": None,
        "closed_on": None,
        "renewed_arr": None,
    },
    "expansion_opportunities": {
        "type": "upsell",
        "stage": "identified",
        "created_on": "2024-01-01",
        "outcome": None,
        "closed_on": None,
    },
    "save_plays": {"outcome": None, "closed_on": None},
    "activities": {"customer_id": None, "completed": True, "response_hours": None},
    "support_tickets": {"first_response_at": None, "resolved_at": None, "priority": "normal"},
    "targets": {"segment": None},
}

_counter = {"n": 0}


def _auto_id(prefix: str) -> str:
    _counter["n"] += 1
    return f"{prefix}{_counter['n']}"


def _convert(table_name: str, row: dict[str, Any]) -> dict[str, Any]:
    table = schema.metadata.tables[table_name]
    out = dict(DEFAULTS[table_name])
    out.update(row)
    if table_name == "csms":
        out["name"] = out["name"] or f"CSM {out['csm_id']}"
        out["email"] = out["email"] or f"{out['csm_id']}@example.com"
    if table_name == "customers":
        out["name"] = out["name"] or f"Customer {out['customer_id']}"
    pk_auto = {
        "arr_events": "event_id",
        "renewals": "renewal_id",
        "expansion_opportunities": "opportunity_id",
        "save_plays": "play_id",
        "activities": "activity_id",
        "support_tickets": "ticket_id",
    }
    if table_name in pk_auto and pk_auto[table_name] not in out:
        out[pk_auto[table_name]] = _auto_id(table_name[:3])
    for col in table.columns:
        v = out.get(col.name)
        if isinstance(v, str) and isinstance(col.type, DateTime):
            out[col.name] = datetime.fromisoformat(v)
        elif isinstance(v, str) and isinstance(col.type, Date):
            out[col.name] = date.fromisoformat(v)
        elif (
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and col.name in ("arr_delta", "arr", "renewed_arr", "amount", "target_arr", "score")
        ):
            out[col.name] = Decimal(str(v))
    return out


def seed(engine: Engine, **tables: list[dict[str, Any]]) -> None:
    """Insert the given rows, parents first."""
    order = [t.name for t in schema.SOURCE_TABLES]
    unknown = set(tables) - set(order)
    assert not unknown, f"unknown tables {unknown}"
    with engine.begin() as conn:
        for name in order:
            rows = tables.get(name)
            if rows:
                conn.execute(
                    schema.metadata.tables[name].insert(), [_convert(name, r) for r in rows]
                )


def demo_sqlite(folder: Path, *, customers: int, seed: int, today: date) -> str:
    """A SQLite demo database in ``folder`` (schema, data, loaded); its URL."""
    from ecc.db import init_schema, make_engine
    from ecc.demo import build_demo

    url = f"sqlite:///{folder / 'demo.sqlite'}"
    engine = make_engine(url)
    init_schema(engine)
    build_demo(engine, customers=customers, seed=seed, today=today)
    engine.dispose()
    return url


def broken_notebooks(folder: Path, name: str, error: str) -> Path:
    """A notebooks folder in ``folder`` whose ``name`` notebook raises RuntimeError(error) in
    its third executed cell (parameters, papermill's injected ones, then this)."""
    import shutil

    import nbformat

    from ecc.reports.execute import NOTEBOOKS_DIR

    broken = folder / "notebooks"
    broken.mkdir()
    shutil.copy(NOTEBOOKS_DIR / f"{name}.ipynb", broken / f"{name}.ipynb")
    nb = nbformat.read(broken / f"{name}.ipynb", as_version=4)
    nb.cells[1].source += f"\nraise RuntimeError({error!r})"
    nbformat.write(nb, broken / f"{name}.ipynb")
    return broken
