"""Real servers for tests: free ports on 127.0.0.1, started and always stopped."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
#: A KPI of the live page (the kernel's widgets), not of the first paint from the cache.
LIVE_KPI = "#rendered_cells [data-metric]"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: The log of each running ``voila_server`` by its base URL (for a failing test to show).
SERVER_LOGS: dict[str, Path] = {}
#: Where browser tests leave their screenshots to look at (outside the checkout).
SHOTS = Path(tempfile.gettempdir()) / f"ecc-screenshots-{os.getuid()}"


#: Ports tests listen on: below the kernel's ephemeral range (32768 and up here), where
#: every outgoing connection and every Jupyter kernel's five sockets take theirs, so a
#: port chosen now is not taken by someone else's connection before the server binds it;
#: each pytest-xdist worker has a band of its own.
PORT_BANDS, BAND_WIDTH, LOWEST = 4, 3000, 20000


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on, from this worker's band."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    low = LOWEST + (int(worker) if worker.isdigit() else 0) % PORT_BANDS * BAND_WIDTH
    for _ in range(500):
        port = low + secrets.randbelow(BAND_WIDTH)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded band: any port the system gives
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_log_tail(url: str, lines: int = 80) -> str:
    """The last lines of the log of the ``voila_server`` that ``url`` is on."""
    for base, log in SERVER_LOGS.items():
        if url.startswith(base) and log.exists():
            return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return "(no log of a server for this address)"


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI needs Chromium at {CHROMIUM} (make install puts it there as root)")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")


@contextmanager
def voila_server(
    db_url: str,
    log: Path,
    *,
    pool_size: int = 1,
    env: dict[str, str] | None = None,
    starting: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """`ecc serve` on a free port, with ``env`` added to the environment; yields the base
    URL once it says it is ready (every preheated kernel waiting for a viewer, the
    landing page rendered). ``starting(pid)``, if given, is called with the launcher's
    pid as soon as it has started."""
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
                "--log",
                str(log.with_suffix(".voila.log")),
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    try:
        if starting is not None:
            starting(proc.pid)
        # the launcher prints the address once every preheated kernel waits for a viewer
        # and the landing page has rendered (its pool full again)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            text = log.read_text()
            if "Command center: http" in text:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"ecc serve exited: {text[-2000:]}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"ecc serve did not warm up in time: {log.read_text()[-2000:]}")
        base = f"http://127.0.0.1:{port}"
        SERVER_LOGS[base] = log.with_suffix(".voila.log")
        yield base
    finally:
        SERVER_LOGS.pop(f"http://127.0.0.1:{port}", None)
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the launcher stops Voilà and its kernels
            proc.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def server_of(base: str) -> psutil.Process:
    port = urlsplit(base).port
    (pid,) = {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.laddr.port == port and c.status == "LISTEN"
    }
    return psutil.Process(pid)
