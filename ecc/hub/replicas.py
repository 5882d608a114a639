"""Several dashboards servers behind one address (``ECC_DASHBOARDS_REPLICAS``).

One dashboards server holds its viewers' kernels in its own memory and runs them on
the cores of its own machine. To serve more people, or to survive the loss of one
server, the command center runs several identical replicas behind a standard load
balancer, HAProxy from Debian's packages. The hub still sees one service at one
address (the balancer's), and a replica keeps nothing a viewer needs beyond the kernels
of the pages it serves: the numbers come from the shared database (and Redis), sign-in
is the hub's, and every replica signs its cookies with the same key, derived from the
service's hub token (:func:`ecc.hub.dashboards.cookie_secret`).

- **Stickiness.** A page's kernel lives on the replica that served the page, so the
  balancer sets a cookie naming that replica and sends the page's later requests (its
  kernel's websocket, exports, acknowledgements) there.
- **Losing a replica.** The balancer checks each replica every second and sends new
  pages to the others within about two seconds. A page whose kernel was on the lost
  replica notices its websocket closing for good and loads itself again from a live
  one; a page cut off while it was loading does the same (the template's script).
  This process starts the lost replica again and ends the kernels it left behind.
- **Budgets.** Replicas on one machine share its memory: each gets an equal share of
  the kernel budget (``ECC_MAX_KERNELS``, :mod:`ecc.ui.admission`) unless it is set.
  Only the first replica refreshes the cache on its timer.

``ecc hub dashboards`` runs this when ``ECC_DASHBOARDS_REPLICAS`` is above 1: it starts
HAProxy on the service's address and the replicas on free loopback ports, and stops
them all on SIGTERM or Ctrl-C. On Kubernetes the same layout is a Deployment of
replicas behind a Service (docs/DEPLOY.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from .. import variables
from ..errors import ConfigError
from ..ui import admission

log = logging.getLogger("ecc.hub.replicas")

#: The variable that asks for replicas, and the one each replica is told its number by.
REPLICAS = "ECC_DASHBOARDS_REPLICAS"
REPLICA = "ECC_DASHBOARDS_REPLICA"
#: The cookie by which the balancer keeps a viewer on the replica holding their kernels.
STICKY_COOKIE = "ecc_replica"
#: Replicas at most (more belong on more machines, behind the same balancer).
MOST = 16


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).exists()), None
    )


def replicas_wanted(env: Mapping[str, str]) -> int:
    """``ECC_DASHBOARDS_REPLICAS`` (default 1), checked."""
    raw = variables.value(REPLICAS, env)
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if not 1 <= count <= MOST:
        raise ConfigError(
            f"{REPLICAS}={raw!r}: give a whole number from 1 to {MOST} (dashboards servers "
            "behind one address), or leave it unset for one"
        )
    if count > 1 and haproxy_binary() is None:
        raise ConfigError(
            f"{REPLICAS}={count} needs HAProxy to spread viewers over the replicas: "
            "`apt-get install haproxy` (make install does it as root), or unset it"
        )
    return count


def haproxy_config(host: str, port: int, backends: Sequence[int]) -> str:
    """HAProxy's configuration: ``host:port`` in front of the replicas on ``backends``,
    a sticky cookie per replica, health checks every second, and a request that cannot
    reach a replica sent to another one."""
    servers = "\n".join(
        f"    server r{i} 127.0.0.1:{p} check inter 1s fall 2 rise 2 cookie r{i}"
        for i, p in enumerate(backends)
    )
    return f"""# written by ecc (ecc/hub/replicas.py); rewritten at every start
global
    maxconn 4096

defaults
    mode http
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-request 30s

