"""Subscriptions (issue 19, parts 2 and 3): a view subscribed to is mailed by the same
scheduler, run records and outbox as the schedule files; the scheduler takes a new,
changed, paused or removed subscription without a restart and delivers each due run
exactly once; a fan-out sends one pack per segment or CSM; outside recipients wait for
an admin; bad input is refused with what to fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from ecc import formatting as fmt
from ecc.demo import build_demo
from ecc.errors import ConfigError
from ecc.schedule.service import last_fire_time
from ecc.schedule.subscriptions import (
    approve,
    change,
    check,
    listing,
    remove,
    schedules,
    set_state,
    subscribe,
)
from ecc.schema import csms, report_runs
from tests.support.scheduler import (
    _make_due,
    attached_pdf_text,
    env_for,
    scheduler,
    wait_for,
)
from tests.support.servers import need_chromium
from tests.support.smtp_sink import SmtpSink

TODAY = date(2026, 11, 24)
ECC = [sys.executable, "-m", "ecc.cli"]
VIEW = "preset=last_quarter&compare=yoy&segment=Enterprise"


@pytest.fixture
def demo(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("ECC_ORG_DOMAINS", "example.com")
    build_demo(engine, customers=150, seed=4, today=TODAY)
    return engine


def weekly(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "page": "risk",
        "query": VIEW,
        "formats": ["pdf"],
        "cadence": "weekly",
        "timezone": "Europe/London",
        "recipients": "vp@example.com, cro@example.com",
    }
    return fields | changes


def test_bad_subscriptions_are_refused_with_what_to_fix() -> None:
    refused = {
        "not a dashboard to subscribe to": weekly(page="shared_links"),
        "choose PDF, Excel or both": weekly(formats=[]),
        "weekly, monthly or custom": weekly(cadence="hourly"),
        "unknown time zone": weekly(timezone="Mars/Olympus"),
        "is not a crontab line": weekly(cadence="custom", cron="every monday"),
        "is not an email address": weekly(recipients="vp@example.com\r\nBcc: all@evil.test"),
        "at most 50 addresses": weekly(recipients=",".join(f"p{i}@example.com" for i in range(51))),
        "unknown segment": weekly(
            query="preset=ytd", fan_out="segment", by_segment={"Gov": "a@example.com"}
        ),
        "needs the view of every segment": weekly(
            fan_out="segment", by_segment={"SMB": "a@example.com"}
        ),
        "give at least one recipient": weekly(recipients=""),
    }
    for words, fields in refused.items():
        with pytest.raises(ConfigError, match=words):
            check(**fields)  # type: ignore[arg-type]
    for hostile in ("<script>@example.com", '"x"@example.com', "a@b", "x@exa mple.com"):
        with pytest.raises(ConfigError, match="is not an email address"):
            check(**weekly(recipients=hostile))  # type: ignore[arg-type]


def test_a_subscription_mails_its_view_and_the_pdf_holds_the_numbers_of_ecc_metrics(
    demo: Engine, db_url: str, tmp_path: Path
) -> None:
    need_chromium()
    sub = subscribe(demo, check(**weekly()), owner="vp")  # type: ignore[arg-type]
    (schedule,) = schedules(demo)
    assert (schedule.name, schedule.cron, schedule.timezone) == (
        f"sub-{sub}",
        "0 7 * * 1",
        "Europe/London",
    )
    with SmtpSink() as sink:
        run = subprocess.run(
            [*ECC, "scheduler", "--run-now", f"sub-{sub}", "--db", db_url,
             "--out", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=300, env=env_for(sink),
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (got,) = sink.received
    assert sorted(got.recipients) == ["cro@example.com", "vp@example.com"]
    text = attached_pdf_text(got.message, tmp_path / "got.pdf")
    metrics = json.loads(
        subprocess.run(
            [*ECC, "metrics", "--preset", "last_quarter", "--compare", "yoy", "--segment",
             "Enterprise", "--db", db_url],
            capture_output=True, text=True, check=True, env=dict(os.environ),
        ).stdout
    )  # fmt: skip
    assert "Jul 1, 2026 – Sep 30, 2026" in text and "segment Enterprise" in text
    for shown in (
        fmt.money(metrics["risk"]["arr_at_risk"]),
        fmt.money(metrics["risk"]["critical_arr"]),
    ):
        assert shown in text, shown
    with demo.connect() as conn:
        (rec,) = conn.execute(select(report_runs)).all()
    assert (rec.schedule, rec.status) == (f"sub-{sub}", "succeeded")


def test_the_running_scheduler_follows_subscriptions_and_sends_each_run_once(
    demo: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made, changed, paused, resumed and removed while the scheduler runs; a run due
    while it was down is sent once, and not again after another restart."""
    monkeypatch.setenv("ECC_SUBSCRIPTIONS_EVERY", "1")
    folder, out = tmp_path / "schedules", tmp_path / "out"
    folder.mkdir()
    sink = SmtpSink().start()

    def said(log: Path, line: str) -> None:
        wait_for(lambda: line in log.read_text(), repr(line), 60)

    try:
        log = tmp_path / "1.log"
        with scheduler(db_url, folder, out, sink, log):
            sub = subscribe(demo, check(**weekly(formats=["xlsx"])), owner="vp")  # type: ignore[arg-type]
            said(log, f"subscriptions: sub-{sub}: added, next run")
            new = check(**weekly(formats=["xlsx"], cadence="monthly"))  # type: ignore[arg-type]
            assert change(demo, sub, new, who="vp") == "active"
            said(log, f"subscriptions: sub-{sub}: changed, next run")
            set_state(demo, sub, "paused", who="vp")
            said(log, f"subscriptions: sub-{sub}: removed")
            set_state(demo, sub, "active", who="vp")
            wait_for(lambda: log.read_text().count(f"sub-{sub}: added") == 2, "resumed", 60)
        assert sink.received == []  # its time has not come
        (schedule,) = schedules(demo)
        due = last_fire_time(schedule.trigger(), datetime.now(UTC))
        assert due is not None
        _make_due(db_url, f"report:sub-{sub}", due)  # the 1st fell while it was down
        with scheduler(db_url, folder, out, sink, tmp_path / "2.log"):
            wait_for(lambda: len(sink.received) == 1, "the subscription's mail")
        with scheduler(db_url, folder, out, sink, tmp_path / "3.log"):
            said(tmp_path / "3.log", "start-up pass done")
        assert len(sink.received) == 1  # exactly once across the restarts
        with demo.connect() as conn:
            (rec,) = conn.execute(select(report_runs)).all()
        assert rec.due_at == due.astimezone(UTC).replace(tzinfo=None)
        remove(demo, sub, who="vp")
        assert schedules(demo) == []
    finally:
        sink.stop()


