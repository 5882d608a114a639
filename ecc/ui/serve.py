"""``ecc serve``: the dashboards as a standalone Voilà server with preheated kernels.

Each notebook keeps a pool of kernels that have already imported everything and
connected to the database; a viewer's request takes one and only computes the page.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import paths, variables
from ..config import absolute_url, database_url
from ..errors import ConfigError
from ..paths import VOILA_FILES, venv_bin
from . import admission
from .pools import DEFAULT_POOL_SIZE, LANDING_PAGE, POOLS


def voila_command(
    notebooks: Path,
    *,
    port: int,
    ip: str = "127.0.0.1",
    preheat: bool = True,
    pool_size: int = DEFAULT_POOL_SIZE,
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
        f"--Voila.config_file_paths={VOILA_FILES / 'config'}",
        # new kernels wait while the budget's kernels all run (ecc.ui.kernels)
        "--VoilaConfiguration.multi_kernel_manager_class=ecc.ui.kernels.BudgetedKernelManager",
        # kernels forked from a process that has imported everything (ecc.ui.zygote)
        "--KernelProvisionerFactory.default_provisioner_name=ecc-forking-provisioner",
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


#: What Voilà and the dashboards kernels it starts may see of the environment: the
#: machine's basics, where the data is, and (behind the hub) the service's public
#: JupyterHub settings. Never a token, a secret, the SMTP settings or the share-link key.
KERNEL_ENV = frozenset(
    {
        "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME",
        "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
        "ECC_DATABASE_URL", "ECC_HOME", "ECC_NOTEBOOKS", "ECC_CHROMIUM", "ECC_VIEWER",
        "ECC_DASHBOARDS_URL", "ECC_HUB_URL", "ECC_SERVICE", "ECC_DASHBOARDS_POOL_SIZE",
        "ECC_KERNEL_STARTS", "ECC_MAX_KERNELS", "ECC_STALE_DAYS", "ECC_SHARE_MAX_DAYS",
        "ECC_ORG_DOMAINS", "ECC_MAIL_FROM",
    }
)  # fmt: skip
KERNEL_ENV_PREFIXES = ("LC_", "JUPYTERHUB_")
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "KEY")


def kernel_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of ``env`` (:data:`KERNEL_ENV`); the Redis URL only when it
    holds no password (the pages then read the cache table instead)."""
    out = {
        k: v
        for k, v in env.items()
        if (k in KERNEL_ENV or k.startswith(KERNEL_ENV_PREFIXES))
        and not any(word in k for word in SECRET_WORDS)
    }
    redis = variables.value("ECC_REDIS_URL", env)
    if redis and not urlsplit(redis).password:
        out["ECC_REDIS_URL"] = redis
    return out


