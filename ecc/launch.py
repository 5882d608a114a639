"""Run a stack in the foreground as one unit: start it, say how far it has come, print
the address once it works, and stop all of it together.

:class:`Launch` starts the stack's top process (JupyterHub, or Voilà for ``ecc serve``)
with its output — and that of everything it starts — going to a log file, and watches:

- the log, for the preheated pages' ``ecc: <page> ready for a viewer`` lines (the
  progress line counts them), for a service that exited (JupyterHub logs ``Service
  <name> exited with status <n>``; the hub would start it again, the launcher stops
  the stack instead) and for the last error each part printed;
- the top process: if it dies, the stack stops;
- SIGINT and SIGTERM: the stack stops.

Stopping asks the top process to stop first (the hub ends its services and proxy in
order), then ends every descendant still running — the launcher is their subreaper
(:mod:`ecc.lifetime`), so nothing started below it survives, kernels included. When a
part fails, the reason is printed last, with the log's address.
"""

from __future__ import annotations

import collections
import contextlib
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from . import lifetime

READY = re.compile(r"ecc: (\S+) ready for a viewer")
SERVICE_EXIT = re.compile(r"Service (\S+) exited with status (-?\d+)")
#: What ecc's commands print on a failure (`ecc: error: ...`, `ecc links: error: ...`).
ECC_ERROR = re.compile(r"^ecc(?: (\S+))?: error: ")
#: JupyterHub's and Voilà's log lines at error level.
LOG_ERROR = re.compile(r"^\[(E|C) \d")


@dataclass
class Failure:
    """What stopped the stack: a sentence, and the lines that say why."""

    what: str
    why: list[str] = field(default_factory=list)


class Warmup:
    """The dashboards' warm-up, as the log tells it: preheated kernels waiting for a
    viewer, per page, then one real load of the landing page — after which the landing
    page's pool must be full again, so the first person to arrive finds a warm kernel."""

    #: Seconds between two loads of the landing page when one failed (each takes a
    #: preheated kernel, which is then shut down and replaced).
    RETRY_AFTER = 10.0

    def __init__(self, launch: Launch, pools: Mapping[str, int], landing: str) -> None:
        self.launch = launch
        self.pools = dict(pools)
        self.landing = landing
        self.loaded = False
        self.tries = 0
        self._refilled_at = 0
        self._next_try = 0.0

    def kernels(self) -> tuple[int, int]:
        """(kernels ready, kernels the pools hold)."""
        with self.launch._lock:
            ready = sum(min(self.launch.ready[p], n) for p, n in self.pools.items())
        return ready, sum(self.pools.values())

    def text(self) -> str:
        ready, total = self.kernels()
        return f"dashboards {ready}/{total} kernels"

    def ready(self, load: Callable[[], bool] | None) -> bool:
        """Whether every kernel is warm and ``load()`` (a real request of the landing
        page, None to skip it) succeeded, with the kernel it used replaced."""
        ready, total = self.kernels()
        if ready < total:
            return False
        if load is None:
            return True
        if not self.loaded:
            if time.monotonic() < self._next_try:
                return False
            before = self.launch.ready[self.landing]
            self.tries += 1
            self.loaded = load()
            self._refilled_at = before + (1 if self.landing in self.pools else 0)
            self._next_try = time.monotonic() + self.RETRY_AFTER
        return self.loaded and self.launch.ready[self.landing] >= self._refilled_at


