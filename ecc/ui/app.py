"""The app shell every dashboard notebook calls: ``app.show("portfolio", **parameters)``.

It reads the request's query string (in a preheated Voilà kernel this waits for the
viewer), validates it, computes the page's metrics, and displays the header,
navigation, breadcrumbs, filter bar and page body. A filter change recomputes and
re-renders in place and updates the URL; the back button restores the previous view.
A viewer never sees a traceback: a failure shows a sentence and is logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import traceback
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import ipywidgets as widgets
from sqlalchemy import Engine, select

from .. import config
from ..clock import utcnow
from ..db import check_schema, make_engine
from ..errors import EccError
from ..periods import COMPARE_KINDS, COMPARE_LABELS, PRESET_LABELS, PRESETS
from ..schema import csms
from ..share.views import SharedView
from . import body_cache, charts, query_channel
from .components import esc, message
from .exports import ExportBar
from .pages import PAGES, LiveEnv, Page, PageContext, build_context, load_all
from .share_bar import ShareBar, share_refusal
from .subscribe_bar import SubscribeBar, subscribe_refusal
from .urlstate import UrlState
from .view import FILTER_KEYS, PAGE_KEYS, VIEWER_KEY, View, parse_query
from .viewer import resolve_viewer

log = logging.getLogger("ecc.ui")
#: The role the hub names for an administrator (``viewer_role``).
ADMIN_ROLE = "admin"
#: A page prepared in a waiting kernel is used for at most this long (seconds), so data
#: written by other means than `ecc load` shows within the 15-minute refresh of FR-2.
PRERENDER_MAX_AGE = 15 * 60
FRIENDLY = "This view could not be loaded. The error was logged; please try again in a moment."


@cache
def engine(url: str | None = None) -> Engine:
    """The database of ``url`` (None: ``ECC_DATABASE_URL``, else the default file)."""
    eng = make_engine(url)
    check_schema(eng)
    return eng


def warm_up(db: str | None = None) -> None:
    """Work done before a viewer arrives (in a preheated kernel): imports, charts, DB."""
    load_all()
    charts.warm_up()
    try:
        with engine(db).connect() as conn:
            conn.execute(select(csms.c.csm_id).limit(1)).all()
    except EccError:
        pass  # shown to the viewer when the page is built


def request_query(page_name: str) -> str:
    """The viewer's query string (waits for the request in a preheated Voilà kernel).

    A preheated kernel says in the server's log when it starts waiting: its page is
    then ready to be served at once."""
    if os.environ.get("VOILA_PREHEAT", "False") != "True":
        return os.environ.get("QUERY_STRING", "") or ""
    # one write of one whole line: the kernels share the server's stderr, and two
    # print() calls at once would run their lines together
    with contextlib.suppress(OSError):
        os.write(2, f"ecc: {page_name} ready for a viewer\n".encode())
    return query_channel.wait_for_request()


def _log_exception() -> None:
    print(traceback.format_exc(), file=sys.__stderr__)


class Dashboard:
    """One page in the browser: filters, URL state and the rendered body."""

    def __init__(self, page: Page, view: View, eng: Engine | None = None) -> None:
        self.page = page
        self.engine = eng if eng is not None else engine()
        self.view = view
        self.version: str | None = None
        self.built_at = time.monotonic()
        self._syncing = False
        self.url = UrlState(url_keys=list(FILTER_KEYS + PAGE_KEYS), state=view.params())
        self.header = widgets.HTML()
        self.body = widgets.HTML()
        # a page that acts as well as shows (alerts): its widgets replace the rendered body
        self.live = page.live(LiveEnv(self.engine, self._go)) if page.live else None
        self._build_filters()
        self.exports = ExportBar(self._export)
        self.sharing = ShareBar(self._share, why_not=share_refusal(page.name))
        self.subscribing = SubscribeBar(self._subscribe, why_not=subscribe_refusal(page.name))
        actions = widgets.HBox(
            [self.sharing.box, self.subscribing.box],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"),
        )
        actions.add_class("ecc-actions")
        controls = [self.filter_box, self.exports.box, actions] if page.controls else []
        shown = [self.body, *([self.live.root] if self.live else [])]
        self.root = widgets.VBox(
            [
                self.header,
                # the numbers first where the page says so (the summary: one screen)
                *([*shown, *controls] if page.controls_below else [*controls, *shown]),
                self.url,
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.apply(view, push=False)

    # ------------------------------------------------------------------ filters
    def _build_filters(self) -> None:
        style = {"description_width": "initial"}
        preset_options = [(PRESET_LABELS[p], p) for p in PRESETS] + [("Custom range", "custom")]
        self.w_preset = widgets.Dropdown(
            options=preset_options,
            description="Period",
            style=style,
            layout=widgets.Layout(width="auto"),
        )
        self.w_start = widgets.DatePicker(
            description="From", style=style, layout=widgets.Layout(width="auto")
        )
        self.w_end = widgets.DatePicker(
            description="To", style=style, layout=widgets.Layout(width="auto")
        )
        compare_options = [(COMPARE_LABELS[k], k) for k in (*COMPARE_KINDS, "none")]
        if not self.page.compares:  # the selector says so rather than doing nothing
            compare_options = [(NO_COMPARISON, "none")]
        self.w_compare = widgets.Dropdown(
            options=compare_options,
            description="Compare",
            disabled=not self.page.compares,
            tooltip=None if self.page.compares else NO_COMPARISON_WHY,
            style=style,
            layout=widgets.Layout(width="auto"),
        )
        seg_options = [("All segments", "")] + [(s, s) for s in config.SEGMENTS]
        self.w_segment = widgets.Dropdown(
            options=seg_options,
            description="Segment",
            style=style,
            layout=widgets.Layout(width="auto"),
        )
        self.w_csm = widgets.Dropdown(
            options=[("All CSMs", "")],
            description="CSM",
            style=style,
            layout=widgets.Layout(width="auto"),
        )
        own = [self.w_preset, self.w_start, self.w_end, self.w_compare, self.w_segment, self.w_csm]
        for w in own:
            w.observe(self._on_filter, "value")
        page_controls = self.live.controls if self.live else []  # e.g. the alerts' severity
        self.filter_box = widgets.Box(
            [*own, *page_controls],
            layout=widgets.Layout(display="flex", flex_flow="row wrap", width="100%"),
        )
        self.filter_box.add_class("ecc-filters")

    def _export(self, fmt: str, folder: Path) -> Path:
        from ..reports.build import export_page

        return export_page(self.engine, self.page.name, self.view, fmt, folder)

    def _share(self, kind: str, days: int, note: str) -> SharedView:
        from ..share.views import share_view

        params = {k: v for k, v in self.view.params().items() if k != VIEWER_KEY}
        return share_view(
            self.engine,
            self.page.name,
            urlencode(params),
            kind=kind,
            created_by=resolve_viewer(self.view.viewer),
            days=days,
            note=note,
        )

    def _subscribe(self, fields: dict[str, Any]) -> str:
        from ..schedule.subscriptions import check, outside, subscribe
        from .owned_lists import view_words

        params = {k: v for k, v in self.view.params().items() if k != VIEWER_KEY}
        plan = check(page=self.page.name, query=urlencode(params), **fields)
        who = resolve_viewer(self.view.viewer)
        sub_id = subscribe(self.engine, plan, owner=who, admin=self.view.viewer_role == ADMIN_ROLE)
        what = view_words(self.page.title, plan.query)
        waiting = outside(tuple(plan.recipients)) if self.view.viewer_role != ADMIN_ROLE else []
        if waiting:
            return (
                f"Subscription {sub_id} kept ({what}); it waits for an admin's approval: "
                f"{', '.join(waiting)} is outside the organisation."
            )
        return (
            f"Subscribed (number {sub_id}): {what}, {plan.cron} ({plan.timezone}). "
            "The scheduler takes it within a minute."
        )

    def _csm_options(self) -> list[tuple[str, str]]:
        q = select(csms.c.csm_id, csms.c.name).order_by(csms.c.name)
        if self.view.segment:
            q = q.where(csms.c.segment == self.view.segment)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [("All CSMs", "")] + [(r.name, r.csm_id) for r in rows]

    def _show_filters(self, view: View, start: date, end: date) -> None:
        self._syncing = True
        try:
            custom = view.preset is None
            self.w_preset.value = "custom" if custom else view.preset
            self.w_start.value, self.w_end.value = start, end
            # shown or hidden in place: a new Layout would be a new widget in the browser
            for widget, shown in ((self.w_start, custom), (self.w_end, custom)):
                widget.layout.display = None if shown else "none"
            self.w_compare.value = (view.compare or "none") if self.page.compares else "none"
            self.w_segment.value = view.segment or ""
            self.w_csm.options = self._csm_options()
            self.w_csm.value = (
                view.csm if view.csm in dict((v, k) for k, v in self.w_csm.options) else ""
            )
        finally:
            self._syncing = False

    def _on_filter(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        owner = change["owner"]
        v = self.view
        if owner is self.w_preset:
            if change["new"] == "custom":
                new = v.with_(
                    preset=None,
                    start=self.w_start.value.isoformat(),
                    end=self.w_end.value.isoformat(),
                )
            else:
                new = v.with_(preset=change["new"])
        elif owner in (self.w_start, self.w_end):
            if self.w_start.value is None or self.w_end.value is None:
                return
            new = v.with_(
                preset=None, start=self.w_start.value.isoformat(), end=self.w_end.value.isoformat()
            )
        elif owner is self.w_compare:
            new = v.with_(compare=None if change["new"] == "none" else change["new"])
        elif owner is self.w_segment:
            new = v.with_(segment=change["new"] or None, csm=None)
        else:
            new = v.with_(csm=change["new"] or None)
        self.apply(new, push=True)

    def _go(self, view: View) -> None:
        self.apply(view, push=True)

    # ------------------------------------------------------------------ rendering
    def apply(self, view: View, *, push: bool) -> None:
        """Validate ``view``, compute and render; keep the URL and the filters in step."""
        try:
            with self.engine.connect() as conn:
                ctx = build_context(conn, self.page, view)
                view, req = ctx.view, ctx.req
                if self.live is not None:
                    self.live.show(ctx)
                    body = ""
                else:
                    body = body_cache.body(conn, self.page, ctx)
                header = render_header(self.page, ctx)
        except EccError as exc:
            self.body.value = message(str(exc), error=True)
            return
        except Exception:  # never a traceback for a viewer
            _log_exception()
            self.body.value = message(FRIENDLY, error=True)
            return
        if view != self.view:
            self.exports.clear()
            self.sharing.reset()
            self.subscribing.result.value = ""
        self.view = view
        notes = "".join(message(m) for m in view.messages)
        self.header.value = header
        self.body.value = numbers_region(notes + body)
        self._show_filters(view, req.period.start, req.period.end)
        self.url.set_state(view.params(), push=push)


#: Where "Skip to the numbers" leads: the page's own content, past the navigation and
#: the filters.
NUMBERS = "ecc-numbers"


def numbers_region(body: str) -> str:
    """The page's content as the document's main landmark, the skip link's target."""
    return f'<main id="{NUMBERS}" tabindex="-1">{body}</main>'


