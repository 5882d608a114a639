"""Alert mail chosen in the alerts center (issue 19, part 4): each person their own, an
admin anyone's; bad addresses refused; every change in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ecc.alerts.digest import subscribe
from ecc.alerts.preferences import everyone, mine, set_for, set_mine
from ecc.audit import events
from ecc.errors import ConfigError
from ecc.schema import alert_subscribers


def rows(engine: Engine) -> dict[str, tuple[str | None, str]]:
    with engine.connect() as conn:
        return {r.email: (r.name, r.cadence) for r in conn.execute(select(alert_subscribers))}


def test_each_person_sets_their_own_alert_mail(engine: Engine) -> None:
    subscribe(engine, "vp@example.com", "daily")  # as ECC_ALERT_EMAILS made it: no hub user
    assert set_mine(engine, "vp", "VP@example.com", "immediate") == (
        "Alert mail to vp@example.com: immediately (critical alerts as they come)."
    )
    assert rows(engine) == {"vp@example.com": ("vp", "immediate")}  # the row is now theirs
    set_mine(engine, "vp", "vp.work@example.com", "weekly")  # a new address replaces it
    assert rows(engine) == {"vp.work@example.com": ("vp", "weekly")}
    with engine.connect() as conn:
        assert mine(conn, "vp").cadence == "weekly" and mine(conn, "cro") is None
    with pytest.raises(ConfigError, match="receives alert mail for vp; use your own"):
        set_mine(engine, "cro", "vp.work@example.com", "daily")
    assert set_mine(engine, "vp", "", "off") == "Alert mail is off for you."
    assert rows(engine) == {}


def test_an_admin_sets_anyones_and_bad_input_is_refused(engine: Engine) -> None:
    set_mine(engine, "vp", "vp@example.com", "daily")
    set_mine(engine, "cro", "cro@example.com", "weekly")
    set_for(engine, "admin", "vp@example.com", "immediate")
    set_for(engine, "admin", "cro@example.com", "off")
    assert rows(engine) == {"vp@example.com": ("vp", "immediate")}
    with engine.connect() as conn:
        assert [r["email"] for r in everyone(conn)] == ["vp@example.com"]
    for email in ("vp@example.com\r\nBcc: x@evil.test", "<b>@example.com", "nobody", "a@b"):
        with pytest.raises(ConfigError, match="is not an email address"):
            set_mine(engine, "vp", email, "daily")
    with pytest.raises(ConfigError, match="choose one of"):
        set_mine(engine, "vp", "vp@example.com", "hourly")
    with pytest.raises(ConfigError, match="no alert subscriber"):
        set_for(engine, "admin", "ghost@example.com", "daily")
    with pytest.raises(ConfigError, match="signed in through the hub"):
        set_mine(engine, "", "vp@example.com", "daily")
    with engine.connect() as conn:
        trail = [(e["actor"], e["action"]) for e in reversed(events(conn))]
    assert trail == [
        ("vp", "alerts.set"),
        ("cro", "alerts.set"),
        ("admin", "alerts.set_for"),
        ("admin", "alerts.set_for"),
    ]
