"""HTML pieces of the alerts center, shared by the live page and its static rendering
(reports, exports): severity badges, rules in words, subject links, severity cards,
the summary line, the empty state and the alert rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...alerts.store import RULE_WORDS, RULES, SEVERITIES, SEVERITY_MARK
from ...formatting import day
from ..components import SCROLL, esc, link
from ..view import View

SEVERITY_WORDS: dict[str, str] = {
    "critical": "Critical",
    "high": "High",
    "warning": "Warning",
    "info": "Info",
}
#: The ``status`` URL key: which alerts by acknowledgement (None: the unacknowledged).
STATUS_WORDS: dict[str | None, str] = {
    None: "Unacknowledged",
    "acknowledged": "Acknowledged",
    "all": "All",
}
assert set(RULE_WORDS) == set(RULES) and set(SEVERITY_WORDS) == set(SEVERITIES)

PAGE = "alerts"


def here(view: View, **changes: Any) -> str:
    """This page with ``changes`` (its own keys kept, the first rows only)."""
    return f"{PAGE}.ipynb{view.query(**({'list': None} | changes))}"


def severity_badge(severity: str) -> str:
    word = SEVERITY_WORDS.get(severity, severity)
    return (
        f'<span class="ecc-sev sev-{esc(severity)}" data-severity="{esc(severity)}">'
        f'<span aria-hidden="true">{SEVERITY_MARK.get(severity, "")}</span> {esc(word)}</span>'
    )


def rule_words(rule: str) -> str:
    return RULE_WORDS.get(rule, rule.replace("_", " "))


def when(iso: str) -> str:
    """A stored UTC time (naive ISO) for people: ``Nov 24, 2026 14:05 UTC``."""
    return f"{datetime.fromisoformat(iso):%b %-d, %Y %H:%M} UTC"


def subject_link(view: View, row: Mapping[str, Any]) -> str:
    """The alert's subject, linking to its page with the filters kept: a customer to its
    account, a CSM to their portfolio, a renewal to its customer's account (the renewals
    page when the renewal's customer is unknown)."""
    kind, name = row["subject_type"], row.get("subject_name") or row["subject_id"]
    if kind == "csm":
        return "CSM " + link("csm", view, name, csm=row["subject_id"])
    if kind == "renewal":
        due = row.get("subject_detail")
        text = f"Renewal of {name}" + (f", due {day(due)}" if due else "")
        if row.get("customer_id"):
            return link("account", view, text, customer=row["customer_id"], came="alerts")
        return link("renewals", view, text)
    if row.get("customer_id"):
        return link("account", view, name, customer=row["customer_id"], came="alerts")
    return esc(name)


def acknowledged(row: Mapping[str, Any]) -> str:
    if not row.get("acknowledged_at"):
        return '<span class="ecc-muted">Not acknowledged</span>'
    return (
        f'<span class="ecc-acked">✓ Acknowledged by <strong>{esc(row["acknowledged_by"])}</strong>'
        f" · {esc(when(row['acknowledged_at']))}</span>"
    )


def cards(view: View, data: Mapping[str, Any]) -> str:
    """One card per severity (and one for all) with its count under the other filters;
    each links to the list of that severity, the chosen one marked."""
    total = {None: "All unacknowledged", "acknowledged": "All acknowledged", "all": "All alerts"}
    counts: Mapping[str, int] = data["counts"]
    items: list[tuple[str | None, str, int]] = [(None, total[view.status], sum(counts.values()))]
    items += [(s, SEVERITY_WORDS[s], counts[s]) for s in SEVERITIES]
    out = []
    for sev, label, n in items:
        key = f"alerts.counts.{sev}" if sev else "alerts.counts.total"
        chosen = sev == view.severity
        cls = f"sev-{sev or 'total'}" + (" chosen" if chosen else "")
        out.append(
            f'<a class="ecc-card ecc-sevcard {cls}"'
            f' href="{esc(here(view, severity=sev))}" target="_self" data-metric="{key}"'
            f' data-value="{n}"{" aria-current=true" if chosen else ""}>'
            f'<div class="label">{severity_badge(sev) if sev else esc(label)}</div>'
            f'<div class="value">{n:,}</div></a>'
        )
    return '<div class="ecc-grid ecc-sevcards">' + "".join(out) + "</div>"


def summary(view: View, data: Mapping[str, Any]) -> str:
    """``12 unacknowledged · 3 acknowledged · rule “CSM over capacity”``: the counts under
    the period and filters, and the page's own filters in words."""
    by_status: Mapping[str, int] = data["by_status"]
    parts = [
        f"<strong>{by_status['open']:,}</strong> unacknowledged",
        f"<strong>{by_status['acknowledged']:,}</strong> acknowledged",
    ]
    if view.severity:
        parts.append(f"severity {esc(SEVERITY_WORDS[view.severity].lower())}")
    if view.rule:
        parts.append(f"rule “{esc(rule_words(view.rule))}”")
    return f'<p class="ecc-lead ecc-alert-summary">{" · ".join(parts)}</p>'