#: What the comparison selector shows on a page with nothing to compare, and why.
NO_COMPARISON = "none on this page"
NO_COMPARISON_WHY = (
    "This page lists records as they stand at the end of the period (alerts, renewals, "
    "save plays); it has no comparison. The dashboards keep the one you chose."
)


def render_header(page: Page, ctx: PageContext) -> str:
    """Title, data as-of, navigation keeping the filters, breadcrumbs, period in words."""
    from .components import href

    view, req = ctx.view, ctx.req
    nav = "".join(
        f'<a href="{esc(href(p.name, view))}" target="_self"'
        f"{' class=current' if p.name == page.name else ''}>{esc(p.title)}</a>"
        for p in PAGES.values()
        if p.nav
    )
    crumbs = page.crumbs(ctx) if page.crumbs else default_crumbs(page, ctx)
    trail = " › ".join(
        f'<a href="{esc(url)}" target="_self">{esc(label)}</a>' if url else esc(label)
        for label, url in crumbs
    )
    fresh = ctx.fresh
    loaded = f" · {esc(fresh.loaded_text())}" if fresh is not None and fresh.loaded_at else ""
    banner = "".join(
        f'<div class="ecc-fresh" role="status">{esc(w)}</div>'
        for w in (fresh.warnings() if fresh is not None else [])
    )
    cmp = ctx.data.get("comparison") if page.compares else None
    range_text = f"{req.period.start:%b %-d, %Y} – {req.period.end:%b %-d, %Y}"
    if page.range_text is not None:
        range_text = page.range_text(ctx)
    elif cmp:
        range_text += (
            f" · compared with {date.fromisoformat(cmp['start']):%b %-d, %Y} – "
            f"{date.fromisoformat(cmp['end']):%b %-d, %Y}"
        )
        if ctx.data.get("comparison_values") is None:
            range_text += (
                " (needs 12+ months of history)"
                if cmp["kind"] == "yoy"
                else " (not enough history)"
            )
    return (
        f'<a class="ecc-skip" href="#{NUMBERS}" target="_self">Skip to the numbers</a>'
        f'<div class="ecc-header"><h1>{esc(page.title)}</h1>'
        f'<span class="ecc-asof" data-asof="{req.today.isoformat()}"'
        f' data-computed="{ctx.computed_at.isoformat(timespec="seconds")}Z">'
        f"Data as of {req.today:%b %-d, %Y}{loaded} · {esc(updated_text(ctx.computed_at))}"
        "</span></div>"
        f"{banner}"
        f'<nav class="ecc-nav">{nav}</nav>'
        f'<div class="ecc-crumbs">{trail}</div>'
        f'<div class="ecc-range">{esc(range_text)}</div>'
    )


