"""The launcher's promises, on a small stand-in stack (no hub): one project root for
every default path, whatever the current folder; and a stack that lives and dies as
one unit — a dying part stops it with the reason printed last, a signal stops it, and
nothing started below the launcher survives, even in a session of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from ecc import paths
from ecc.config import database_url
from ecc.hub.config import ecc_environment, scheduler_service
from ecc.hub.settings import hub_settings

CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder is an unrelated one, and no ECC_* variable is set."""
    for name in list(os.environ):
        if name.startswith("ECC_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_every_default_path_comes_from_the_checkout_not_the_current_folder(
    elsewhere: Path,
) -> None:
    assert paths.home() == CHECKOUT
    assert database_url() == f"sqlite:///{CHECKOUT / 'data' / 'ecc.sqlite'}"
    settings = hub_settings({})
    assert settings.hub_dir == CHECKOUT / "data" / "hub"
    assert settings.data_url == f"sqlite:///{CHECKOUT / 'data' / 'ecc.sqlite'}"
    assert settings.notebooks == CHECKOUT / "ecc" / "notebooks"  # shipped in the package
    assert paths.mail_dir() == CHECKOUT / "data" / "mail"
    assert paths.outputs_dir() == CHECKOUT / "outputs"


def test_ecc_home_moves_every_data_path_and_is_made_absolute(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECC_HOME", "site")  # relative: to where it was typed
    home = elsewhere / "site"
    assert paths.home() == home
    assert database_url() == f"sqlite:///{home / 'data' / 'ecc.sqlite'}"
    settings = hub_settings(dict(os.environ))
    assert settings.hub_dir == home / "data" / "hub"
    # what the hub's services get: the same root, absolute, whatever their own folder
    env = ecc_environment(settings, dict(os.environ))
    assert env["ECC_HOME"] == str(home)
    assert env["ECC_DATABASE_URL"] == f"sqlite:///{home / 'data' / 'ecc.sqlite'}"
    scheduler = scheduler_service(settings, dict(os.environ))
    assert f"--out={home / 'outputs' / 'scheduled'}" in scheduler["command"]
    assert f"--schedules={CHECKOUT / 'schedules'}" in scheduler["command"]  # code, not data
    # code that ships with the checkout stays there
    assert settings.notebooks == CHECKOUT / "ecc" / "notebooks"  # shipped in the package


def test_a_command_run_from_another_folder_opens_the_checkouts_database(
    elsewhere: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env["ECC_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-m", "ecc.cli", "init"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    database = tmp_path / "home" / "data" / "ecc.sqlite"
    assert database.exists(), done.stdout + done.stderr
    assert not (elsewhere / "data").exists()
    # security finding 14: what ecc writes is its owner's alone
    assert database.stat().st_mode & 0o777 == 0o600
    assert database.parent.stat().st_mode & 0o777 == 0o700


def test_the_stacks_folders_are_made_private(elsewhere: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True, mode=0o755)
    (home / "data").chmod(0o755)  # made before, by another umask
    folders = paths.private_dirs({"ECC_HOME": str(home)})
    assert [f.relative_to(home).as_posix() for f in folders] == [
        "data",
        "data/hub",
        "data/mail",
        "outputs",
    ]
    assert all(f.stat().st_mode & 0o777 == 0o700 for f in folders)


# -- the stack as one unit ----------------------------------------------------------------

#: A stand-in for the hub: starts a "service" and a "kernel" in sessions of their own
#: (as JupyterHub and jupyter_client do), says a page is ready, then does what argv[1] says.
TOP = textwrap.dedent(
    """
    import os, subprocess, sys, time
    run = os.path.join(sys.argv[2], "{name}.pid")
    for name in ("service", "kernel"):
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             start_new_session=True)
        open(run.format(name=name), "w").write(str(p.pid))
    open(run.format(name="top"), "w").write(str(os.getpid()))
    print("ecc: portfolio ready for a viewer", flush=True)
    if sys.argv[1] == "service-dies":
        time.sleep(0.5)
        print("ecc links: error: the database has no command-center schema yet", flush=True)
        print("[E 2026-01-01 JupyterHub service:504] Service links exited with status 2",
              flush=True)
    time.sleep(600)
    """
)

#: The launcher around it, as `ecc hub start` uses it.
LAUNCHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ecc.launch import Launch, Warmup
    run = Path(sys.argv[2])
    launch = Launch([sys.executable, str(run / "top.py"), sys.argv[1], str(run)],
                    env={"PATH": "/usr/bin:/bin"}, cwd=run, log=run / "stack.log",
                    name="Stand-in")
    warmup = Warmup(launch, {"portfolio": 1}, "portfolio")
    sys.exit(launch.run(ready=lambda: warmup.ready(None), progress=lambda: "starting: "
                        + warmup.text(), welcome=lambda: print("WELCOME", flush=True),
                        timeout=60))
    """
)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(")", 1)[1].split()[0] != "Z"


class Stack:
    def __init__(self, folder: Path, mode: str) -> None:
        self.folder = folder
        (folder / "top.py").write_text(TOP)
        (folder / "launcher.py").write_text(LAUNCHER)
        self.out = folder / "out.txt"
        with self.out.open("w") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, str(folder / "launcher.py"), mode, str(folder)],
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while "WELCOME" not in self.text() and mode != "service-dies":
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.1)

    def text(self) -> str:
        return self.out.read_text()

    def pid(self, name: str) -> int:
        deadline = time.monotonic() + 30
        path = self.folder / f"{name}.pid"
        while not path.exists() or not path.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return int(path.read_text())

    def pids(self) -> list[int]:
        return [self.pid(n) for n in ("top", "service", "kernel")]

    def close(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for name in ("top", "service", "kernel"):
            with suppress(OSError, ValueError):
                os.kill(int((self.folder / f"{name}.pid").read_text()), signal.SIGKILL)


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    s = Stack(tmp_path, getattr(request, "param", "run"))
    yield s
    s.close()


def gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def test_sigterm_stops_the_stack_and_everything_below_it(stack: Stack) -> None:
    pids = stack.pids()
    assert all(alive(p) for p in pids)
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(timeout=30) == 0
    assert gone_within(pids, 5) == []
    assert stack.text().rstrip().endswith("Stopped; nothing is left running.")


def test_when_the_top_process_is_killed_its_orphans_are_stopped_too(stack: Stack) -> None:
    top, service, kernel = stack.pids()
    os.kill(top, signal.SIGKILL)
    assert stack.proc.wait(timeout=30) == 1
    assert gone_within([service, kernel], 5) == []
    last = stack.text().strip().splitlines()
    assert f"ecc: error: stopped — Stand-in (pid {top}) was killed by SIGKILL." in last[-2]
    assert last[-1].startswith("  The whole log: ")


@pytest.mark.parametrize("stack", ["service-dies"], indirect=True)
def test_a_dying_service_stops_the_stack_and_says_why_last(stack: Stack) -> None:
    pids = stack.pids()
    assert stack.proc.wait(timeout=30) == 1
    assert gone_within(pids, 5) == []
    last = stack.text().strip().splitlines()
    assert last[-3] == "ecc: error: stopped — the links service exited with status 2."
    assert last[-2] == "  ecc links: error: the database has no command-center schema yet"
    assert "Service links exited" in (stack.folder / "stack.log").read_text()


def test_when_the_launcher_itself_is_killed_the_top_process_gets_sigterm(stack: Stack) -> None:
    top = stack.pid("top")
    os.kill(stack.proc.pid, signal.SIGKILL)
    stack.proc.wait()
    assert gone_within([top], 10) == []


def test_ready_lines_of_two_kernels_that_ran_together_both_count(tmp_path: Path) -> None:
    from ecc.launch import Launch, Warmup

    launch = Launch(["true"], env={}, cwd=tmp_path, log=tmp_path / "log", name="x")
    warmup = Warmup(launch, {"retention": 1, "csm": 1, "portfolio": 2}, "portfolio")
    launch._note("ecc: retention ready for a viewerecc: csm ready for a viewer")
    launch._note("ecc: portfolio ready for a viewer")
    assert warmup.kernels() == (3, 4)
    launch._note("ecc: portfolio ready for a viewer")
    assert warmup.ready(None)


def test_a_failed_landing_load_is_tried_again_only_after_a_pause(tmp_path: Path) -> None:
    """Each load takes a preheated kernel: a page that fails is not hammered."""
    from ecc.launch import Launch, Warmup

    launch = Launch(["true"], env={}, cwd=tmp_path, log=tmp_path / "log", name="x")
    warmup = Warmup(launch, {"portfolio": 1}, "portfolio")
    launch._note("ecc: portfolio ready for a viewer")
    calls: list[int] = []

    def fails() -> bool:
        calls.append(1)
        return False

    assert not warmup.ready(fails) and not warmup.ready(fails)
    assert len(calls) == 1 and warmup.tries == 1
    warmup._next_try = 0.0  # the pause is over
    assert warmup.ready(lambda: True) is False  # loaded; its kernel not replaced yet
    launch._note("ecc: portfolio ready for a viewer")
    assert warmup.ready(lambda: True) and warmup.tries == 2
