"""How long a newcomer waits for `make demo`, and how fast the stack stops.

Clones this repository's HEAD into a temporary folder and runs the README's `make demo`
there, from an environment with no ``ECC_*``, make or virtualenv variable, ``--runs``
times. The first run installs (pip's and npm's download caches are the machine's).
Each run records the seconds to the printed address; the stack is then stopped by
Ctrl-C (SIGINT to make's process group) or by ``kill -9`` of the hub, alternating, and
the seconds until no process of the clone is left are recorded. Prints a Markdown
table for docs/benchmarks-history.md. Uses the README's ports (8000, 8081, 8001, 8867, 8877,
8025): nothing else may hold them.

    .venv/bin/python benchmarks/stack_start.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
WELCOME = re.compile(r"Executive Command Center: http")


def clean_env() -> dict[str, str]:
    drop = ("ECC_", "MAKE", "MFLAGS", "VIRTUAL_ENV", "PYTHON", "JUPYTER")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    venv = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv)
    return env


def processes_of(checkout: Path) -> int:
    mark = str(checkout)
    n = 0
    for p in psutil.process_iter(["cmdline", "cwd", "status"]):
        try:
            if p.pid == os.getpid() or p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if mark in " ".join(p.info["cmdline"] or []) or (p.info["cwd"] or "").startswith(mark):
                n += 1
        except psutil.Error:
            continue
    return n


def one_run(checkout: Path, log: Path, how: str) -> tuple[float, int, float]:
    """(seconds to the address, processes running, seconds from the stop to none left)."""
    started = time.monotonic()
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "demo"],
            cwd=checkout,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    while not WELCOME.search(log.read_text(errors="replace")):
        if make.poll() is not None:
            sys.exit(f"make demo ended before it was ready:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    ready = time.monotonic() - started
    running = processes_of(checkout)
    stopped = time.monotonic()
    if how == "ctrl-c":
        os.killpg(make.pid, signal.SIGINT)
    else:
        hub = int((checkout / "data" / "hub" / "jupyterhub.pid").read_text())
        os.kill(hub, signal.SIGKILL)
    make.wait()
    while processes_of(checkout):
        time.sleep(0.1)
    return ready, running, time.monotonic() - stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        checkout = Path(tmp) / "ecc"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(checkout)], check=True)
        rows = []
        for i in range(args.runs):
            how = "ctrl-c" if i % 2 == 0 else "kill -9 hub"
            ready, running, gone = one_run(checkout, Path(tmp) / f"run{i}.log", how)
            rows.append((i + 1, ready, running, how, gone))
            print(f"run {i + 1}: ready {ready:.1f} s, {running} processes, {how}: {gone:.1f} s")
    print("\n| run | `make demo` to the address | processes | stopped by | all gone after |")
    print("|---:|---:|---:|---|---:|")
    for n, ready, running, how, gone in rows:
        first = " (fresh clone, installs)" if n == 1 else ""
        print(f"| {n} | {ready:.1f} s{first} | {running} | {how} | {gone:.1f} s |")
    later = [r[1] for r in rows[1:]]
    if later:
        print(f"\nmedian of runs 2-{len(rows)} to the address: {statistics.median(later):.1f} s")
    for how in ("ctrl-c", "kill -9 hub"):
        gone = [r[4] for r in rows if r[3] == how]
        if gone:
            print(f"median all gone after {how}: {statistics.median(gone):.1f} s")


if __name__ == "__main__":
    main()
