"""``ecc serve``: the dashboards as a standalone Voilà server with preheated kernels.

Each notebook keeps a pool of kernels that have already imported everything and
connected to the database; a viewer's request takes one and only computes the page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..config import database_url
from ..errors import ConfigError

HERE = Path(__file__).parent
SHARE = HERE / "share"
#: Kernels kept warm per notebook; the landing page gets more.
POOLS: dict[str, int] = {"portfolio.ipynb": 2}


def voila_command(
    notebooks: Path,
    *,
    port: int,
    ip: str = "127.0.0.1",
    preheat: bool = True,
    pool_size: int = 1,
    base_url: str = "/",
) -> list[str]:
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
    cmd = [
        voila,
        str(notebooks),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={ip}",
        f"--Voila.base_url={base_url}",
        f"--Voila.config_file_paths={SHARE / 'config'}",
    ]
    if preheat:
        pools = {"default": {"pool_size": pool_size}}
        pools.update({k: {"pool_size": max(v, pool_size)} for k, v in POOLS.items()})
        cmd += [
            "--preheat_kernel=True",
            f"--pool_size={pool_size}",
            f"--VoilaKernelManager.kernel_pools_config={pools!r}",
        ]
    return cmd


def voila_env(db_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["ECC_DATABASE_URL"] = _absolute(database_url(db_url))
    paths = [str(SHARE), *filter(None, env.get("JUPYTER_PATH", "").split(os.pathsep))]
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    return env


def _absolute(url: str) -> str:
    """Kernels run in the notebooks folder: make a relative SQLite path absolute."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite://":
        return prefix + str(Path(url[len(prefix) :]).resolve())
    return url


def serve(
    notebooks: Path,
    *,
    port: int,
    db_url: str | None = None,
    preheat: bool = True,
    pool_size: int = 1,
    refresh_minutes: int = 15,
) -> int:
    """Run Voilà until it stops; with ``refresh_minutes``, refresh the cache now and then
    every so many minutes in the background (FR-2)."""
    if not notebooks.is_dir():
        raise ConfigError(f"no notebooks folder at {notebooks}; run from the project folder")
    cmd = voila_command(notebooks, port=port, preheat=preheat, pool_size=pool_size)
    scheduler = _refresher(db_url, refresh_minutes) if refresh_minutes > 0 else None
    print(f"Command center: http://127.0.0.1:{port}/voila/render/portfolio.ipynb", flush=True)
    try:
        return subprocess.call(cmd, env=voila_env(db_url))
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def _refresher(db_url: str | None, minutes: int) -> Any:
    """A background scheduler that runs ``ecc refresh`` at once and every ``minutes``.

    Each refresh runs in a child process: a refresh that finds nothing new computes
    tomorrow's requests ahead (``ecc.cache.refresh``), which in this process would hold
    up the pages being served."""
    from datetime import UTC, datetime

    from apscheduler.schedulers.background import BackgroundScheduler

    from ..hub.settings import venv_bin

    cmd = [venv_bin("ecc"), "refresh", *(["--db", db_url] if db_url else [])]

    def job() -> None:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        for line in done.stdout.splitlines():
            print(f"cache {line}", flush=True)
        if done.returncode != 0:  # e.g. another process is refreshing this database
            print(f"cache refresh: {done.stderr.strip()}", file=sys.stderr, flush=True)

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        job,
        "interval",
        minutes=minutes,
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