frontend dashboards
    bind {host}:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    cookie {STICKY_COOKIE} insert indirect nocache httponly
{servers}
"""


@dataclass
class Replica:
    """One dashboards server of the tier and what it started."""

    number: int
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    family: list[psutil.Process] = field(default_factory=list)

    def start(self, argv: Sequence[str]) -> None:
        self.proc = subprocess.Popen(list(argv), env=self.env)
        self.family = []

    def watch(self) -> None:
        """Remember what runs below the replica (its zygote and kernels), to end it if
        the replica dies."""
        if self.proc is None:
            return
        with suppress(psutil.Error):
            self.family = psutil.Process(self.proc.pid).children(recursive=True)

    def orphans(self) -> list[psutil.Process]:
        return [p for p in self.family if _running(p)]


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def replica_env(env: Mapping[str, str], number: int, port: int, count: int) -> dict[str, str]:
    """Replica ``number``'s environment: its own port, its share of the kernel budget,
    and the cache's timer on the first replica only."""
    out = dict(env)
    host = urlsplit(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8867")).hostname
    out["JUPYTERHUB_SERVICE_URL"] = f"http://{host or '127.0.0.1'}:{port}"
    out[REPLICA] = str(number)
    if not variables.value("ECC_MAX_KERNELS", env):
        out["ECC_MAX_KERNELS"] = str(max(4, admission.default_budget() // count))
    if number > 0:
        out["ECC_REFRESH_EVERY"] = "0"
    return out


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    import socket

    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Tier:
    """HAProxy and the replicas, started, watched and stopped together."""

    #: Seconds to wait after a replica died before starting it again, doubling to a cap.
    RESTART_AFTER = 1.0

    def __init__(self, env: Mapping[str, str], count: int, folder: Path) -> None:
        url = urlsplit(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8867"))
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 8867
        ports = free_ports(count)
        self.replicas = [Replica(i, p, replica_env(env, i, p, count)) for i, p in enumerate(ports)]
        self.config = folder / "dashboards-haproxy.cfg"
        self.argv = [sys.executable, "-m", "ecc.cli", "hub", "dashboards"]
        self.balancer: subprocess.Popen[bytes] | None = None
        self._stopping = False

    def run(self) -> int:
        self.config.write_text(
            haproxy_config(self.host, self.port, [r.port for r in self.replicas])
        )
        binary = haproxy_binary()
        if binary is None:  # said at the hub's preflight; here for a direct start
            raise ConfigError(f"{REPLICAS} needs HAProxy (apt-get install haproxy)")
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop_signal)
        # -db: stay in the foreground; -W would fork a master: not needed
        self.balancer = subprocess.Popen([binary, "-db", "-f", str(self.config)])
        for replica in self.replicas:
            replica.start(self.argv)
        print(
            f"dashboards: {len(self.replicas)} replicas behind HAProxy on "
            f"{self.host}:{self.port} (ports {', '.join(str(r.port) for r in self.replicas)})",
            flush=True,
        )
        delays = {r.number: self.RESTART_AFTER for r in self.replicas}
        try:
            while not self._stopping:
                if self.balancer.poll() is not None:
                    print("dashboards: HAProxy exited; stopping the replicas", file=sys.stderr)
                    return 1
                for replica in self.replicas:
                    self._look_after(replica, delays)
                time.sleep(0.5)
            return 0
        finally:
            self.stop()

    def _look_after(self, replica: Replica, delays: dict[int, float]) -> None:
        proc = replica.proc
        if proc is None or proc.poll() is None:
            replica.watch()
            if proc is not None and delays[replica.number] > self.RESTART_AFTER:
                delays[replica.number] = max(self.RESTART_AFTER, delays[replica.number] / 2)
            return
        left = replica.orphans()
        print(
            f"dashboards: replica {replica.number} exited ({proc.returncode}); ending the "
            f"{len(left)} processes it left and starting it again",
            file=sys.stderr,
            flush=True,
        )
        _end(left)
        time.sleep(delays[replica.number])
        delays[replica.number] = min(30.0, delays[replica.number] * 2)
        if not self._stopping:
            replica.start(self.argv)

    def _stop_signal(self, signum: int, frame: object) -> None:
        self._stopping = True

    def stop(self) -> None:
        """Stop the replicas (each shuts its kernels down), then the balancer."""
        self._stopping = True
        for replica in self.replicas:
            if replica.proc is not None and replica.proc.poll() is None:
                replica.watch()
                replica.proc.terminate()
        for replica in self.replicas:
            if replica.proc is None:
                continue
            try:
                replica.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                replica.proc.kill()
                replica.proc.wait(timeout=10)
            _end(replica.orphans())
        if self.balancer is not None and self.balancer.poll() is None:
            self.balancer.terminate()
            try:
                self.balancer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.balancer.kill()


def _end(procs: list[psutil.Process]) -> None:
    for proc in procs:
        with suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=5)
    for proc in alive:
        with suppress(psutil.Error):
            proc.kill()


def run_tier(env: Mapping[str, str] | None = None) -> int:
    """The replicas and their balancer, until SIGTERM or Ctrl-C."""
    env = dict(os.environ if env is None else env)
    folder = Path(variables.value("ECC_HUB_DIR", env) or Path.cwd())
    return Tier(env, replicas_wanted(env), folder).run()
