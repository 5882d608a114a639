"""The README's commands, literally, in a fresh clone, as a newcomer runs them.

The repository is cloned into a temporary folder (its committed HEAD) and the README's
first commands are run there with `make`, in an environment with no ``ECC_*`` variable
and no trace of this test run's virtualenv or make: `make serve` first (it installs,
makes the demo data it needs, and serves the dashboards), then `make demo` (the whole
stack behind the hub). What they print is what the test uses: the address, and the
printed logins, in Chromium.

Each start ends as people end it — Ctrl-C (SIGINT to the foreground process group, as
a terminal sends it), SIGTERM to `make`, or a part of the stack dying (the hub or a
service killed with SIGKILL) — and afterwards no process of that checkout may be left
and every port must be free. A start from another folder, a port already taken and a
database without the schema are tried too.

Slow (it installs into the clone's own .venv; pip's and npm's download caches are
shared with the machine), so it runs in its own xdist group. It uses the README's
default ports (8000, 8081, 8001, 8867, 8877, 8025 and 8866) and fails with the reason
if something else holds one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from tests.support.hubstack import passable
from tests.support.pagecheck import mismatches
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, IN_CI, LIVE_KPI, ROOT, need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fresh-clone")]

DEMO_PORTS = (8000, 8081, 8001, 8867, 8877, 8025)
SERVE_PORT = 8866
#: A fresh clone installs everything before it starts (pip from its cache, npm, data).
FIRST_START = 1500.0
START = 600.0
STOPPED_WITHIN = 30.0
WELCOME = re.compile(r"Executive Command Center: (http://\S+)/")
SERVE_WELCOME = re.compile(r"Command center: (http://\S+)")
LOGIN = re.compile(r"^\s+(vp|admin|analyst)\s+password (\S+)", re.M)


def readme_commands() -> list[str]:
    """The commands of the README's first code block (`make demo`, `make test`)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "the README starts with a sh block of its commands"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def clean_env() -> dict[str, str]:
    """The environment of a newcomer's shell: nothing of ecc, make or a virtualenv."""
    drop = ("ECC_", "MAKE", "MFLAGS", "VIRTUAL_ENV", "PYTHON", "PYTEST", "CONFIGPROXY", "JUPYTER")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    venvs = {str(ROOT / ".venv" / "bin")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p not in venvs
    )
    return env


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def need_ports(ports: tuple[int, ...]) -> None:
    taken = [p for p in ports if not port_free(p)]
    if taken:
        pytest.fail(f"the README's ports {taken} are taken on this machine: stop what holds them")


def processes_of(checkout: Path) -> list[str]:
    """Living processes that run from ``checkout`` (command line, program or folder)."""
    mark = str(checkout)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with suppress(OSError):
            if " Z " in (entry / "stat").read_text().split(")", 1)[-1][:4]:
                continue  # a zombie holds nothing
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            if mark in cmd or cwd.startswith(mark):
                found.append(f"{entry.name}: {cmd[:160]}")
    return found


def wait_until_clean(checkout: Path, ports: tuple[int, ...], timeout: float) -> float:
    """Seconds until no process of ``checkout`` is left and ``ports`` are free; fails
    with what is left after ``timeout``."""
    started = time.monotonic()
    while True:
        left = processes_of(checkout)
        busy = [p for p in ports if not port_free(p)]
        if not left and not busy:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"left after {timeout:.0f} s: processes {left}, ports {busy}")
        time.sleep(0.5)


