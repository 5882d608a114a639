"""The ecc command in a subprocess, and a small portfolio built row by row."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import Engine

from tests.support.builders import seed

ECC = [sys.executable, "-m", "ecc.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "ECC_DATABASE_URL"}
    full_env.update(env or {})
    return subprocess.run([*ECC, *args], capture_output=True, text=True, env=full_env, timeout=120)


def small_portfolio(engine: Engine) -> None:
    seed(
        engine,
        csms=[{"csm_id": "ana", "segment": "Enterprise"}, {"csm_id": "bo", "segment": "SMB"}],
        customers=[
            {
                "customer_id": "c1",
                "segment": "Enterprise",
                "csm_id": "ana",
                "signup_date": "2025-01-10",
            },
            {"customer_id": "c2", "segment": "SMB", "csm_id": "bo", "signup_date": "2025-02-01"},
        ],
        arr_events=[
            {"customer_id": "c1", "event_date": "2025-01-10", "kind": "new", "arr_delta": 120000},
            {"customer_id": "c2", "event_date": "2025-02-01", "kind": "new", "arr_delta": 10000},
            {"customer_id": "c2", "event_date": "2025-11-15", "kind": "churn", "arr_delta": -10000},
        ],
        health_scores=[
            {"customer_id": "c1", "scored_on": "2025-11-20", "score": 35},
            {"customer_id": "c2", "scored_on": "2025-11-01", "score": 80},
        ],
    )