def empty(view: View, data: Mapping[str, Any]) -> str:
    """No alert to list: say which filters narrow it, each with a link that widens it."""
    if not data["ever"]:
        return (
            '<div class="ecc-empty" role="status"><strong>No alerts have fired yet.</strong> '
            "The rules run after every refresh of the numbers (and with "
            "<code>ecc alerts run</code>); alerts appear here when they fire.</div>"
        )
    tips = []
    if view.severity:
        tips.append(f'<a href="{esc(here(view, severity=None))}" target="_self">all severities</a>')
    if view.rule:
        tips.append(f'<a href="{esc(here(view, rule=None))}" target="_self">all rules</a>')
    if view.status != "all":
        tips.append(
            f'<a href="{esc(here(view, status="all"))}" target="_self">'
            f"{'acknowledged ones too' if view.status is None else 'unacknowledged ones too'}</a>"
        )
    if view.segment or view.csm:
        tips.append(
            f'<a href="{esc(here(view, segment=None, csm=None))}" target="_self">'
            "the whole portfolio</a>"
        )
    if view.preset != "ytd":
        tips.append(
            f'<a href="{esc(here(view, preset="ytd", start=None, end=None))}" target="_self">'
            "a longer period (year to date)</a>"
        )
    advice = " Show " + ", or ".join(tips) + "." if tips else ""
    return (
        '<div class="ecc-empty warn" role="status"><strong>No alerts match these filters.</strong>'
        f" None fired {esc(data['period_words'])} for this selection.{advice}</div>"
    )


def cap(view: View, data: Mapping[str, Any]) -> str:
    """``Showing the newest 50 of 312 alerts. Show all 312 →`` under a long list."""
    total, shown = data["total"], len(data["rows"])
    if total <= data["cap"]:
        return ""
    if view.list == "all":
        text = (
            f"Showing all {total:,} alerts."
            if shown == total
            else (
                f"Showing the newest {shown:,} of {total:,} alerts; "
                "narrow the filters for older ones."
            )
        )
        more = f'<a href="{esc(here(view))}" target="_self">Show the newest {data["cap"]} only</a>'
    else:
        text = f"Showing the newest {shown:,} of {total:,} alerts."
        more = f'<a href="{esc(here(view, list="all"))}" target="_self">Show all {total:,} →</a>'
    return f'<p class="ecc-cap" data-shown="{shown}" data-total="{total}">{esc(text)} {more}</p>'


def row_parts(view: View, row: Mapping[str, Any]) -> dict[str, str]:
    """The cells of one alert, as HTML."""
    return {
        "severity": severity_badge(row["severity"]),
        "day": f'<span class="ecc-nowrap">{esc(day(row["fired_on"]))}</span>',
        "rule": esc(rule_words(row["rule"])),
        "message": esc(row["message"]),
        "subject": subject_link(view, row),
        "acknowledged": acknowledged(row),
    }


def row_block(view: View, row: Mapping[str, Any]) -> str:
    """One alert as a block (the live list, where each row has its own controls)."""
    p = row_parts(view, row)
    return (
        f'<div class="ecc-alert" data-alert-id="{row["alert_id"]}"'
        f' data-severity="{esc(row["severity"])}" data-rule="{esc(row["rule"])}">'
        f'<div class="ecc-alert-head">{p["severity"]} <span class="ecc-alert-rule">'
        f'{p["rule"]}</span> <span class="ecc-muted ecc-alert-day">{p["day"]}</span></div>'
        f'<div class="ecc-alert-msg">{p["message"]}</div>'
        f'<div class="ecc-alert-foot">{p["subject"]} · {p["acknowledged"]}</div></div>'
    )


def rows_table(view: View, rows: list[Mapping[str, Any]]) -> str:
    """The alerts as a table (reports and exports), a row per alert."""
    heads = ("Severity", "Fired", "Alert", "Subject", "Acknowledged")
    body = []
    for r in rows:
        p = row_parts(view, r)
        ack = (
            f"{esc(r['acknowledged_by'])}<br>"
            f'<span class="ecc-muted ecc-nowrap">{esc(when(r["acknowledged_at"]))}</span>'
            if r.get("acknowledged_at")
            else '<span class="ecc-muted">Not acknowledged</span>'
        )
        cells = (
            p["severity"],
            p["day"],
            f"<strong>{p['rule']}</strong><br>{p['message']}",
            p["subject"],
            ack,
        )
        body.append(
            f'<tr data-alert-id="{r["alert_id"]}">'
            + "".join(f"<td>{cell}</td>" for cell in cells)
            + "</tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in heads)
    return (
        SCROLL + '<table class="ecc-table" data-table="alerts">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
