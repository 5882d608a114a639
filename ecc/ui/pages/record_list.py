"""A drill-down page that lists the records behind a count (renewals, save plays): the
total and its ARR, tabs to the sibling lists, and a table of every record. Each such page
is a :class:`RecordList` made into a :class:`Page` by :func:`list_page`."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ...metrics.plan import Plan
from ...request import Request
from ..components import href, section, table
from ..view import View
from . import Page, PageContext
from .common import base_crumbs, list_header


@dataclass(frozen=True)
class RecordList:
    name: str  # the page, and the key of its data
    title: str
    parent: str  # the dashboard whose counts open the lists (the middle crumb)
    parent_title: str
    noun: str  # "renewals"
    tabs: tuple[tuple[str, str], ...]  # (list, label) of every list of the page
    kinds: Container[str]  # the lists the data knows
    default: str  # the list a bare link opens
    load: Callable[[Connection, Request, str], dict[str, Any]]  # a list's data: title, rows...
    headers: tuple[tuple[str, bool], ...]
    row: Callable[[PageContext, dict[str, Any]], list[str]]  # a record's cells (HTML)
    empty: str


def list_page(spec: RecordList) -> Page:
    """The page of ``spec``: it shows the list the view names (``list``) with all of its
    records, and its Excel export holds them; a comparison does not apply."""

    def extra(conn: Connection, plan: Plan, req: Request, view: View) -> dict[str, Any]:
        kind = view.list if view.list is not None and view.list in spec.kinds else spec.default
        return {spec.name: spec.load(conn, req, kind), "list": kind}

    def render(ctx: PageContext) -> str:
        data = ctx.data[spec.name]
        rows = [spec.row(ctx, r) for r in data["rows"]]
        head = list_header(ctx, spec.name, data, spec.noun, spec.tabs, ctx.data["list"])
        return head + section(data["title"], table(spec.headers, rows, empty=spec.empty))

    def crumbs(ctx: PageContext) -> list[tuple[str, str | None]]:
        return [
            *base_crumbs(ctx),
            (spec.parent_title, href(spec.parent, ctx.view)),
            (ctx.data[spec.name]["title"], None),
        ]

    return Page(
        name=spec.name,
        title=spec.title,
        areas=(),
        render=render,
        nav=False,
        crumbs=crumbs,
        extra=extra,
        compares=False,
        tables=(spec.name,),
        own_filters=lambda ctx: [f"list {ctx.data[spec.name]['title']}"],
    )
