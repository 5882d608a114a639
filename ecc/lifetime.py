"""One lifetime for a stack of processes: what a launcher starts stops with it.

JupyterHub starts its proxy and services, and Voilà its kernels, in sessions of their
own (so that a Ctrl-C in the terminal does not reach them half-way through a
cleanup). When the process that started them dies, they would live on. A launcher
(``ecc hub start``, ``ecc serve``) therefore:

- :func:`adopt_orphans`: becomes the *child subreaper* of everything below it (Linux), so
  a process whose parent dies is re-parented to the launcher instead of to init, and
  :func:`descendants` still finds it;
- :func:`die_with_parent`: has the top process it starts get SIGTERM if the launcher
  itself dies (even by SIGKILL), so the stack never outlives its launcher;
- :func:`stop_all`: ends every descendant — SIGTERM, a grace period, then SIGKILL —
  and reaps them, so no process, port or kernel survives the launcher.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
from collections.abc import Iterable

import psutil

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


#: Loaded once, at import: a child's ``preexec_fn`` must not load libraries after fork.
_LIBC = _libc()


def _prctl(option: int, value: int) -> bool:
    prctl = getattr(_LIBC, "prctl", None)
    if prctl is None:  # not Linux: the launcher still stops its own children
        return False
    return int(prctl(option, value, 0, 0, 0)) == 0


def adopt_orphans() -> bool:
    """Make this process the reaper of its orphaned descendants (False where unsupported)."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Have the kernel send ``sig`` to this process when its parent exits. Also usable as
    a child's ``preexec_fn``. If the parent is already gone, ``sig`` comes at once."""
    parent = os.getppid()
    if _prctl(_PR_SET_PDEATHSIG, sig) and parent == 1:
        os.kill(os.getpid(), sig)


def descendants(pid: int | None = None) -> list[psutil.Process]:
    """Every living process below ``pid`` (default: this one), children first."""
    try:
        return list(psutil.Process(pid or os.getpid()).children(recursive=True))
    except psutil.NoSuchProcess:
        return []


def reap() -> None:
    """Collect the exit status of every finished child (adopted orphans stay zombies
    otherwise). Only for a launcher that is stopping: it takes statuses a ``Popen`` may
    still wait for."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop_all(processes: Iterable[psutil.Process], *, grace: float = 10.0) -> list[int]:
    """SIGTERM each process, wait up to ``grace`` seconds, SIGKILL what is left and wait
    for it; returns the pids that had to be killed."""
    procs = [p for p in processes if p.pid != os.getpid()]
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=grace)
    killed = []
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.kill()
            killed.append(p.pid)
    psutil.wait_procs(alive, timeout=5)
    return killed


def stop_tree(*, grace: float = 10.0) -> list[int]:
    """:func:`stop_all` on every descendant of this process, again until none is left
    (a process may start another while it stops); returns the pids that were killed."""
    killed: list[int] = []
    for _ in range(5):
        found = descendants()
        if not found:
            break
        killed += stop_all(found, grace=grace)
        reap()
    reap()
    return killed


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port`` (or the address is not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)
    return False
