"""A shared view as its holder sees it: one page, read-only, standalone.

The page's own body under a plain heading (the report section's: period, comparison,
filters in words, data as of), a line saying who shared it, when, how (as of now or
live), until when, and their note; no navigation, no filter bar, no breadcrumbs, and no
link anywhere: a link's text stays, its address goes (the holder sees this view and
nothing else). Styles inline, no script.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Engine

from ..paths import APP_CSS
from .components import esc
from .pages import build_context, load_all
from .report_view import report_section
from .view import parse_query

_ANCHOR = re.compile(r"<a\b[^>]*>|</a>", re.I)


def unlinked(html: str) -> str:
    """``html`` with every link's address removed: an HTML link becomes a ``span``, a
    link on a chart's marks an SVG group; the text and the drawing stay."""
    out: list[str] = []
    stack: list[str] = []
    last = 0
    for m in _ANCHOR.finditer(html):
        out.append(html[last : m.start()])
        tag = m.group(0)
        if tag.lower() == "</a>":
            out.append(f"</{stack.pop() if stack else 'span'}>")
        elif "xlink:href" in tag:
            stack.append("g")
            out.append("<g>")
        else:
            stack.append("span")
            out.append('<span class="ecc-unlinked">')
        last = m.end()
    out.append(html[last:])
    return "".join(out)


def render_shared(
    engine: Engine,
    page_name: str,
    query: str,
    *,
    kind: str,
    by: str,
    at: datetime,
    expires: datetime,
    note: str | None,
) -> str:
    """The shared page as a whole HTML document."""
    page = load_all()[page_name]
    with engine.connect() as conn:
        ctx = build_context(conn, page, parse_query(query))
        section, _ = report_section(page, ctx)
    how = (
        "a copy as of that moment: it does not change"
        if kind == "frozen"
        else "live: the numbers are computed again each time it is opened"
    )
    said = f'<p class="ecc-shared-note">“{esc(note)}”</p>' if note else ""
    banner = (
        '<div class="ecc-shared" role="note">'
        f"<p>Shared by <strong>{esc(by)}</strong> on {at:%b %-d, %Y at %H:%M} UTC — "
        f"{esc(how)}. Read-only; the link works until {expires:%b %-d, %Y}.</p>{said}</div>"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='robots' content='noindex'>"
        f"<title>{esc(page.title)} (shared)</title><style>{APP_CSS.read_text()}</style></head>"
        f"<body><main id='rendered_cells' class='ecc-shared-page'>{banner}"
        f"{unlinked(section)}</main></body></html>"
    )
