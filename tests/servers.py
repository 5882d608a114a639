"""Real servers for tests: free ports on 127.0.0.1, started and always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI needs Chromium at {CHROMIUM} (make install puts it there as root)")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")


def kernels_waiting(log_text: str, pools: dict[str, int]) -> bool:
    """Whether the log shows, for each page, as many preheated kernels ready for a viewer
    as its pool holds (``ecc.ui.app.request_query`` logs each). Before that a kernel may
    still be importing or computing its page, and a request for it waits."""
    return all(log_text.count(f"ecc: {name} ready for a viewer") >= n for name, n in pools.items())


def pool_sizes(pool_size: int) -> dict[str, int]:
    """Kernels per page that `ecc serve --pool-size pool_size` keeps warm."""
    from ecc.ui.serve import POOLS

    sizes = {nb.stem: pool_size for nb in (ROOT / "notebooks").glob("*.ipynb")}
    sizes.update({Path(k).stem: max(v, pool_size) for k, v in POOLS.items()})
    return {k: v for k, v in sizes.items() if v > 0}


@contextmanager
def voila_server(db_url: str, log: Path, *, pool_size: int = 1) -> Iterator[str]:
    """`ecc serve` on a free port; yields the base URL once every preheated kernel is
    waiting for a viewer."""
    port = free_port()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ecc.cli",
                "serve",
                "--port",
                str(port),
                "--db",
                db_url,
                "--notebooks",
                str(ROOT / "notebooks"),
                "--pool-size",
                str(pool_size),
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    try:
        pools = pool_sizes(pool_size)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            text = log.read_text()
            if kernels_waiting(text, pools):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"ecc serve exited: {text[-2000:]}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"ecc serve did not warm up in time: {log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
