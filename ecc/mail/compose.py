"""The messages the command center sends (``email.message.EmailMessage``).

- :func:`report_message`: a scheduled report — a plain-text part and an HTML part that
  give the period, the filters, the data's as-of date and the headline numbers (each
  with the comparison period's change), and the report's files attached.
- :func:`admin_message`: a note to the admins (a failed run, undeliverable mail).

Every message gets its Message-ID here; the outbox stores it with the message, so a
retry sends the very same message.
"""

from __future__ import annotations

import html
import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from .. import formatting as fmt
from ..periods import COMPARE_SHORT

#: The headline numbers of a report email: label, METRICS.md key path, kind of number.
HEADLINE: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Customers", ("portfolio", "customers"), "number"),
    ("ARR", ("portfolio", "arr"), "money"),
    ("Average health", ("portfolio", "avg_health"), "score"),
    ("GRR (period)", ("retention", "grr"), "rate"),
    ("NRR (period)", ("retention", "nrr"), "rate"),
    ("ARR at risk", ("risk", "arr_at_risk"), "money"),
    ("Renewal rate", ("renewals", "renewal_rate"), "rate"),
    ("Expansion pipeline", ("expansion", "open_value"), "money"),
)
HEADLINE_AREAS: tuple[str, ...] = tuple(dict.fromkeys(path[0] for _, path, _ in HEADLINE))
_FORMAT = {"money": fmt.money, "rate": fmt.pct, "score": fmt.score, "number": fmt.number}


@dataclass(frozen=True)
class HeadlineRow:
    label: str
    key: str  # METRICS.md key path
    value: str
    change: str  # "" without a comparison


@dataclass(frozen=True)
class Headline:
    rows: list[HeadlineRow]
    change_label: str  # "vs previous period"; "" without a comparison


def headline(data: dict[str, Any]) -> Headline:
    """The headline numbers of a ``compute_all``-shaped object, as people read them."""
    cmp = data.get("comparison_values")
    kind = (data.get("comparison") or {}).get("kind")
    rows = []
    for label, path, how in HEADLINE:
        now = fmt.get(data, *path)
        change = ""
        if kind:
            change = fmt.delta(now, fmt.get(cmp, *path), how) if cmp else "not enough history"
        rows.append(HeadlineRow(label, ".".join(path), _FORMAT[how](now), change))
    return Headline(rows, COMPARE_SHORT.get(kind, f"vs {kind}") if kind else "")


def _new(sender: str, recipients: list[str], subject: str) -> EmailMessage:
    msg = EmailMessage()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring="ecc", domain=domain)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    return msg


def _attach(msg: EmailMessage, path: Path) -> None:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    maintype, subtype = kind.split("/", 1)
    msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)


def _size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


def report_message(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    title: str,
    facts: dict[str, str],
    numbers: Headline,
    files: list[Path],
    footer: str,
) -> EmailMessage:
    """A report email: ``facts`` (Period, Filters, Data as of, ...) and the headline
    ``numbers`` in the body, ``files`` attached."""
    msg = _new(sender, recipients, subject)
    rows, change = numbers.rows, numbers.change_label
    shown = ("Period", "Filters", "Data as of", "Data loaded")
    width = max(len(r.label) for r in rows)
    warning = facts.get("Warning")  # stale data or a failed refresh: said first
    text = [title, "", *([f"WARNING: {warning}", ""] if warning else [])]
    text += [*(f"{k}: {facts[k]}" for k in shown if k in facts), ""]
    text.append(f"{'Headline':<{width}}  {'now':>10}" + (f"   {change}" if change else ""))
    text += [
        f"  {r.label:<{width}}  {r.value:>10}" + (f"   {r.change}" if r.change else "")
        for r in rows
    ]
    text += ["", "Attached:", *(f"  {f.name} ({_size(f)})" for f in files), "", footer]
    msg.set_content("\n".join(text) + "\n", cte="quoted-printable")

    esc = html.escape
    cell = "padding:4px 12px 4px 0;border-bottom:1px solid #e3e6ea"
    head = "text-align:left;padding:4px 12px 4px 0;color:#555;font-weight:normal"
    ths = f"<tr><th style='{head}'></th><th style='{head};text-align:right'>Now</th>" + (
        f"<th style='{head}'>Change {esc(change)}</th>" if change else ""
    )
    trs = "".join(
        f"<tr><td style='{cell}'>{esc(r.label)}</td>"
        f"<td style='{cell};text-align:right;font-weight:600' data-metric='{esc(r.key)}'>"
        f"{esc(r.value)}</td>"
        + (f"<td style='{cell};color:#555'>{esc(r.change)}</td>" if change else "")
        + "</tr>"
        for r in rows
    )
    dl = "".join(
        f"<tr><th style='text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:normal'>"
        f"{esc(k)}</th><td>{esc(facts[k])}</td></tr>"
        for k in shown
        if k in facts
    )
    attached = "".join(f"<li>{esc(f.name)} ({esc(_size(f))})</li>" for f in files)
    body = (
        "<!doctype html><html><body style='font-family:Arial,Helvetica,sans-serif;"
        "color:#1b1f24;font-size:14px;line-height:1.4'>"
        "<p style='color:#1f4e8c;font-size:12px;letter-spacing:.08em;text-transform:uppercase;"
        "margin:0'>Executive Command Center</p>"
        f"<h1 style='font-size:20px;margin:4px 0 12px'>{esc(title)}</h1>"
        + (
            "<p style='border-left:4px solid #b7791f;background:#fff8e6;padding:8px 12px'>"
            f"<strong>Warning:</strong> {esc(warning)}</p>"
            if warning
            else ""
        )
        + f"<table style='border-collapse:collapse;margin-bottom:16px'>{dl}</table>"
        "<h2 style='font-size:16px;margin:0 0 6px'>Headline</h2>"
        f"<table style='border-collapse:collapse;margin-bottom:16px'>{ths}</tr>{trs}</table>"
        f"<p style='margin:0'>Attached:</p><ul style='margin-top:4px'>{attached}</ul>"
        f"<p style='color:#777;font-size:12px'>{esc(footer)}</p></body></html>"
    )
    msg.add_alternative(body, subtype="html", cte="quoted-printable")
    for f in files:
        _attach(msg, f)
    return msg


def admin_message(
    *, sender: str, admins: list[str], subject: str, lines: list[str]
) -> EmailMessage:
    """A plain-text note to the admins."""
    msg = _new(sender, admins, f"[ECC] {subject}")
    msg.set_content("\n".join([subject, "", *lines]) + "\n", cte="quoted-printable")
    return msg