def updated_text(computed_at: datetime, now: datetime | None = None) -> str:
    """When the numbers were computed, in words: "updated 14:05 UTC" or "updated just now"."""
    now = now or utcnow()
    age = (now - computed_at).total_seconds()
    if age < 60:
        return "updated just now"
    if age < 3600:
        return f"updated {int(age // 60)} min ago ({computed_at:%H:%M} UTC)"
    if computed_at.date() == now.date():
        return f"updated {computed_at:%H:%M} UTC"
    return f"updated {computed_at:%b %-d, %H:%M} UTC"


def default_crumbs(page: Page, ctx: PageContext) -> list[tuple[str, str | None]]:
    from .pages.common import base_crumbs
    from .pools import LANDING_PAGE

    out = base_crumbs(ctx)
    if page.name != LANDING_PAGE:
        out.append((page.title, None))
    else:
        out[-1] = (out[-1][0], None)
    return out


def show(
    page_name: str, *, output: str = "page", db: str | None = None, **parameters: Any
) -> Dashboard | None:
    """Build and display ``page_name``: the notebook's whole body is this one call.

    ``parameters`` are the notebook's view parameters (papermill sets them); the URL's
    query string, when there is one, takes precedence. ``output="report"`` (``ecc
    report``) shows the page as a static report section instead of widgets; ``db`` is
    the database URL (None: ``ECC_DATABASE_URL``).
    """
    try:
        pages = load_all()
        page = pages[page_name]
        if output == "report":
            _show_report(page, parameters, engine(db))
            return None
        ready = _prerender(page)
        query = request_query(page.name)
        view = parse_query(query) if query else parameters_view(parameters)
        if (
            ready is not None
            and ready.view == view
            and time.monotonic() - ready.built_at < PRERENDER_MAX_AGE
            and ready.version == _data_version()
        ):
            dash = ready  # computed while the kernel waited in the pool: same view, same data
        else:
            dash = Dashboard(page, view, engine(db))
        _display(dash.root)
        return dash
    except Exception as exc:
        _log_exception()
        text = str(exc) if isinstance(exc, EccError) else FRIENDLY
        if output == "report":
            from IPython.display import HTML

            _display(HTML(message(text, error=True)))  # type: ignore[no-untyped-call]
        else:
            _display(widgets.HTML(message(text, error=True)))
        return None


