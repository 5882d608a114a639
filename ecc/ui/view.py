"""The state of a dashboard view, and its round trip through a URL query string.

Every page shares the same filter keys (``preset``, ``start``, ``end``, ``today``,
``compare``, ``segment``, ``csm``) plus page keys (``customer``, ``list``, and the alerts
page's ``severity``, ``rule``, ``status``). ``viewer`` names who is looking (the hub
front door sets it on each request): it is read like the others but is not view state,
so links to other pages do not carry it and the URL keeps it as it came. A copied link
or a reload shows the same view; a bad parameter is dropped with a message and the
default view is shown instead — never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode

from sqlalchemy import Connection

from ..errors import ConfigError, EccError
from ..filters import FIELDS, NAMES, Filters
from ..request import Request

FILTER_KEYS: tuple[str, ...] = NAMES
PAGE_KEYS: tuple[str, ...] = ("customer", "list", "severity", "rule", "status", "came")
VIEWER_KEY = "viewer"
#: The viewer's role (``vp`` or ``admin``), set by the hub front door with ``viewer``.
ROLE_KEY = "viewer_role"
DEFAULTS: dict[str, str] = {f.name: f.default for f in FIELDS if f.default is not None}


@dataclass(frozen=True)
class View(Filters):
    """What the user asked to see: the filters (text, as in the URL) and page keys."""

    customer: str | None = None
    list: str | None = None
    severity: str | None = None
    rule: str | None = None
    status: str | None = None  # alerts: None (unacknowledged), "all", "acknowledged"
    came: str | None = None  # the account page: the page the viewer came from (its crumb)
    viewer: str | None = field(default=None, compare=False)  # who is looking (not view state)
    viewer_role: str | None = field(default=None, compare=False)  # their role (the hub's)
    messages: tuple[str, ...] = field(default=(), compare=False)

    def with_(self, **changes: Any) -> View:
        """A copy with ``changes``; choosing a range clears the preset and vice versa."""
        view: View = super().with_(messages=(), **changes)
        return view

    def params(self) -> dict[str, str]:
        """The non-empty keys, for a query string (``compare`` none is spelled out)."""
        out = super().params()
        for key in PAGE_KEYS:
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = str(value)
        return out

    def query(self, **changes: Any) -> str:
        """``?preset=...&...`` for this view with ``changes`` applied."""
        view = self.with_(**changes) if changes else self
        return "?" + urlencode(view.params())

    def filters_only(self) -> View:
        """The same filters with the page keys dropped (for links to other pages)."""
        return replace(self, **dict.fromkeys(PAGE_KEYS), messages=())


def parse_query(query: str | dict[str, Any] | None) -> View:
    """A View from a query string (``a=1&b=2``, with or without ``?``) or a dict."""
    if query is None:
        return View()
    raw: dict[str, str | None]
    if isinstance(query, str):
        raw = {k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
    else:
        raw = {k: None if v is None else str(v) for k, v in query.items()}
    known = {
        k: (v.strip() if isinstance(v, str) else v)
        for k, v in raw.items()
        if k in (*FILTER_KEYS, *PAGE_KEYS, VIEWER_KEY, ROLE_KEY)
    }
    values: dict[str, Any] = {k: (v or None) for k, v in known.items()}
    if values.get("compare") == "none":
        values["compare"] = None
    if (values.get("start") or values.get("end")) and "preset" not in known:
        values["preset"] = None
    return View(**values)


def validate(conn: Connection, view: View) -> tuple[View, Request]:
    """The view made valid against the data, and its resolved request.

    Each bad parameter is dropped (falling back to its default) with a message saying
    what was wrong; the page shows the messages above the default view.
    """
    messages: list[str] = []
    current = view
    for _ in range(len(FILTER_KEYS) + 1):
        try:
            req = current.resolve(conn)
            return replace(current, messages=tuple(messages)), req
        except ConfigError as exc:
            text = str(exc)
            messages.append(text)
            current = _drop_culprit(current, text)
    raise EccError("; ".join(messages))


def _drop_culprit(view: View, message: str) -> View:
    """Reset the parameter a ConfigError message is about."""
    lowered = message.lower()
    for key, reset in (
        ("segment", {"segment": None}),
        ("csm", {"csm": None}),
        ("comparison", {"compare": DEFAULTS["compare"]}),
        ("today", {"today": None}),
        ("preset", {"preset": DEFAULTS["preset"], "start": None, "end": None}),
    ):
        if key in lowered:
            return replace(view, **reset)
    # a bad or incomplete custom range: back to the default preset
    return replace(view, preset=DEFAULTS["preset"], start=None, end=None)


def as_dates(req: Request) -> tuple[date, date]:
    return req.period.start, req.period.end
