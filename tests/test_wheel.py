"""Issue 17: the package installs from its wheel and runs outside the checkout: the
notebooks, Voilà's template and the stylesheets come with it, and nothing is looked for
beside the source tree."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.support.servers import ROOT, free_port, need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done  # type: ignore[no-any-return]


@pytest.mark.timeout(2400)
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    need_chromium()
    # built from a copy: a build writes build/ and *.egg-info beside the sources
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv*",
            "node_modules",
            "data",
            "outputs",
            "build",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
        ),
    )
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)])
    (wheel,) = wheels.glob("ecc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "ecc/notebooks/portfolio.ipynb",
        "ecc/ui/voila_files/voila/templates/ecc/index.html.j2",
        "ecc/ui/voila_files/voila/templates/ecc/static/ecc.css",
        "ecc/ui/voila_files/config/voila.py",
        "ecc/reports/report.css",
        "ecc/hub/jupyterhub_config.py",
    ):
        assert shipped in names, shipped

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], timeout=1800)
    home, work = tmp_path / "home", tmp_path / "elsewhere"
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ECC_HOME": str(home),
        "LANG": "C.UTF-8",
    }
    ecc = str(venv / "bin" / "ecc")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return _run([ecc, *args], cwd=work, env=env, timeout=600)

    # the installed copy imports itself, not the checkout
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import ecc; print(ecc.__file__)"], cwd=work, env=env
    ).stdout
    assert str(venv) in where and str(ROOT) not in where

    run("demo", "--customers", "150", "--seed", "3")
    assert (home / "data" / "ecc.sqlite").is_file()
    numbers = json.loads(run("metrics", "--preset", "this_quarter").stdout)
    assert numbers["portfolio"]["customers"] > 0
    report = run("report", "portfolio", "--format", "pdf", "--out", str(tmp_path / "out"))
    (pdf,) = (tmp_path / "out").glob("*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and str(pdf) in report.stdout

    port = free_port()
    log = tmp_path / "serve.out"
    with log.open("w") as fh:
        serve = subprocess.Popen(
            [ecc, "serve", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 600
        while "Command center: http" not in log.read_text():
            assert serve.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        url = f"http://127.0.0.1:{port}/voila/render/portfolio.ipynb"
        with urllib.request.urlopen(url, timeout=180) as page:
            html = page.read().decode()
        assert 'data-metric="portfolio.arr"' in html
        assert "ecc.css" in html  # the project's template, from the installed package
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=10)