class Make:
    """`make TARGET` in the checkout, as a terminal's foreground job (a process group of
    its own), its output in a file."""

    def __init__(self, checkout: Path, target: str, log: Path, env: dict[str, str]) -> None:
        self.log = log
        self.out = log.open("wb")
        self.proc = subprocess.Popen(
            ["make", target],
            cwd=checkout,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(self.text())
            if found:
                return found
            if self.proc.poll() is not None:
                pytest.fail(
                    f"make ended ({self.proc.returncode}) before it was ready:\n"
                    f"{self.text()[-4000:]}"
                )
            time.sleep(1.0)
        pytest.fail(f"not ready within {timeout:.0f} s:\n{self.text()[-4000:]}")

    def ctrl_c(self) -> None:
        """What a terminal does on Ctrl-C: SIGINT to the foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def ended(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"make still runs {timeout:.0f} s later:\n{self.text()[-3000:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=60)
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.out.close()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    need_chromium()
    if not (ROOT / ".git").exists():
        message = "the fresh-clone test needs the repository (a .git folder) to clone"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("fresh") / "ecc"
    # a clone where other users can read it, as /opt or /srv would be: analysts' servers
    # run as system users of their own (pytest's folders are private to its user)
    passable(folder.parent)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True)
    # nothing installed or made yet: whichever of `make serve` and `make demo` runs first
    # (the order is random) installs everything from this state
    assert not (folder / ".venv").exists() and not (folder / "data").exists()
    yield folder
    # whatever a failed test left running there
    for line in processes_of(folder):
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)


@pytest.fixture(scope="module")
def browser(checkout: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def ecc_metrics(checkout: Path, elsewhere: Path) -> dict[str, Any]:
    """`ecc metrics` for the landing page's default view, run from another folder."""
    ecc = str(checkout / ".venv" / "bin" / "ecc")
    done = subprocess.run(
        [ecc, "metrics", "--preset", "this_quarter", "--compare", "previous", "--format", "json"],
        cwd=elsewhere,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def shows_the_numbers(page: Any, url: str, checkout: Path, elsewhere: Path) -> None:
    """The landing page's KPIs, once attached, equal `ecc metrics`."""
    page.wait_for_selector(LIVE_KPI, timeout=180_000)
    assert page.url.split("?")[0].endswith(url), page.url
    html = str(page.content())
    assert html.count("data-metric=") >= 5
    assert 'data-metric="portfolio.arr"' in html
    assert mismatches(html, ecc_metrics(checkout, elsewhere)) == []


def test_readme_starts_with_the_two_commands() -> None:
    assert readme_commands()[:2] == ["make demo", "make test"]


@pytest.mark.timeout(3600)
def test_make_serve_in_a_fresh_clone_serves_the_dashboards_and_ctrl_c_stops_it(
    checkout: Path, browser: Any, tmp_path: Path
) -> None:
    need_ports((SERVE_PORT,))
    make = Make(checkout, "serve", tmp_path / "serve.log", clean_env())
    try:
        url = make.wait_for(SERVE_WELCOME, FIRST_START).group(1)
        assert url == f"http://127.0.0.1:{SERVE_PORT}/voila/render/summary.ipynb"
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        shows_the_numbers(page, "/voila/render/summary.ipynb", checkout, tmp_path)
        assert errors == []
        context.close()
        make.ctrl_c()
        make.ended(STOPPED_WITHIN + 30)
        seconds = wait_until_clean(checkout, (SERVE_PORT,), STOPPED_WITHIN)
        assert "Stopped; nothing is left running." in make.text()
        print(f"make serve: Ctrl-C -> clean in {seconds:.1f} s after make ended")
    finally:
        make.close()


def start_demo(checkout: Path, log: Path, timeout: float) -> tuple[Make, str, dict[str, str]]:
    need_ports(DEMO_PORTS)
    make = Make(checkout, "demo", log, clean_env())
    started = time.monotonic()
    try:
        url = make.wait_for(WELCOME, timeout).group(1)
        make.wait_for(re.compile("Ctrl-C stops the hub"), 30)
    except BaseException:
        make.close()
        raise
    text = make.text()
    logins = dict(LOGIN.findall(text))
    assert set(logins) == {"vp", "admin", "analyst"}, text[-2000:]
    assert text.count("Executive Command Center: http") == 1  # the address, once
    print(f"make demo: ready in {time.monotonic() - started:.0f} s")
    return make, url, logins


def sign_in(browser: Any, url: str, name: str, password: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{url}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation(timeout=180_000):
        page.click("[type=submit]")
    return context, page, errors


@pytest.mark.timeout(3600)
def test_make_demo_in_a_fresh_clone_signs_in_with_the_printed_logins_and_ctrl_c_stops_all(
    checkout: Path, browser: Any, tmp_path: Path
) -> None:
    make, url, logins = start_demo(checkout, tmp_path / "demo.log", FIRST_START)
    try:
        assert url == "http://127.0.0.1:8000"
        context, page, errors = sign_in(browser, url, "vp", logins["vp"])
        shows_the_numbers(
            page, "/services/dashboards/voila/render/summary.ipynb", checkout, tmp_path
        )
        assert errors == []
        context.close()
        context, page, _ = sign_in(browser, url, "analyst", logins["analyst"])
        page.wait_for_url("**/user/analyst/lab**", timeout=180_000)
        page.wait_for_selector(".jp-LabShell", timeout=180_000)
        context.close()
        make.ctrl_c()
        make.ended(STOPPED_WITHIN + 30)
        seconds = wait_until_clean(checkout, DEMO_PORTS, STOPPED_WITHIN)
        assert "Stopped; nothing is left running." in make.text()
        print(f"make demo: Ctrl-C -> clean {seconds:.1f} s after make ended")
    finally:
        make.close()


def test_sigterm_to_make_stops_the_whole_stack(checkout: Path, tmp_path: Path) -> None:
    make, _, _ = start_demo(checkout, tmp_path / "demo.log", START)
    try:
        make.proc.send_signal(signal.SIGTERM)  # make passes it on to its recipe
        make.ended(STOPPED_WITHIN + 30)
        wait_until_clean(checkout, DEMO_PORTS, STOPPED_WITHIN)
        assert "Stopped; nothing is left running." in make.text()
    finally:
        make.close()


def hub_pid(checkout: Path) -> int:
    pid = int((checkout / "data" / "hub" / "jupyterhub.pid").read_text().strip())
    assert "jupyterhub" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    return pid


def test_when_the_hub_is_killed_everything_stops_within_30_s(
    checkout: Path, tmp_path: Path
) -> None:
    make, _, _ = start_demo(checkout, tmp_path / "demo.log", START)
    try:
        pid = hub_pid(checkout)
        before = len(processes_of(checkout))
        # launcher, hub, proxy, four services, the kernels' zygote, 2 preheated kernels
        assert before >= 11
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        make.ended(STOPPED_WITHIN)
        wait_until_clean(
            checkout, DEMO_PORTS, max(1.0, STOPPED_WITHIN - (time.monotonic() - killed))
        )
        assert make.proc.returncode != 0
        last = [line for line in make.text().splitlines() if line.strip()]
        assert any(
            f"ecc: error: stopped — JupyterHub (pid {pid}) was killed by SIGKILL." in line
            for line in last[-4:]
        ), last[-6:]
    finally:
        make.close()


def service_pid(name: str, checkout: Path) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            env = (entry / "environ").read_bytes().split(b"\0")
            cmd = (entry / "cmdline").read_bytes()
            if f"ECC_SERVICE={name}".encode() in env and str(checkout).encode() in cmd:
                return int(entry.name)
    pytest.fail(f"no {name} service runs")


def test_started_from_another_folder_a_dying_service_stops_the_stack(
    checkout: Path, tmp_path: Path
) -> None:
    """`ecc hub start` from elsewhere finds the checkout's database and hub folder (the
    printed password works: the launcher signs in with it before printing it); when a
    service dies, the whole stack stops and says which service and why."""
    need_ports(DEMO_PORTS)
    installed(checkout, with_data=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = tmp_path / "start.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(checkout / ".venv" / "bin" / "ecc"), "hub", "start"],
            cwd=elsewhere,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START
        while "Ctrl-C stops the hub" not in log.read_text():
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1.0)
        assert not (elsewhere / "data").exists()  # nothing made where it was started
        assert f"in {checkout / 'data' / 'hub' / 'demo-logins.txt'}" in log.read_text()
        os.kill(service_pid("links", checkout), signal.SIGKILL)
        proc.wait(timeout=STOPPED_WITHIN + 30)
        wait_until_clean(checkout, DEMO_PORTS, STOPPED_WITHIN)
        assert proc.returncode == 1
        text = log.read_text()
        assert "ecc: error: stopped — the links service exited with status -9." in text
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def installed(checkout: Path, *, with_data: bool = False) -> None:
    """What the earlier tests' `make` left in the clone, made here when this test runs
    alone: the install, and the demo data."""
    env = clean_env()
    if not (checkout / ".venv" / "bin" / "ecc").exists():
        subprocess.run(["make", "install"], cwd=checkout, env=env, check=True, timeout=1500)
    if with_data:
        ecc = str(checkout / ".venv" / "bin" / "ecc")
        for args in (["demo", "--if-empty"], ["refresh"]):
            subprocess.run([ecc, *args], cwd=checkout, env=env, check=True, timeout=600)


def start_fails(checkout: Path, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [str(checkout / ".venv" / "bin" / "ecc"), "hub", "start"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return lines[-1]


def test_a_port_taken_or_a_database_without_schema_stops_the_start_with_that_error(
    checkout: Path, tmp_path: Path
) -> None:
    need_ports(DEMO_PORTS)
    installed(checkout)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", 8867))
        squatter.listen()
        last = start_fails(checkout, clean_env(), tmp_path)
    assert last.startswith("ecc: error: port 8867 on 127.0.0.1, the dashboards")
    assert "ECC_DASHBOARDS_PORT" in last
    empty = tmp_path / "empty-home"
    empty.mkdir()
    last = start_fails(checkout, {**clean_env(), "ECC_HOME": str(empty)}, tmp_path)
    assert last.startswith("ecc: error: ") and "no command-center schema" in last
    assert str(empty / "data" / "ecc.sqlite") in last
    assert processes_of(checkout) == []
