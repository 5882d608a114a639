"""Kernels forked from a warm process: a dashboards kernel without seconds of imports,
and the libraries' memory shared by every kernel.

A dashboards kernel used to spend seconds of CPU, and most of its memory, importing the
same libraries (pandas, Altair, SQLAlchemy, ipywidgets, IPython, the ``ecc`` package)
before it could run a page. The *zygote* is one process, started by the dashboards
server at its first kernel, that imports them once and waits. For each kernel Voilà
starts, :class:`ForkingProvisioner` (a jupyter_client kernel provisioner) asks it for
one; it forks, and the child becomes the kernel: a session of its own, the environment,
folder and ``nice`` level Voilà asked for, then IPython's kernel application with the
connection file Voilà wrote. The imported modules' memory pages stay shared,
copy-on-write, between the zygote and all its kernels (they are frozen out of the
garbage collector, which would otherwise touch and copy them).

The zygote answers only on a Unix socket in a folder of the server's user (0700), and
ends when the server does. If it cannot start or answer, a kernel starts the usual way.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import setproctitle
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

log = logging.getLogger("ecc.ui")
#: What the zygote imports before it forks (everything a dashboards kernel imports).
PRELOAD = ("ipykernel.kernelapp", "ipywidgets", "ecc.ui.app")
#: Room kept in the zygote's arguments for a kernel's name (characters).
TITLE_ROOM = 1024
#: How often the zygote checks that the server that started it is still there (s).
PARENT_CHECK = 2.0


# ------------------------------------------------------------------------ the zygote
def serve(path: str) -> None:
    """Import :data:`PRELOAD`, listen on ``path``, fork a kernel per request."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from .pages import load_all

    load_all()
    # ready the title's room now: a child that has replaced its environment cannot
    setproctitle.setproctitle(setproctitle.getproctitle())
    gc.collect()
    gc.freeze()  # what is imported stays shared with the kernels
    signal.signal(signal.SIGCHLD, _reap)
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.settimeout(PARENT_CHECK)
    print("ready", flush=True)
    os.dup2(2, 1)  # the kernels' output goes to the server's log, not to this pipe
    while os.getppid() == parent:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except InterruptedError:  # pragma: no cover - a child ended during accept
            continue
        with conn:
            try:
                request = json.loads(_read_line(conn))
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, listener, conn)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            except Exception as error:  # say why; the server starts the kernel itself
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"error": str(error)}).encode() + b"\n")


def _read_line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode()


def _reap(signum: int, frame: Any) -> None:
    """Collect ended kernels (the zygote is their parent)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _become_kernel(request: dict[str, Any], listener: socket.socket, conn: socket.socket) -> None:
    """In the forked child: become the kernel Voilà asked for; never returns."""
    code = 1
    try:
        listener.close()
        conn.close()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        os.nice(int(request.get("nice", 0)))
        if request.get("cwd"):
            os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        args = list(request["args"])
        sys.argv = ["ipykernel_launcher", *args]
        # named as a kernel started the usual way is, in ps and /proc
        setproctitle.setproctitle(" ".join([sys.executable, "-m", "ipykernel_launcher", *args]))
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=args)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    except BaseException:  # the kernel's own log shows why it could not start
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


# ----------------------------------------------------------------- the server's side
class Zygote:
    """The server's handle on its zygote process."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ecc-zygote-"))
        self.path = str(self.folder / "socket")
        self.process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def fork(self, args: list[str], env: dict[str, str], cwd: str | None, nice: int) -> int:
        """A forked kernel's pid (the zygote started first if need be)."""
        async with self._lock:
            if self.process is None or self.process.returncode is not None:
                await self._start()
        reader, writer = await asyncio.open_unix_connection(self.path)
        try:
            request = {"args": args, "env": env, "cwd": cwd, "nice": nice}
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            answer = json.loads(await reader.readline())
        finally:
            writer.close()
        if "pid" not in answer:
            raise RuntimeError(answer.get("error", "the zygote did not fork"))
        return int(answer["pid"])

    async def _start(self) -> None:
        # one BLAS thread (a process forks safely only with one thread); the kernels'
        # names are written over the zygote's arguments only, which TITLE_ROOM makes
        # long enough, so /proc/<kernel>/environ still shows the environment it began with
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "SPT_NOENV": "1"}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            self.path,
            " " * TITLE_ROOM,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("the zygote did not start (see the log)")

    def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
        shutil.rmtree(self.folder, ignore_errors=True)


class ForkedProcess:
    """A forked kernel, as jupyter_client's local provisioner handles a ``Popen``: it is
    the zygote's child, so it is watched and signalled through a pidfd (no pid reuse)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._fd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            self._ended()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            signal.pidfd_send_signal(self._fd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _ended(self) -> None:
        self.returncode = 0  # the zygote collects the status; ended is what matters
        os.close(self._fd)


class ForkingProvisioner(LocalProvisioner):
    """Starts a kernel by asking the server's zygote to fork one (the usual start when
    the zygote cannot)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        nice = 0
        if cmd and Path(cmd[0]).name == "nice":  # ecc.ui.kernels asks for a nice level
            nice, cmd = int(cmd[2]), cmd[3:]
        if "-f" not in cmd:
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = kwargs.get("cwd")
        try:
            zygote = self._zygote()
            pid = await zygote.fork(cmd[cmd.index("-f") :], env, cwd, nice)
            # a child that has already ended (ProcessLookupError) is a failed start too
            forked = ForkedProcess(pid)
        except (OSError, RuntimeError, ValueError) as error:
            log.warning("starting a kernel without the zygote: %s", error)
            full = ["nice", "-n", str(nice), *cmd] if nice else cmd
            return await super().launch_kernel(full, **kwargs)
        self.process = forked  # type: ignore[assignment]  # Popen's interface
        self.pid = pid
        self.pgid = pid  # the child leads a session of its own
        return self.connection_info

    def _zygote(self) -> Zygote:
        """The zygote of the server this kernel belongs to (kept by its kernel manager)."""
        manager: Any = getattr(self.parent, "parent", None)
        if manager is None:
            raise RuntimeError("no kernel manager to keep the zygote")
        zygote: Zygote | None = getattr(manager, "ecc_zygote", None)
        if zygote is None:
            zygote = Zygote()
            manager.ecc_zygote = zygote
        return zygote


if __name__ == "__main__":  # pragma: no cover - the zygote process
    serve(sys.argv[1])