def parameters_view(parameters: dict[str, Any]) -> View:
    """The view a notebook's parameters name (``compare=None``: no comparison)."""
    params = dict(parameters)
    if "list_kind" in params:
        params["list"] = params.pop("list_kind")
    return parse_query(
        {
            k: ("none" if k == "compare" and v is None else v)
            for k, v in params.items()
            if k in FILTER_KEYS + PAGE_KEYS
        }
    )


def _show_report(page: Page, parameters: dict[str, Any], eng: Engine) -> None:
    """Report mode (``output="report"``, from ``ecc report``): the page as static HTML
    without filters or navigation, and what it reflects as output metadata for the cover."""
    from IPython.display import HTML

    from .report_view import report_section

    view = parameters_view(parameters)
    with eng.connect() as conn:
        ctx = build_context(conn, page, view)
        html, meta = report_section(page, ctx)
    _display(HTML(html, metadata={"ecc": meta}))  # type: ignore[no-untyped-call]


def _data_version() -> str | None:
    from ..load import data_version

    with engine().connect() as conn:
        return data_version(conn)


def _prerender(page: Page) -> Dashboard | None:
    """In a preheated kernel, build the page's default view before a viewer arrives.

    Most visits open a dashboard's default view; when the request asks for exactly that
    and no load happened meanwhile, the page is already computed. Pages that need a page
    key (an account, a CSM, a list) are not prepared.
    """
    if os.environ.get("VOILA_PREHEAT", "False") != "True" or page.extra is not None:
        return None
    try:
        version = _data_version()
        dash = Dashboard(page, View())
        dash.version = version
        return dash
    except Exception:
        _log_exception()
        return None


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)  # type: ignore[no-untyped-call]
