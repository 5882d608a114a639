"""The dashboard pages: one module per page, each a :class:`Page` in :data:`PAGES`.

A page names the metric areas it needs and renders them to HTML; the app shell
(``ecc.ui.app``) adds the header, navigation, filters and URL state around it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from ...clock import utcnow
from ...freshness import Freshness, freshness
from ...metrics.compute import reading_plan
from ...metrics.plan import Plan
from ...metrics.scope import Scope
from ...request import Request
from ..view import View


@dataclass(frozen=True)
class PageContext:
    """What a page renders from: the view, the resolved request, and the data."""

    view: View
    req: Request
    data: dict[str, Any]
    conn: Connection
    computed_at: datetime = field(default_factory=utcnow)
    #: where the metrics came from: "cache", "redis" or "computed"
    source: str = "computed"
    #: when the data was loaded, how old it is, whether the last refresh failed
    fresh: Freshness | None = None


class Live(Protocol):
    """A page's interactive part (ipywidgets), for a page that acts as well as shows
    (the alerts page acknowledges). The app shell shows ``controls`` in its filter bar and
    ``root`` in place of the page's rendered HTML, and calls ``show`` for each view."""

    controls: list[Any]
    root: Any

    def show(self, ctx: PageContext) -> None: ...


@dataclass(frozen=True)
class LiveEnv:
    """What a live part gets from the app shell: the database, and ``go(view)`` to show
    another view in place (the URL follows)."""

    engine: Engine
    go: Callable[[View], None]


@dataclass(frozen=True)
class Page:
    name: str  # notebook file stem
    title: str
    areas: tuple[str, ...]  # metric areas to compute (with the comparison)
    render: Callable[[PageContext], str]
    nav: bool = True  # listed in the navigation bar
    crumbs: Callable[[PageContext], list[tuple[str, str | None]]] | None = None
    # the page's data besides its metric areas, read with the given plan
    extra: Callable[[Connection, Plan, Request, View], dict[str, Any]] | None = field(default=None)
    # the filters the page's metrics are computed with, when not the view's own
    data_scope: Callable[[Request], Scope] | None = field(default=None)
    # the page's own URL keys made valid (bad ones dropped with a message in view.messages)
    check: Callable[[View], View] | None = field(default=None)
    # an interactive part shown in place of ``render``'s HTML in the live dashboard
    live: Callable[[LiveEnv], Live] | None = field(default=None)
    # the header's period line, when the page says what the period means for it
    range_text: Callable[[PageContext], str] | None = field(default=None)
    compares: bool = True  # False: the comparison does not apply (its filter is hidden)
    # keys of the page's own data (``extra``) that its Excel export holds like areas
    tables: tuple[str, ...] = ()
    # the filter bar and export buttons below the page's numbers instead of above them
    controls_below: bool = False
    # ``extra`` with every row of the page's long lists, for its Excel export (a page
    # shows the first rows of a long list; its export holds them all)
    every_row: Callable[[Connection, Plan, Request, View], dict[str, Any]] | None = None
    # the page's own filters in words (e.g. "severity critical", "list Accounts at risk"),
    # for exports and reports
    own_filters: Callable[[PageContext], list[str]] | None = None
    # the page counts open alerts (its first paint is kept by the alerts' state too)
    reads_alerts: bool = False
    # False: a list of the viewer's own (shared links, subscriptions), which no period or
    # filter changes: no filter bar, exports, Share or Subscribe
    controls: bool = True


PAGES: dict[str, Page] = {}


def build_context(
    conn: Connection, page: Page, view: View, *, every_row: bool = False
) -> PageContext:
    """Validate the view and gather the page's data: its metrics (read through the cache)
    and whatever else the page shows (``every_row``: with all the rows of its long lists,
    for an export). Raises ConfigError for a view that cannot be shown."""
    from ...cache import metrics_for
    from ..view import validate

    view, req = validate(conn, view)
    if page.check is not None:
        view = page.check(view)
    scope = page.data_scope(req) if page.data_scope else req.scope
    got = metrics_for(conn, req.period, compare=req.compare, scope=scope, areas=page.areas)
    data = dict(got.data)
    extra = page.every_row if every_row and page.every_row is not None else page.extra
    if extra is not None:
        # month-end ARR and health from the snapshots
        data.update(extra(conn, reading_plan(conn), req, view))
    return PageContext(
        view=view,
        req=req,
        data=data,
        conn=conn,
        computed_at=got.computed_at,
        source=got.source,
        fresh=freshness(conn),
    )


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
    "summary",
    "portfolio",
    "retention",
    "risk",
    "renewals",
    "expansion",
    "performance",
    "workload",
    "segments",
    "alerts",
    "accounts",
    "renewal_list",
    "save_play_list",
    "account",
    "csm",
    "shared_links",
    "subscriptions",
)
