"""The alerts center (US-008): alerts fired in the period, newest first, filtered by
severity, rule, segment and CSM, each linking to its subject with the filters kept;
acknowledging one or many records the viewer and the time and updates the list in place."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from ecc.alerts.store import Fired, record
from ecc.schema import executive_alerts
from ecc.ui.alerts_center.panel import AlertsPanel
from ecc.ui.pages import LiveEnv, build_context, load_all
from ecc.ui.static import render_page
from ecc.ui.view import View, parse_query
from ecc.ui.viewer import resolve_viewer
from tests.support.builders import seed
from tests.support.pagecheck import parse_page, query_of

TODAY = "2026-11-24"
Q = f"preset=this_quarter&compare=previous&today={TODAY}"  # Oct 1 - Nov 24, 2026


def d(iso: str) -> date:
    return date.fromisoformat(iso)


@pytest.fixture
def alerts(engine: Engine) -> dict[str, int]:
    """Two SMB customers of Ann, an Enterprise customer of Bo with a renewal; one alert
    of each rule in the quarter (and one before it); name -> alert_id."""
    seed(
        engine,
        csms=[
            {"csm_id": "ann", "name": "Ann Lee", "segment": "SMB"},
            {"csm_id": "bo", "name": "Bo Park", "segment": "Enterprise"},
        ],
        customers=[
            {"customer_id": "c1", "name": "Acme", "segment": "SMB", "csm_id": "ann"},
            {"customer_id": "c2", "name": "Bolt", "segment": "SMB", "csm_id": "ann"},
            {"customer_id": "c3", "name": "Globex", "segment": "Enterprise", "csm_id": "bo"},
        ],
        arr_events=[
            {"customer_id": c, "event_date": "2024-01-01", "kind": "new", "arr_delta": 150000}
            for c in ("c1", "c2", "c3")
        ],
        health_scores=[{"customer_id": "c1", "scored_on": TODAY, "score": 30}],
        renewals=[
            {
                "renewal_id": "r3",
                "customer_id": "c3",
                "due_on": "2026-12-20",
                "arr": 150000,
                "forecast_status": "at_risk",
            }
        ],
    )
    fired = {
        name: Fired(rule, severity, kind, subject, d(day), message)
        for name, rule, severity, kind, subject, day, message in [
            ("old", "major_expansion_closed", "info", "customer", "c2", "2026-09-30", "Bolt +$60K"),
            ("crit", "large_account_critical", "critical", "customer", "c1", "2026-11-20", "Acme"),
            ("capacity", "csm_over_capacity", "warning", "csm", "bo", "2026-11-10", "Bo at 130%"),
            ("renewal", "renewal_at_risk_30d", "high", "renewal", "r3", "2026-11-20", "Globex"),
            (
                "churn",
                "unexpected_churn",
                "critical",
                "customer",
                "c2",
                "2026-10-05",
                "Bolt churned",
            ),
            (
                "expansion",
                "major_expansion_closed",
                "info",
                "customer",
                "c3",
                "2026-10-01",
                "+$80K",
            ),
        ]
    }
    with engine.begin() as conn:
        return {name: record(conn, [f])[0] for name, f in fired.items()}


def listed(html: str) -> list[int]:
    """The alert ids a rendered page lists, in its order."""
    return [int(i) for i in re.findall(r'<tr data-alert-id="(\d+)"', html)]


def cards(html: str) -> dict[str, int]:
    return {k.split(".")[-1]: int(v) for k, v in parse_page(html).metrics.items()}


def test_lists_the_periods_alerts_newest_first_with_severity_cards(
    engine: Engine, alerts: dict[str, int]
) -> None:
    html = render_page(engine, "alerts", Q)
    a = alerts
    # newest day first; on one day the more severe first; September's alert is not listed
    assert listed(html) == [a["crit"], a["renewal"], a["capacity"], a["churn"], a["expansion"]]
    assert cards(html) == {"total": 5, "critical": 2, "high": 1, "warning": 1, "info": 1}
    assert "Alerts fired in the selected period: Oct 1, 2026 – Nov 24, 2026" in html
    # each row: severity in words, the day, the rule in plain words, the message
    row = html[html.index(f'data-alert-id="{a["capacity"]}"') :].split("</tr>")[0]
    assert "Warning</span>" in row and "Nov 10, 2026" in row
    assert "CSM over capacity" in row and "Bo at 130%" in row
    assert "Not acknowledged" in row


def test_subjects_link_to_their_pages_keeping_the_filters(
    engine: Engine, alerts: dict[str, int]
) -> None:
    html = render_page(engine, "alerts", f"{Q}&rule=&severity=")
    kept = {"preset": "this_quarter", "compare": "previous", "today": TODAY}
    links = {
        text: query_of(href) | {"page": href.split("?")[0]} for href, text in parse_page(html).links
    }
    assert links["Acme"] == kept | {"page": "account.ipynb", "customer": "c1", "came": "alerts"}
    assert links["Bo Park"] == kept | {"page": "csm.ipynb", "csm": "bo"}
    # a renewal links to its customer's account, and says which renewal
    assert links["Renewal of Globex, due Dec 20, 2026"] == kept | {
        "page": "account.ipynb",
        "customer": "c3",
        "came": "alerts",
    }
    # with a segment filter and the page's own filters, subject links keep the segment
    # (not the alerts page's severity), and the severity cards keep everything
    html = render_page(engine, "alerts", f"{Q}&segment=SMB&severity=critical")
    page = parse_page(html)
    acme = next(h for h, t in page.links if t == "Acme")
    assert query_of(acme) == kept | {"segment": "SMB", "customer": "c1", "came": "alerts"}
    card = next(h for h, t in page.links if h.startswith("alerts.ipynb") and "severity=info" in h)
    assert query_of(card) == kept | {"segment": "SMB", "severity": "info"}


BO = {"high": 1, "warning": 1, "info": 1}  # Bo's book: Globex's renewal and expansion, Bo


@pytest.mark.parametrize(
    ("query", "expected", "counts"),
    [
        ("severity=critical", ["crit", "churn"], {"critical": 2, **BO}),
        ("rule=major_expansion_closed", ["expansion"], {"info": 1}),
        ("segment=SMB", ["crit", "churn"], {"critical": 2}),  # Acme, Bolt (not Bo: Enterprise)
        ("segment=Enterprise", ["renewal", "capacity", "expansion"], {**BO}),
        ("csm=bo", ["renewal", "capacity", "expansion"], {**BO}),
        ("preset=ytd&severity=info", ["expansion", "old"], {"critical": 2, **BO, "info": 2}),
        ("segment=SMB&severity=critical&rule=unexpected_churn", ["churn"], {"critical": 1}),
    ],
)  # fmt: skip
def test_filters(
    engine: Engine, alerts: dict[str, int], query: str, expected: list[str], counts: dict[str, int]
) -> None:
    html = render_page(engine, "alerts", f"{Q}&{query}")
    assert listed(html) == [alerts[n] for n in expected]
    # the cards count every severity under the other filters (the severity filter aside)
    got = cards(html)
    assert {k: v for k, v in got.items() if v and k != "total"} == counts
    assert got["total"] == sum(counts.values())


def test_unacknowledged_by_default_then_acknowledged_or_all(
    engine: Engine, alerts: dict[str, int]
) -> None:
    from ecc.alerts.store import acknowledge

    acknowledge(engine, [alerts["crit"]], "vp.bob")
    html = render_page(engine, "alerts", Q)
    assert alerts["crit"] not in listed(html)
    assert "<strong>4</strong> unacknowledged · <strong>1</strong> acknowledged" in html
    html = render_page(engine, "alerts", f"{Q}&status=acknowledged")
    assert listed(html) == [alerts["crit"]]
    assert re.search(r"vp\.bob<br><span[^>]*>[A-Z][a-z]{2} \d+, \d{4} \d\d:\d\d UTC</span>", html)
    assert len(listed(render_page(engine, "alerts", f"{Q}&status=all"))) == 5


def test_bad_parameters_show_a_message_above_the_default_view(
    engine: Engine, alerts: dict[str, int]
) -> None:
    page = load_all()["alerts"]
    query = f"{Q}&severity=urgent&rule=nope&status=later&viewer=a%20b"
    with engine.connect() as conn:
        ctx = build_context(conn, page, parse_query(query))
        html = page.render(ctx)
    assert [m.split(";")[0].split(":")[0] for m in ctx.view.messages] == [
        "unknown severity 'urgent'",
        "unknown rule 'nope'",
        "unknown status 'later'",
        "ignored the viewer 'a b'",
    ]
    assert (ctx.view.severity, ctx.view.rule, ctx.view.status, ctx.view.viewer) == (None,) * 4
    assert len(listed(html)) == 5 and "Traceback" not in html


def test_empty_states_say_what_to_change(engine: Engine, alerts: dict[str, int]) -> None:
    html = render_page(engine, "alerts", f"{Q}&segment=SMB&rule=csm_over_capacity")
    assert "No alerts match these filters." in html
    links = [t for _, t in parse_page(html).links]
    assert {"all rules", "acknowledged ones too", "the whole portfolio"} <= set(links)
    assert "a longer period (year to date)" in links


def test_no_alert_ever_says_so(engine: Engine) -> None:
    seed(engine, csms=[{"csm_id": "ann"}], customers=[{"customer_id": "c1", "csm_id": "ann"}])
    html = render_page(engine, "alerts", Q)
    assert "No alerts have fired yet." in html and cards(html)["total"] == 0


def test_long_lists_show_the_newest_first_and_all_on_request(engine: Engine) -> None:
    seed(engine, csms=[{"csm_id": "ann"}], customers=[{"customer_id": "c1", "csm_id": "ann"}])
    start = d("2026-10-01")
    with engine.begin() as conn:
        record(
            conn,
            [
                Fired("csm_over_capacity", "warning", "csm", "ann", start + timedelta(days=i), "x")
                for i in range(55)
            ],
        )
    html = render_page(engine, "alerts", Q)
    assert len(listed(html)) == 50
    assert "Showing the newest 50 of 55 alerts." in html
    more = next(h for h, t in parse_page(html).links if t == "Show all 55 →")
    assert query_of(more)["list"] == "all"
    assert len(listed(render_page(engine, "alerts", f"{Q}&list=all"))) == 55


def test_report_and_excel_hold_the_alerts(
    engine: Engine, alerts: dict[str, int], tmp_path: Path
) -> None:
    from ecc.reports.build import export_page

    path = export_page(engine, "alerts", parse_query(f"{Q}&severity=critical"), "xlsx", tmp_path)
    wb = load_workbook(path)
    sheet = next(wb[n] for n in wb.sheetnames if "rows" in n)
    header = [c.value for c in sheet[1]]
    ids = [r[header.index("alert_id")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == [alerts["crit"], alerts["churn"]]


# --------------------------------------------------------------------------- acknowledging
def panel_for(engine: Engine, query: str) -> tuple[AlertsPanel, list[View]]:
    went: list[View] = []
    panel = AlertsPanel(LiveEnv(engine=engine, go=went.append))
    page = load_all()["alerts"]
    with engine.connect() as conn:
        panel.show(build_context(conn, page, parse_query(query)))
    return panel, went


def acks(engine: Engine) -> dict[int, tuple[Any, Any]]:
    a = executive_alerts.c
    with engine.connect() as conn:
        rows = conn.execute(select(a.alert_id, a.acknowledged_by, a.acknowledged_at)).all()
    return {r.alert_id: (r.acknowledged_by, r.acknowledged_at) for r in rows}


def test_acknowledge_selected_records_who_and_when_and_updates_in_place(
    engine: Engine, alerts: dict[str, int]
) -> None:
    panel, _ = panel_for(engine, f"{Q}&viewer=vp.alice")
    assert list(panel.rows) == [
        alerts[n] for n in ("crit", "renewal", "capacity", "churn", "expansion")
    ]
    assert panel.ack_button.disabled
    panel.rows[alerts["crit"]].pick.value = True
    panel.rows[alerts["capacity"]].pick.value = True
    assert panel.ack_button.description == "Acknowledge selected (2)"
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    panel.ack_button.click()
    after = datetime.now(UTC).replace(tzinfo=None)
    done = {i: v for i, v in acks(engine).items() if v[0] is not None}
    assert set(done) == {alerts["crit"], alerts["capacity"]}
    assert all(by == "vp.alice" and before <= at <= after for by, at in done.values())
    # in place: the two stay listed, marked, without controls; counts and a confirmation
    row = panel.rows[alerts["crit"]]
    assert "Acknowledged by <strong>vp.alice</strong>" in row.html.value
    assert row.pick.disabled and row.button.layout.visibility == "hidden"
    assert "Acknowledged 2 alerts as vp.alice" in panel.confirm.value
    assert "<strong>3</strong> unacknowledged · <strong>2</strong> acknowledged" in panel.top.value
    assert panel.ack_button.disabled and panel.selected() == []


def test_acknowledge_one_and_again_keeps_the_first(engine: Engine, alerts: dict[str, int]) -> None:
    panel, _ = panel_for(engine, f"{Q}&viewer=vp.alice&status=all")
    panel.rows[alerts["renewal"]].button.click()
    first = acks(engine)[alerts["renewal"]]
    assert first[0] == "vp.alice"
    other, _ = panel_for(engine, f"{Q}&viewer=cro.carol&status=all")
    assert other.rows[alerts["renewal"]].pick.disabled  # shown acknowledged, no controls
    assert other.acknowledge([alerts["renewal"], alerts["churn"]]) == 1
    assert acks(engine)[alerts["renewal"]] == first
    assert "1 was already acknowledged (by vp.alice)" in other.confirm.value


def test_select_all_and_the_page_filters_go_through_the_url(
    engine: Engine, alerts: dict[str, int]
) -> None:
    panel, went = panel_for(engine, f"{Q}&severity=critical")
    panel.pick_all.value = True
    assert sorted(panel.selected()) == sorted([alerts["crit"], alerts["churn"]])
    panel.w_rule.value = "unexpected_churn"
    assert len(went) == 1
    assert (went[0].severity, went[0].rule, went[0].preset) == (
        "critical",
        "unexpected_churn",
        "this_quarter",
    )


def test_the_viewer_is_the_url_then_the_hub_then_the_setting_then_the_os_user() -> None:
    import getpass

    env = {"JUPYTERHUB_USER": "hub.user", "ECC_VIEWER": "set.user"}
    assert resolve_viewer("vp.alice", env) == "vp.alice"
    assert resolve_viewer(None, env) == "hub.user"
    assert resolve_viewer("", {"ECC_VIEWER": "set.user"}) == "set.user"
    assert resolve_viewer(None, {}) == getpass.getuser()
    # security finding 4: in the hub's dashboards service only the URL's viewer counts;
    # without one nobody is named, never the operating-system user
    service = {"JUPYTERHUB_SERVICE_NAME": "dashboards", "ECC_VIEWER": "set.user"}
    assert resolve_viewer(None, service) == ""
    assert resolve_viewer("vp.alice", service) == "vp.alice"
    with pytest.raises(Exception, match="ignored the viewer"):
        resolve_viewer("<script>", env)