def voila_env(db_url: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of Voilà and its kernels: :func:`kernel_environment` of ``env``
    (default: this process's), the database and the project's Voilà template."""
    env = kernel_environment(os.environ if env is None else env)
    env["ECC_DATABASE_URL"] = absolute_url(database_url(db_url))
    paths = [str(VOILA_FILES), *filter(None, env.get("JUPYTER_PATH", "").split(os.pathsep))]
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    return env


def preheated_pages(notebooks: Path, pool_size: int) -> dict[str, int]:
    """Kernels kept warm per page (notebook stem) by :func:`voila_command`."""
    sizes = {nb.stem: pool_size for nb in notebooks.glob("*.ipynb")}
    sizes.update({Path(k).stem: max(v, pool_size) for k, v in POOLS.items()})
    return {k: v for k, v in sizes.items() if v > 0}


def serve(
    notebooks: Path,
    *,
    port: int,
    db_url: str | None = None,
    preheat: bool = True,
    pool_size: int = DEFAULT_POOL_SIZE,
    refresh_minutes: int = 15,
    log: Path | None = None,
) -> int:
    """Run Voilà in the foreground until Ctrl-C or SIGTERM (it and its kernels stop
    together, :mod:`ecc.launch`); with ``refresh_minutes``, refresh the cache now and
    then every so many minutes in the background (FR-2). The address is printed once
    the landing page renders."""
    from ..launch import Launch, Warmup
    from ..lifetime import port_taken

    if not notebooks.is_dir():
        raise ConfigError(f"no notebooks folder at {notebooks}")
    admission.from_environment()  # a bad ECC_KERNEL_STARTS/ECC_MAX_KERNELS, said now
    if port_taken("127.0.0.1", port):
        raise ConfigError(
            f"port {port} on 127.0.0.1 is taken by another process: stop it "
            f"(`ss -ltnp 'sport = :{port}'` names it) or choose another with --port"
        )
    voila = voila_command(notebooks, port=port, preheat=preheat, pool_size=pool_size)
    # Voilà with a Host check, XSRF on and the query channel's proof (ecc.ui.voila_app)
    cmd = [sys.executable, "-m", "ecc.ui.voila_app", *voila[1:]]
    pools = preheated_pages(notebooks, pool_size) if preheat else {}
    landing = f"http://127.0.0.1:{port}/voila/render/{LANDING_PAGE}.ipynb"
    launch = Launch(
        cmd,
        env=voila_env(db_url),
        cwd=notebooks,
        log=log if log is not None else paths.data_dir() / "serve.log",
        name="Voilà",
    )
    warmup = Warmup(launch, pools, LANDING_PAGE)

    def progress() -> str:
        mark = "✓" if warmup.loaded else "…"
        return f"starting: {warmup.text()}  landing page {mark}"

    def ready() -> bool:
        return warmup.ready(lambda: page_renders(landing))

    def welcome() -> None:
        print(f"Command center: {landing}", flush=True)
        print("Ctrl-C stops it and its kernels.", flush=True)

    print(f"Starting the dashboards (log: {launch.log_path}) …", flush=True)
    scheduler = refresher(db_url, refresh_minutes) if refresh_minutes > 0 else None
    try:
        return launch.run(ready=ready, progress=progress, welcome=welcome, timeout=900.0)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def page_renders(url: str, jar: CookieJar | None = None) -> bool:
    """Whether the dashboard at ``url`` renders: the page answers, its notebook ran
    without an error and shows the page's widgets. The kernel the check used is then
    shut down (as a browser tab's page does when it closes), so it holds no memory."""
    jar = CookieJar() if jar is None else jar
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        with opener.open(url, timeout=180) as resp:
            body = resp.read().decode(errors="replace")
            final = str(resp.url)
    except (OSError, ValueError):
        return False
    kernel = re.search(r'"kernelId": "([0-9a-f-]+)"', body)
    if kernel:
        path = urlsplit(final).path
        # the page's own _xsrf cookie (behind the hub, the hub keeps another under /hub/)
        mine = [c for c in jar if c.name == "_xsrf" and path.startswith(c.path)]
        xsrf = max(mine, key=lambda c: len(c.path)).value or "" if mine else ""
        shutdown_kernel(opener, final, kernel.group(1), xsrf)
    return (
        (final.endswith(".ipynb") or ".ipynb?" in final)
        and WIDGET in body
        and not any(bad in body for bad in FAILED)
    )


#: What a rendered dashboard's page holds (its widgets, drawn by the page's scripts).
WIDGET = "application/vnd.jupyter.widget-view+json"
#: What a page whose notebook failed holds.
FAILED = ("application/vnd.jupyter.stderr", "Traceback", "jp-OutputArea-error")


def shutdown_kernel(
    opener: urllib.request.OpenerDirector, page: str, kernel_id: str, xsrf: str
) -> None:
    """Ask Voilà to shut down the kernel of ``page`` (its own ``voila/api/shutdown``)."""
    base = page.split("voila/render/", 1)[0]
    request = urllib.request.Request(
        f"{base}voila/api/shutdown/{kernel_id}",
        data=b"",
        method="POST",
        headers={"X-XSRFToken": xsrf} if xsrf else {},
    )
    with contextlib.suppress(OSError, ValueError), opener.open(request, timeout=30) as resp:
        resp.read()


def refresher(db_url: str | None, minutes: int, env: Mapping[str, str] | None = None) -> Any:
    """A background scheduler that runs ``ecc refresh`` at once and every ``minutes``.

    Each refresh runs in a child process: a refresh that finds nothing new computes
    tomorrow's requests ahead (``ecc.cache.refresh``), which in this process would hold
    up the pages being served."""
    from datetime import UTC, datetime

    from apscheduler.schedulers.background import BackgroundScheduler

    cmd = [venv_bin("ecc"), "refresh", *(["--db", db_url] if db_url else [])]

    def job() -> None:
        done = subprocess.run(
            cmd, capture_output=True, text=True, check=False, env=None if env is None else dict(env)
        )
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
