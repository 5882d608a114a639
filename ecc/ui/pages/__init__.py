"""The dashboard pages: one module per page, each a :class:`Page` in :data:`PAGES`.

A page names the metric areas it needs and renders them to HTML; the app shell
(``ecc.ui.app``) adds the header, navigation, filters and URL state around it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from ...metrics.state import Scope, use_snapshots
from ...request import Request
from ..view import View


@dataclass(frozen=True)
class PageContext:
    """What a page renders from: the view, the resolved request, and the data."""

    view: View
    req: Request
    data: dict[str, Any]
    conn: Connection
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))


@dataclass(frozen=True)
class Page:
    name: str  # notebook file stem
    title: str
    areas: tuple[str, ...]  # metric areas to compute (with the comparison)
    render: Callable[[PageContext], str]
    nav: bool = True  # listed in the navigation bar
    crumbs: Callable[[PageContext], list[tuple[str, str | None]]] | None = None
    extra: Callable[[Connection, Request, View], dict[str, Any]] | None = field(default=None)
    # the filters the page's metrics are computed with, when not the view's own
    data_scope: Callable[[Request], Scope] | None = field(default=None)


PAGES: dict[str, Page] = {}


def build_context(conn: Connection, page: Page, view: View) -> PageContext:
    """Validate the view and gather the page's data: its metrics (read through the cache)
    and whatever else the page shows. Raises ConfigError for a view that cannot be shown."""
    from ...cache import metrics_for
    from ..view import validate

    view, req = validate(conn, view)
    scope = page.data_scope(req) if page.data_scope else req.scope
    got = metrics_for(conn, req.period, compare=req.compare, scope=scope, areas=page.areas)
    data = dict(got.data)
    if page.extra is not None:
        with use_snapshots(conn):  # month-end ARR and health from the snapshots
            data.update(page.extra(conn, req, view))
    return PageContext(view=view, req=req, data=data, conn=conn, computed_at=got.computed_at)


def register(page: Page) -> Page:
    PAGES[page.name] = page
    return page


def load_all() -> dict[str, Page]:
    """Import every page module (each registers itself) and return the registry."""
    for name in PAGE_MODULES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return PAGES


#: Page modules in navigation order.
PAGE_MODULES: tuple[str, ...] = (
    "portfolio",
    "retention",
    "risk",
    "renewals",
    "expansion",
    "performance",
    "workload",
    "segments",
    "accounts",
    "account",
    "csm",
)