def test_a_fan_out_by_segment_sends_each_segment_its_own_pack(
    demo: Engine, db_url: str, tmp_path: Path
) -> None:
    leads = {
        "Enterprise": "ent@example.com",
        "Mid-market": "mid@example.com",
        "SMB": "smb@example.com",
    }
    plan = check(
        **weekly(  # type: ignore[arg-type]
            query="preset=last_quarter&compare=none",
            formats=["xlsx"],
            recipients="",
            fan_out="segment",
            by_segment=leads,
        )
    )
    subscribe(demo, plan, owner="admin")
    packs = schedules(demo)
    assert len(packs) == 3
    with SmtpSink() as sink:
        for pack in packs:  # as the scheduler runs each (in a process of its own)
            run = subprocess.run(
                [*ECC, "scheduler", "--run-now", pack.name, "--db", db_url,
                 "--out", str(tmp_path / "out")],
                capture_output=True, text=True, timeout=300, env=env_for(sink),
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
    got = {tuple(m.recipients): m.message for m in sink.received}
    assert set(got) == {(a,) for a in leads.values()}
    for segment, address in leads.items():
        (xlsx,) = list(got[(address,)].iter_attachments())
        path = tmp_path / f"{segment}.xlsx"
        path.write_bytes(xlsx.get_content())
        about = dict(load_workbook(path)["About"].iter_rows(values_only=True))
        assert about["Filters"] == f"segment {segment}", about  # each pack its own filter
    with demo.connect() as conn:
        names = sorted(r.schedule for r in conn.execute(select(report_runs)))
    assert len(names) == 3 and len(set(names)) == 3  # each delivery recorded on its own


def test_a_fan_out_by_csm_sends_each_active_csm_their_book(demo: Engine) -> None:
    plan = check(**weekly(query="preset=ytd&segment=SMB", recipients="", fan_out="csm"))  # type: ignore[arg-type]
    subscribe(demo, plan, owner="vp")
    with demo.connect() as conn:
        smb = {
            r.csm_id: r.email
            for r in conn.execute(
                select(csms.c.csm_id, csms.c.email).where(csms.c.active, csms.c.segment == "SMB")
            )
        }
    packs = schedules(demo)
    assert {p.params.csm: p.recipients for p in packs} == {c: (e,) for c, e in smb.items()}
    assert all(p.params.segment == "SMB" for p in packs)


def test_outside_recipients_wait_for_an_admin_and_owners_manage_their_own(
    demo: Engine, db_url: str
) -> None:
    outside = check(**weekly(recipients="vp@example.com, board@partner.org"))  # type: ignore[arg-type]
    waiting = subscribe(demo, outside, owner="vp")
    inside = subscribe(demo, check(**weekly()), owner="vp")  # type: ignore[arg-type]
    assert [s.name for s in schedules(demo)] == [f"sub-{inside}"]  # pending sends nothing
    with pytest.raises(ConfigError, match="waits for an admin"):
        set_state(demo, waiting, "active", who="vp")
    approve(demo, waiting, admin="admin")
    assert {s.name for s in schedules(demo)} == {f"sub-{inside}", f"sub-{waiting}"}
    # a new outside address on an approved one: pending again; known ones stay approved
    again = check(**weekly(recipients="vp@example.com, board@partner.org, x@else.net"))  # type: ignore[arg-type]
    assert change(demo, waiting, again, who="vp") == "pending"
    # an admin's own outside recipients need nobody's approval
    assert subscribe(demo, outside, owner="admin", admin=True) > 0
    # one's own, and an admin everyone's
    with demo.connect() as conn:
        assert {r["owner"] for r in listing(conn, "vp")} == {"vp"}
        assert {r["owner"] for r in listing(conn, "admin", everyone=True)} == {"vp", "admin"}
    with pytest.raises(ConfigError, match="no subscription"):
        remove(demo, inside, who="someone-else")
    set_state(demo, inside, "paused", who="admin", admin=True)  # an admin pauses any
    assert f"sub-{inside}" not in {s.name for s in schedules(demo)}
    # every action in the audit trail, with who did it
    from ecc.audit import events

    with demo.connect() as conn:
        trail = [(e["actor"], e["action"], e["subject"]) for e in reversed(events(conn))]
    assert trail == [
        ("vp", "subscription.create", f"subscription {waiting}"),
        ("vp", "subscription.create", f"subscription {inside}"),
        ("admin", "subscription.approve", f"subscription {waiting}"),
        ("vp", "subscription.change", f"subscription {waiting}"),
        ("admin", "subscription.create", trail[4][2]),
        ("admin", "subscription.pause", f"subscription {inside}"),
    ]
    with demo.connect() as conn:
        first = events(conn)[-1]
    assert (
        first["detail"]["state"] == "pending"
        and "board@partner.org" in first["detail"]["recipients"]
    )
    # read on the server with `ecc audit`, newest first
    shown = subprocess.run(
        [*ECC, "audit", "--db", db_url, "--json"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [(e["actor"], e["action"], e["subject"]) for e in map(json.loads, shown)] == trail[::-1]
    assert json.loads(shown[-1])["detail"]["recipients"] == "vp@example.com,board@partner.org"
    text = subprocess.run(
        [*ECC, "audit", "--db", db_url, "--limit", "1"], capture_output=True, text=True, check=True
    ).stdout
    assert text.count("\n") == 1 and f"admin\tsubscription.pause\tsubscription {inside}" in text
