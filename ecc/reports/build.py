"""``ecc report``: run the notebooks and write the report's files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from ..cache import metrics_for
from ..errors import ConfigError
from ..filters import Filters
from ..ui.pages import build_context, load_all
from ..ui.view import View
from . import document
from .execute import NOTEBOOKS_DIR, Section, run_all
from .params import check_notebooks, slug

FORMATS = ("html", "pdf", "xlsx")


@dataclass
class ReportResult:
    files: list[Path]
    sections: list[Section]
    timings: dict[str, float] = field(default_factory=dict)


def make_report(
    engine: Engine,
    names: list[str],
    view: Filters,
    *,
    out: Path,
    formats: tuple[str, ...] = FORMATS,
    parallel: int = 2,
    notebooks: Path = NOTEBOOKS_DIR,
) -> ReportResult:
    """Run ``names`` (dashboard notebooks in ``notebooks``) for ``view`` and write
    ``formats`` to ``out``.

    The parameters are checked against the data before any notebook runs; the files
    are named after the pages and the request (``board-pack-this_quarter-...``).
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(
            f"unknown format {', '.join(bad) or '(none)'}; choose from: {', '.join(FORMATS)}"
        )
    pages = check_notebooks(names)
    with engine.connect() as conn:
        req = view.resolve(conn)
    stem = f"{'board-pack' if len(pages) > 1 else pages[0]}-{slug(req)}"
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    url = engine.url.render_as_string(hide_password=False)
    sections = run_all(
        pages,
        view.pinned(req).filters(),
        out / "notebooks" / stem,
        db_url=url,
        parallel=parallel,
        notebooks=notebooks,
    )
    timings["notebooks"] = time.perf_counter() - started
    files: list[Path] = []
    html_path = out / f"{stem}.html"
    html_path.write_text(document.render(sections))
    if "html" in formats:
        files.append(html_path)
    if "pdf" in formats:
        from .pdf import to_pdf

        t = time.perf_counter()
        facts = document.cover_facts(sections)
        footer = f"{document.title_of(sections)} · {facts['Period']} · filters: {facts['Filters']}"
        files.append(to_pdf(html_path, out / f"{stem}.pdf", footer_text=footer))
        timings["pdf"] = time.perf_counter() - t
    if "xlsx" in formats:
        from .excel import write_workbook

        t = time.perf_counter()
        registry = load_all()
        areas = list(dict.fromkeys(a for p in pages for a in registry[p].areas))
        data = metrics_for(
            engine, req.period, compare=req.compare, scope=req.scope, areas=areas
        ).data
        facts = document.cover_facts(sections)
        about = [("Report", document.title_of(sections))]
        about += [("Pages", ", ".join(s.title for s in sections))]
        about += list(facts.items())
        files.append(write_workbook(out / f"{stem}.xlsx", about, data, areas))
        timings["xlsx"] = time.perf_counter() - t
    if "html" not in formats:
        html_path.unlink(missing_ok=True)
    timings["total"] = time.perf_counter() - started
    return ReportResult(files=files, sections=sections, timings=timings)


def export_page(engine: Engine, page_name: str, view: View, fmt: str, folder: Path) -> Path:
    """One dashboard view as a PDF or an Excel file, made in this process from the page's
    own rendering (the dashboards' export buttons)."""
    from ..ui.report_view import report_section

    page = load_all()[page_name]
    with engine.connect() as conn:
        # an Excel file holds every row of the page's long lists
        ctx = build_context(conn, page, view, every_row=fmt == "xlsx")
        html, meta = report_section(page, ctx)
    section = Section(name=page.name, title=page.title, html=html, meta=meta, notebook=Path())
    stem = f"{page.name}-{slug(ctx.req)}"
    facts = document.cover_facts([section])
    if fmt == "pdf":
        from .pdf import to_pdf

        html_path = folder / f"{stem}.html"
        html_path.write_text(document.render([section]))
        footer = f"{page.title} · {facts['Period']} · filters: {facts['Filters']}"
        return to_pdf(html_path, folder / f"{stem}.pdf", footer_text=footer)
    if fmt == "xlsx":
        from .excel import write_workbook

        about = [("Report", page.title), *facts.items()]
        areas = [*page.areas, *page.tables]  # the page's own tables too (the alerts list)
        return write_workbook(folder / f"{stem}.xlsx", about, ctx.data, areas)
    raise ConfigError(f"unknown format {fmt}; choose pdf or xlsx")
