"""Share links: a real `ecc share serve` on loopback; a valid link shows the frozen report,
a tampered, expired or revoked one gets 403, and nothing else is served."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ecc.errors import ConfigError
from ecc.share.links import create_link, revoke_link
from tests.support.servers import free_port

REPORT = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Board pack</title>"
    "<style>h1{color:#1f4e8c}</style></head><body><h1>Board pack</h1>"
    "<p data-metric='risk.arr_at_risk' data-value='2520000.0'>$2.52M</p></body></html>"
)


@pytest.fixture(autouse=True)
def key_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The signing key's folder (the hub's), this test's own: the CLI, the server and the
    test sign and check with the same key, kept outside the database."""
    folder = tmp_path / "hub"
    monkeypatch.setenv("ECC_HUB_DIR", str(folder))
    return folder


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
        with urllib.request.urlopen(url, timeout=60) as r:  # a live view is computed
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        with e:  # its socket closed now, not whenever it is collected
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


# ---------------------------------------------------------------- views shared from a page
RISK_SMB = "preset=this_quarter&compare=previous&segment=SMB"


@pytest.fixture
def demo(engine: Engine) -> Engine:
    from ecc.demo import build_demo

    build_demo(engine, customers=120, seed=11, today=TODAY)
    return engine


TODAY = date(2026, 11, 24)


def test_a_shared_view_is_that_view_read_only_without_a_login(demo: Engine, server: str) -> None:
    from ecc.share.views import share_view
    from tests.support.pagecheck import computed_for, mismatches

    made = share_view(
        demo, "risk", RISK_SMB, kind="frozen", created_by="vp", days=30, note="For Monday"
    )
    status, body, headers = fetch(f"{server}/view/{made.token}")
    assert status == 200
    # the same numbers as `ecc metrics` for the view, with the page's look
    assert 'data-metric="risk.arr_at_risk"' in body
    assert mismatches(body, computed_for(demo, RISK_SMB)) == []
    assert "Shared by <strong>vp</strong>" in body and "“For Monday”" in body
    assert "segment SMB" in body  # its filters, in words
    # and nothing else: no navigation, filter bar, script, or link to anywhere
    assert "<script" not in body.lower() and "<nav" not in body and "<select" not in body
    assert not re.search(r"<a\b", body)
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    # another page or other filters through it: refused with a sentence
    for tail in ("?segment=Enterprise", "?page=portfolio", "/../portfolio"):
        status, body, _ = fetch(f"{server}/view/{made.token}{tail}")
        assert status in (403, 404), tail
        assert 'data-metric="risk' not in body, tail


def _arr(html: str) -> float:
    found = re.search(r'data-metric="portfolio\.arr" data-value="([^"]+)"', html)
    assert found is not None
    return float(json.loads(found[1]))


def test_a_live_view_follows_the_data_and_a_frozen_one_keeps_its_moment(
    demo: Engine, server: str
) -> None:
    from ecc.cache.refresh import refresh
    from ecc.load import mark_data_version
    from ecc.share.views import share_view
    from tests.support.builders import seed
    from tests.support.pagecheck import computed_for, mismatches

    query = "preset=this_quarter&compare=none"  # "this quarter", whatever the data's date
    refresh(demo, prepare=False)
    frozen = share_view(demo, "portfolio", query, kind="frozen", created_by="vp")
    live = share_view(demo, "portfolio", query, kind="live", created_by="vp")
    before = computed_for(demo, query)["portfolio"]["arr"]
    _, first, _ = fetch(f"{server}/view/{live.token}")
    assert mismatches(first, computed_for(demo, query)) == []
    # a load: a large expansion today; the cache refreshed as a load does
    with demo.connect() as conn:
        cid = conn.execute(text("SELECT customer_id FROM customers LIMIT 1")).scalar_one()
    seed(
        demo,
        arr_events=[
            {
                "event_id": "share-test-expansion",
                "customer_id": cid,
                "event_date": TODAY.isoformat(),
                "kind": "expansion",
                "arr_delta": 250_000,
                "expansion_type": "upsell",
            }
        ],
    )
    with demo.begin() as conn:
        mark_data_version(conn)  # as a load records it
    refresh(demo, full=True, prepare=False)
    after = computed_for(demo, query)["portfolio"]["arr"]
    assert after == pytest.approx(before + 250_000)
    _, now_live, _ = fetch(f"{server}/view/{live.token}")
    assert mismatches(now_live, computed_for(demo, query)) == []
    assert _arr(now_live) == pytest.approx(after)
    _, still, _ = fetch(f"{server}/view/{frozen.token}")
    assert _arr(still) == pytest.approx(before)
    assert "does not change" in still and "computed again each time" in now_live


