"""Render a dashboard page to one self-contained HTML file, without a kernel.

The same page functions as the live dashboards, with the filters shown as text: used
for previews, screenshots and (later) HTML reports.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ..paths import APP_CSS
from .components import esc
from .pages import build_context, load_all
from .view import parse_query


def render_page(engine: Engine, page_name: str, query: str = "") -> str:
    """The page's header and body as an HTML document."""
    from .app import numbers_region, render_header

    page = load_all()[page_name]
    with engine.connect() as conn:
        ctx = build_context(conn, page, parse_query(query))
        view = ctx.view
        body = numbers_region(page.render(ctx))
        header = render_header(page, ctx)
    filters = ", ".join(f"{k}={v}" for k, v in view.params().items()) or "defaults"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(page.title)}</title><style>{APP_CSS.read_text()}</style></head>"
        f"<body><div id='rendered_cells'>{header}"
        f"<div class='ecc-filters'>Filters: {esc(filters)}</div>{body}</div></body></html>"
    )


def write_page(engine: Engine, page_name: str, out: Path, query: str = "") -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_page(engine, page_name, query))
    return out
