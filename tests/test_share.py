"""Share links: a real `ecc share serve` on loopback; a valid link shows the frozen report,
a tampered, expired or revoked one gets 403, and nothing else is served."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecc.share.links import create_link, revoke_link
from tests.support.servers import free_port

REPORT = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Board pack</title>"
    "<style>h1{color:#1f4e8c}</style></head><body><h1>Board pack</h1>"
    "<p data-metric='risk.arr_at_risk' data-value='2520000.0'>$2.52M</p></body></html>"
)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "board-pack.html"
    path.write_text(REPORT)
    return path


@pytest.fixture
def server(db_url: str, engine: Engine, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "share.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "ecc.cli", "share", "serve"),
                *("--port", str(port), "--db", db_url),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def test_a_valid_link_shows_the_frozen_report_and_only_that(
    engine: Engine, server: str, report: Path
) -> None:
    link = create_link(engine, report, days=1, title="Board pack Q4")
    report.write_text("<html>changed after sharing</html>")  # the link keeps the snapshot
    status, body, headers = fetch(f"{server}/share/{link.token}")
    assert status == 200 and body == REPORT
    csp = [d.strip() for d in headers["Content-Security-Policy"].split(";")]
    # security finding 9: no form, no base URL, a sandbox, besides no script or frame
    for directive in ("default-src 'none'", "form-action 'none'", "base-uri 'none'", "sandbox"):
        assert directive in csp, csp
    assert headers["Cache-Control"] == "no-store"
    for path in ("/", "/share/", "/voila/render/portfolio.ipynb", "/api/kernels", "/static/x.css"):
        assert fetch(f"{server}{path}")[0] == 404, path


def test_tampered_expired_and_revoked_links_get_403(
    engine: Engine, server: str, report: Path
) -> None:
    good = create_link(engine, report, days=1)
    forged = good.token[:-2] + ("AA" if not good.token.endswith("AA") else "BB")
    status, body, _ = fetch(f"{server}/share/{forged}")
    assert status == 403 and "not valid" in body and "Board pack" not in body
    other_id = create_link(engine, report, days=1).link_id
    assert other_id not in good.token  # the token is signed, not the bare id
    assert fetch(f"{server}/share/{other_id}")[0] == 403
    expired = create_link(
        engine,
        report,
        expires_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1),
    )
    status, body, _ = fetch(f"{server}/share/{expired.token}")
    assert status == 403 and "expired" in body
    assert fetch(f"{server}/share/{good.token}")[0] == 200
    revoke_link(engine, good.link_id)
    status, body, _ = fetch(f"{server}/share/{good.token}")
    assert status == 403 and "withdrawn" in body


def test_a_link_made_with_another_key_is_refused(
    engine: Engine, server: str, report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECC_SECRET_KEY", "not the server's key")
    link = create_link(engine, report, days=1)
    assert fetch(f"{server}/share/{link.token}")[0] == 403


def test_the_cli_creates_lists_and_revokes(db_url: str, engine: Engine, report: Path) -> None:
    def ecc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ecc.cli", "share", *args, "--db", db_url],
            capture_output=True,
            text=True,
            timeout=60,
        )

    made = ecc("create", str(report), "--days", "2", "--base-url", "https://reports.example")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("https://reports.example/share/")
    link_id = made.stderr.split()[1]
    assert link_id in ecc("list").stdout
    assert ecc("revoke", link_id).returncode == 0
    assert "revoked" in ecc("list").stdout
    again = ecc("revoke", link_id)
    assert again.returncode == 2 and "no active share link" in again.stderr
    missing = ecc("create", str(report.with_name("nope.html")))
    assert missing.returncode == 2 and "no report at" in missing.stderr
