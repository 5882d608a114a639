"""Issue 16: dashboards kernels forked from a warm process (ecc/ui/zygote.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.request import urlopen

import psutil
import pytest

from ecc.ui.kernels import NICENESS
from ecc.ui.zygote import ForkedProcess
from tests.support.builders import demo_sqlite
from tests.support.servers import server_of, voila_server


def test_a_forked_kernel_is_watched_and_signalled_through_its_pidfd() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    watched = ForkedProcess(child.pid)
    assert watched.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        watched.wait(timeout=0.05)
    watched.send_signal(signal.SIGTERM)
    child.wait(timeout=10)  # reaped by its parent, as the zygote reaps its kernels
    assert watched.wait(timeout=10) == 0 and watched.poll() == 0
    watched.kill()  # an ended process: nothing to signal, no error


def test_the_dashboards_use_the_installed_forking_provisioner() -> None:
    from importlib.metadata import entry_points

    from ecc.ui.serve import voila_command
    from ecc.ui.zygote import ForkingProvisioner

    option = "--KernelProvisionerFactory.default_provisioner_name="
    (named,) = [a[len(option) :] for a in voila_command(Path("."), port=1) if a.startswith(option)]
    (entry,) = entry_points(group="jupyter_client.kernel_provisioners", name=named)
    assert entry.load() is ForkingProvisioner


@pytest.mark.slow
def test_kernels_are_forked_from_one_warm_process_and_share_its_memory(tmp_path: Path) -> None:
    db = demo_sqlite(tmp_path, customers=120, seed=4, today=date(2026, 11, 24))
    with voila_server(db, tmp_path / "serve.log", pool_size=0) as base:
        server = server_of(base)
        (zygote,) = [p for p in server.children() if "ecc.ui.zygote" in " ".join(p.cmdline())]
        kernels = zygote.children()
        assert len(kernels) == 2  # the landing page's pool
        for kernel in kernels:
            assert "-m ipykernel_launcher -f" in " ".join(kernel.cmdline())  # named as one
            assert kernel.nice() == NICENESS
            assert os.getsid(kernel.pid) == kernel.pid  # a session of its own
            # the imported libraries are shared: its proportional share of memory is
            # well below what it maps
            memory = kernel.memory_full_info()
            assert memory.pss < 0.75 * memory.rss, memory
        # a page served by a forked kernel has its numbers
        url = f"{base}/voila/render/portfolio.ipynb"
        with urlopen(url, timeout=180) as response:
            assert 'data-metric="portfolio.arr"' in response.read().decode()
        socket = Path(re.findall(r"\S+/socket", " ".join(zygote.cmdline()))[0])
        assert socket.exists() and oct(socket.parent.stat().st_mode & 0o777) == "0o700"
    # the server stopped: its zygote and every kernel with it, and the zygote's folder
    _, alive = psutil.wait_procs([zygote, *kernels], timeout=30)
    assert alive == []
    assert not socket.parent.exists()


def test_a_child_gone_before_it_is_watched_is_a_failed_start() -> None:
    """A forked kernel that ended before its pidfd was opened raises an OSError, which the
    provisioner treats as a failed fork and starts a kernel without the zygote (a pool
    once waited for such a kernel for ever)."""
    from ecc.ui.zygote import ForkedProcess

    gone = subprocess.Popen(["true"])
    gone.wait()
    with pytest.raises(OSError):
        ForkedProcess(gone.pid)
