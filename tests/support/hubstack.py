"""A real hub stack for tests and benchmarks: ``ecc hub start`` (JupyterHub,
configurable-http-proxy, the dashboards and share-links services) on free loopback
ports, with its state in a temporary folder; always stopped, leftovers included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecc.hub.settings import ROOT, proxy_command
from tests.support.servers import IN_CI, free_port


def need_proxy() -> None:
    """configurable-http-proxy and node: fail in CI, skip (with the reason) elsewhere."""
    cmd = proxy_command()[0]
    import shutil

    missing = []
    if not shutil.which("node"):
        missing.append("node")
    if not (Path(cmd).exists() or shutil.which(cmd)):
        missing.append("configurable-http-proxy (make install)")
    if missing:
        message = "the hub tests need " + " and ".join(missing)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Stack:
    url: str  # the hub's public address, no trailing slash
    env: dict[str, str]
    hub_dir: Path
    log: Path
    logins: dict[str, str]  # name -> password
    dashboards_port: int

    @property
    def dashboards(self) -> str:
        return f"{self.url}/services/dashboards/"


def _wait_for(log: Path, proc: subprocess.Popen[bytes], text: str, timeout: float) -> None:
    _wait_until(log, proc, lambda log_text: text in log_text, timeout, repr(text))


def _wait_until(
    log: Path,
    proc: subprocess.Popen[bytes],
    ready: Callable[[str], bool],
    timeout: float,
    what: str,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready(log.read_text(errors="replace")):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"ecc hub start exited: {log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise RuntimeError(f"no {what} within {timeout:.0f} s: {log.read_text()[-3000:]}")


def _ours(hub_dir: Path) -> list[int]:
    """Processes started for this stack (they carry ECC_HUB_DIR=<its folder>)."""
    marker = f"ECC_HUB_DIR={hub_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def _stop(proc: subprocess.Popen[bytes], hub_dir: Path) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # the launcher passes it on to the hub
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # the hub starts its proxy, services and servers in sessions of their own: end
    # whatever of them outlived it, by pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _ours(hub_dir)
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if Path(f"/proc/{p}").exists() and _alive(p)]
            time.sleep(0.2)


def _alive(pid: int) -> bool:
    with suppress(OSError):
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()
    return False


def submit_login(page: Any, stack: Stack, name: str) -> None:
    """Fill and send the hub's login form as ``name`` with their password (Playwright)."""
    page.goto(f"{stack.url}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", stack.logins[name])
    page.click("[type=submit]")


def passable(folder: Path) -> None:
    """Let other users pass through ``folder`` and the folders above it (not list them):
    analysts' servers run as system users of their own, whose home folders and read-only
    database lie under the stack's root (pytest's temporary folders are its user's only)."""
    for part in [folder, *folder.parents]:
        if part == Path("/"):
            break
        mode = part.stat().st_mode & 0o777
        if mode & 0o011 != 0o011:
            part.chmod(mode | 0o011)


@contextmanager
def hub_stack(
    db_url: str,
    folder: Path,
    *,
    pool_size: int = 0,
    extra_users: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 300,
) -> Iterator[Stack]:
    """The stack with the demo users and ``extra_users`` (name -> group), once the hub
    answers and the landing page's kernels are warm."""
    hub_dir = folder / "hub"
    passable(folder)
    env = {
        **os.environ,
        "ECC_HOME": str(folder),
        "ECC_DATABASE_URL": db_url,
        "ECC_HUB_DIR": str(hub_dir),
        "ECC_HUB_URL": f"http://127.0.0.1:{free_port()}",
        "ECC_HUB_API_PORT": str(free_port()),
        "ECC_HUB_PROXY_API_PORT": str(free_port()),
        "ECC_DASHBOARDS_PORT": str(free_port()),
        "ECC_SHARE_PORT": str(free_port()),
        "ECC_DASHBOARDS_POOL_SIZE": str(pool_size),
        "ECC_REFRESH_EVERY": "0",
        "ECC_HUB_AUTH": "native",
        **(extra_env or {}),
    }
    logins: dict[str, str] = {}
    ecc = [sys.executable, "-m", "ecc.cli"]
    for name, group in (extra_users or {}).items():
        password = f"{name}-pw-{os.urandom(6).hex()}"
        subprocess.run(
            [*ecc, "hub", "add-user", name, "--group", group, "--password-stdin"],
            input=password + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        logins[name] = password
    log = folder / "hub.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*ecc, "hub", "start"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        # the launcher prints its welcome once the hub answers through the proxy, every
        # preheated page waits for a viewer and a demo user's landing page has rendered
        _wait_for(log, proc, "Ctrl-C stops the hub", timeout)
        demo = hub_dir / "demo-logins.txt"
        for line in demo.read_text().splitlines() if demo.exists() else []:
            name, password = line.split("\t")
            logins[name] = password
        yield Stack(
            url=env["ECC_HUB_URL"],
            env=env,
            hub_dir=hub_dir,
            log=log,
            logins=logins,
            dashboards_port=int(env["ECC_DASHBOARDS_PORT"]),
        )
    finally:
        _stop(proc, hub_dir)
