"""Print a report's HTML to PDF with headless Chromium (FR-7): A4, page numbers, the
report's title and period in the footer, charts as vector SVG."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import variables
from ..errors import ConfigError

#: Debian's Chromium; ECC_CHROMIUM points elsewhere.
CHROMIUM = variables.value("ECC_CHROMIUM")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


@contextmanager
def browser() -> Iterator[Any]:
    """One headless Chromium for several PDFs."""
    if not Path(CHROMIUM).exists():
        raise ConfigError(
            f"no Chromium at {CHROMIUM}: install Debian's chromium package "
            "(`apt-get install chromium`) or set ECC_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def footer(text: str) -> str:
    return (
        "<div style='font-size:7.5pt;color:#555;width:100%;padding:0 12mm;"
        "display:flex;justify-content:space-between;font-family:Arial,sans-serif'>"
        f"<span>{html.escape(text)}</span>"
        "<span>Page <span class='pageNumber'></span> of <span class='totalPages'></span></span>"
        "</div>"
    )


def to_pdf(html_path: Path, pdf_path: Path, *, footer_text: str, chromium: Any = None) -> Path:
    """Print ``html_path`` to ``pdf_path``; reuse ``chromium`` when given."""
    if chromium is None:
        with browser() as b:
            return to_pdf(html_path, pdf_path, footer_text=footer_text, chromium=b)
    page = chromium.new_page()
    try:
        page.goto(html_path.resolve().as_uri(), wait_until="load")
        page.emulate_media(media="print")
        page.pdf(
            path=str(pdf_path),
            format="A4",
            print_background=True,
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=footer(footer_text),
            margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
            prefer_css_page_size=True,
            # a tagged PDF (headings, tables, the charts' alt text) and bookmarks from the
            # headings: what a screen reader and a PDF reader's outline read
            tagged=True,
            outline=True,
        )
    finally:
        page.close()
    return pdf_path