class Launch:
    """One stack in the foreground (see the module docstring)."""

    def __init__(
        self,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
        name: str,
        out: IO[str] | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log
        self.name = name  # the top process, as people know it ("JupyterHub", "Voilà")
        self.out = out or sys.stdout
        self.ready: collections.Counter[str] = collections.Counter()
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        self.errors: collections.deque[str] = collections.deque(maxlen=8)
        self.failure: Failure | None = None
        self.stop_signal: int | None = None
        self.started = False  # the address has been printed
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self._last_progress = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None

    # -- starting ---------------------------------------------------------------------

    def start(self) -> None:
        """Become the subreaper, take over SIGINT/SIGTERM and start the top process (which
        gets SIGTERM if this launcher dies, however it dies)."""
        lifetime.adopt_orphans()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # A session of its own: a terminal's Ctrl-C reaches the launcher alone, which then
        # stops the stack in order instead of every part at once.
        self._proc = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lifetime.die_with_parent,
        )
        self._pump = threading.Thread(target=self._read, name="launch-log", daemon=True)
        self._pump.start()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is not None:  # a second Ctrl-C: no more waiting
            lifetime.stop_all(lifetime.descendants(), grace=0)
            raise SystemExit(130)
        self.stop_signal = signum
        self.wake.set()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with self.log_path.open("ab") as log:
            for raw in self._proc.stdout:
                log.write(raw)
                log.flush()
                self._note(raw.decode(errors="replace").rstrip())
                self.wake.set()

    def _note(self, line: str) -> None:
        with self._lock:
            self.tail.append(line)
            for ready in READY.finditer(line):  # lines of two processes can run together
                self.ready[ready.group(1)] += 1
            if ECC_ERROR.match(line) or LOG_ERROR.match(line) or line.startswith("Traceback"):
                self.errors.append(line)
            elif self.errors and self.errors[-1].startswith("Traceback") and line[:1] != " ":
                self.errors.append(line)  # the exception that ends a traceback
            exited = SERVICE_EXIT.search(line)
            if exited and self.failure is None and self.stop_signal is None:
                name, status = exited.group(1), int(exited.group(2))
                self.failure = Failure(
                    f"the {name} service exited with status {status}", self._why(name)
                )
        stopping = self.stop_signal is not None or self.failure is not None
        if self.started and not stopping and (ECC_ERROR.match(line) or LOG_ERROR.match(line)):
            self.say(line)  # after the welcome, the terminal shows errors only

    def _why(self, service: str) -> list[str]:
        own = [e for e in self.errors if ECC_ERROR.match(e) and f"ecc {service}:" in e]
        ecc = [e for e in self.errors if ECC_ERROR.match(e)]
        picked = own[-1:] or ecc[-1:] or [e for e in self.errors if not SERVICE_EXIT.search(e)]
        return picked[-3:]

    # -- watching ---------------------------------------------------------------------

    def say(self, text: str) -> None:
        if self._last_progress and self.out.isatty():
            self.out.write("\n")
        self._last_progress = ""
        self.out.write(text + "\n")
        self.out.flush()

    def progress(self, text: str) -> None:
        """One progress line: rewritten in place on a terminal, a new line elsewhere."""
        if text == self._last_progress:
            return
        if self.out.isatty():
            self.out.write("\r\x1b[K" + text)
        else:
            self.out.write(text + "\n")
        self.out.flush()
        self._last_progress = text

    def check(self) -> Failure | None:
        """Whether the stack must stop now (and why); None while it is fine."""
        assert self._proc is not None
        if self.failure is not None:
            return self.failure
        code = self._proc.poll()
        if code is not None and self.stop_signal is None:
            self._drain()
            if self.failure is not None:  # a service's death took the top process down
                return self.failure
            if code < 0:  # killed from outside: its log has nothing to say about it
                what = f"was killed by {signal.Signals(-code).name}"
                self.failure = Failure(f"{self.name} (pid {self._proc.pid}) {what}")
            else:
                what = f"exited with status {code}"
                self.failure = Failure(
                    f"{self.name} (pid {self._proc.pid}) {what}", self._last_error()
                )
            return self.failure
        return None

    def _drain(self, timeout: float = 3.0) -> None:
        """Let the log reader take in what the dead process wrote last."""
        if self._pump is not None:
            self._pump.join(timeout)

    def _last_error(self) -> list[str]:
        with self._lock:
            ecc = [e for e in self.errors if ECC_ERROR.match(e)]
            if ecc:
                return ecc[-1:]
            return list(self.errors)[-3:] or list(self.tail)[-5:]

    def wait(self, seconds: float) -> None:
        """Sleep until something happens (a log line, a signal) or ``seconds`` pass."""
        self.wake.wait(seconds)
        self.wake.clear()

    def run(
        self,
        *,
        ready: Callable[[], bool],
        progress: Callable[[], str],
        welcome: Callable[[], None],
        timeout: float,
    ) -> int:
        """Start, report progress until ``ready()``, print ``welcome()``, then stay in the
        foreground until a signal or a failure; stop everything; the exit status."""
        self.start()
        began = time.monotonic()
        deadline = began + timeout
        next_look = began
        try:
            while self.stop_signal is None:
                failure = self.check()
                if failure is not None:
                    return self._fail(failure)
                if not self.started and time.monotonic() >= next_look:
                    # at most twice a second: a look may itself write to the log
                    next_look = time.monotonic() + 0.5
                    self.progress(progress())
                    if ready():
                        self.started = True
                        self.progress(progress())
                        self.say(f"Ready in {time.monotonic() - began:.0f} s.")
                        self.say("")
                        welcome()
                    elif time.monotonic() > deadline:
                        return self._fail(
                            Failure(
                                f"the command center was not ready within {timeout:.0f} s "
                                f"({self._last_progress})",
                                self._last_error(),
                            )
                        )
                self.wait(1.0 if self.started else 0.5)
            self.say("Stopping: " + self.name + " and everything it started …")
            self.stop()
            self.say("Stopped; nothing is left running.")
            return 0
        except BaseException:
            self.stop()
            raise

    def _fail(self, failure: Failure) -> int:
        self.stop(grace=5.0)
        self.say(f"ecc: error: stopped — {failure.what}.")
        for line in failure.why:
            self.say("  " + line)
        self.say(f"  The whole log: {self.log_path}")
        return 1

    # -- stopping ---------------------------------------------------------------------

    def stop(self, *, grace: float = 20.0) -> None:
        """Ask the top process to stop, give it ``grace`` seconds, then end whatever runs
        below this launcher (SIGTERM, then SIGKILL)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
        lifetime.stop_tree(grace=10.0)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._drain()