def test_shared_views_are_counted_withdrawn_and_expire(demo: Engine, server: str) -> None:
    from ecc.schema import view_links
    from ecc.share.views import list_views, revoke_view, share_view

    mine = share_view(demo, "risk", RISK_SMB, kind="live", created_by="vp")
    theirs = share_view(demo, "segments", "", kind="frozen", created_by="vp.bob")
    for _ in range(2):
        assert fetch(f"{server}/view/{mine.token}")[0] == 200
    with demo.connect() as conn:
        listed = {r["link_id"]: r for r in list_views(conn, "vp")}
        everyone = {r["link_id"] for r in list_views(conn, "admin", everyone=True)}
    assert set(listed) == {mine.link_id}  # one's own links; an admin sees every one
    assert listed[mine.link_id]["views"] == 2 and listed[mine.link_id]["last_opened_at"]
    assert everyone == {mine.link_id, theirs.link_id}
    # nobody withdraws another's link but an admin
    with pytest.raises(ConfigError, match="no active link"):
        revoke_view(demo, theirs.link_id, "vp")
    revoke_view(demo, mine.link_id, "vp")
    status, body, _ = fetch(f"{server}/view/{mine.token}")
    assert status == 403 and "withdrawn" in body and "data-metric" not in body
    revoke_view(demo, theirs.link_id, "admin", admin=True)
    assert fetch(f"{server}/view/{theirs.token}")[0] == 403
    # expiry: a link past its date is refused with the date
    late = share_view(demo, "risk", RISK_SMB, kind="frozen", created_by="vp", days=1)
    with demo.begin() as conn:
        conn.execute(
            view_links.update()
            .where(view_links.c.link_id == late.link_id)
            .values(expires_at=datetime(2026, 1, 2, 9, 30))
        )
    status, body, _ = fetch(f"{server}/view/{late.token}")
    assert status == 403 and "expired on Jan 2, 2026 at 09:30 UTC" in body
    # the audit trail: who shared and withdrew what, and when
    from ecc.audit import events

    with demo.connect() as conn:
        trail = [(e["actor"], e["action"], e["subject"]) for e in reversed(events(conn))]
    assert trail == [
        ("vp", "share.create", f"link {mine.link_id}"),
        ("vp.bob", "share.create", f"link {theirs.link_id}"),
        ("vp", "share.withdraw", f"link {mine.link_id}"),
        ("admin", "share.withdraw", f"link {theirs.link_id}"),
        ("vp", "share.create", f"link {late.link_id}"),
    ]
    # the database keeps no token: its reader cannot open a link
    with demo.connect() as conn:
        stored = " ".join(str(v) for r in conn.execute(view_links.select()) for v in r)
    assert late.token not in stored and mine.token not in stored


def test_bad_sharing_input_is_refused_and_a_note_is_escaped(demo: Engine, server: str) -> None:
    from ecc.share.views import NOTE_LIMIT, share_view

    with pytest.raises(ConfigError, match="from 1 to 90 days"):
        share_view(demo, "risk", RISK_SMB, kind="live", created_by="vp", days=91)
    with pytest.raises(ConfigError, match="'frozen' \\(as of now\\) or 'live'"):
        share_view(demo, "risk", RISK_SMB, kind="forever", created_by="vp")
    with pytest.raises(ConfigError, match="who you are"):
        share_view(demo, "risk", RISK_SMB, kind="live", created_by="")
    with pytest.raises(ConfigError, match="cannot be shared"):  # one's own links
        share_view(demo, "shared_links", "", kind="frozen", created_by="vp")
    with pytest.raises(ConfigError, match="cannot be shared"):
        share_view(demo, "../../etc/passwd", "", kind="frozen", created_by="vp")
    with pytest.raises(ConfigError, match=f"at most {NOTE_LIMIT} characters"):
        share_view(demo, "risk", RISK_SMB, kind="live", created_by="vp", note="x" * 501)
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\x00'
    made = share_view(demo, "risk", RISK_SMB, kind="live", created_by="vp", note=hostile)
    _, body, _ = fetch(f"{server}/view/{made.token}")
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_signing_key_of_report_links_is_kept_outside_the_database(
    engine: Engine, server: str, report: Path, key_folder: Path
) -> None:
    from ecc.schema import ecc_meta

    # a key an earlier version kept in the database moves out; its links keep working
    with engine.begin() as conn:
        conn.execute(ecc_meta.insert().values(key="share_key", value="e" * 64))
    link = create_link(engine, report, days=1)
    key = key_folder / "share-key"
    assert key.read_text() == "e" * 64
    assert key.stat().st_mode & 0o777 == 0o600
    with engine.connect() as conn:
        assert conn.execute(ecc_meta.select().where(ecc_meta.c.key == "share_key")).first() is None
    assert fetch(f"{server}/share/{link.token}")[0] == 200
