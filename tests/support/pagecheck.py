"""Read the KPI values a rendered page carries (``data-metric`` / ``data-value``)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from ecc.formatting import get


class _Metrics(HTMLParser):
    def __init__(self, attr: str = "data-metric") -> None:
        super().__init__()
        self.attr = attr
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get(self.attr) is not None and "data-value" in a:
            self.found[str(a[self.attr])] = a["data-value"] or ""


def metrics_in(html: str) -> dict[str, str]:
    p = _Metrics()
    p.feed(html)
    return p.found


def comparisons_in(html: str) -> dict[str, str]:
    """The comparison values a page shows changes against (``data-compare``/``data-value``)."""
    p = _Metrics("data-compare")
    p.feed(html)
    return p.found


def expected(result: dict[str, Any], key: str) -> Any:
    """The value at a key path; ``<area>.rows.<csm_id>.<key>`` picks that CSM's row."""
    parts = key.split(".")
    if len(parts) >= 4 and parts[1] == "rows":
        rows = get(result, parts[0], "rows") or []
        row = next((r for r in rows if r.get("csm_id") == parts[2]), None)
        return get(row, *parts[3:])
    return get(result, *parts)


def mismatches(html: str, result: dict[str, Any]) -> list[str]:
    """Every METRICS.md key on the page whose value differs from ``result``, and every
    comparison value (a table cell's change) that differs from its ``comparison_values``."""
    then = result.get("comparison_values") or {}
    shown = [(k, raw, result, "") for k, raw in metrics_in(html).items()]
    shown += [(k, raw, then, "then ") for k, raw in comparisons_in(html).items()]
    out = []
    for key, raw, source, what in shown:
        if key.split(".")[0] not in source or key.endswith(".trend"):
            continue
        want = expected(source, key)
        got: Any = json.loads(raw) if raw not in ("",) else None
        if isinstance(want, float) and isinstance(got, (int, float)):
            if abs(want - got) > 1e-9 * max(1.0, abs(want)):
                out.append(f"{what}{key}: page {got} != {want}")
        elif got != want:
            out.append(f"{what}{key}: page {got!r} != {want!r}")
    return out


def widget_html(nb: Any) -> str:
    """All HTML widget values saved in an executed notebook's widget state."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    parts = []
    for model in state.get("state", {}).values():
        value = model.get("state", {}).get("value")
        if isinstance(value, str) and "<" in value:
            parts.append(value)
    return "\n".join(parts)


ERROR_RE = re.compile(r'class="ecc-error"')


def values_in(html: str) -> dict[str, Any]:
    """``metrics_in`` with each value decoded (numbers as numbers, empty as None)."""
    return {k: (json.loads(v) if v != "" else None) for k, v in metrics_in(html).items()}


class PageLinks(HTMLParser):
    """data-metric -> data-value pairs and every link (href, text) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-metric") is not None and "data-value" in a:
            self.metrics[str(a["data-metric"])] = a["data-value"] or ""
        if tag == "a" and a.get("href"):
            self._href, self._text = a["href"], []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


def parse_page(html: str) -> PageLinks:
    p = PageLinks()
    p.feed(html)
    return p


def computed_for(
    engine: Any, query: str | dict[str, Any], page: str | None = None
) -> dict[str, Any]:
    """compute_all from the source tables (no cache, no snapshots) for the view a page
    query names, with the filters ``page`` computes its numbers with."""
    from ecc.metrics import compute_all
    from ecc.ui.pages import load_all
    from ecc.ui.view import parse_query, validate

    with engine.connect() as conn:
        _, req = validate(conn, parse_query(query))
        scope = req.scope
        if page is not None:
            spec = load_all()[page]
            scope = spec.data_scope(req) if spec.data_scope else req.scope
        return compute_all(conn, req.period, compare=req.compare, scope=scope, snapshots=False)


def assert_numbers_match(page: PageLinks, result: dict[str, Any], keys: list[str]) -> None:
    """Every ``keys`` is on the page, and every value shown equals ``result``."""
    import pytest

    assert set(keys) <= set(page.metrics), set(keys) - set(page.metrics)
    for key, raw in page.metrics.items():
        want = get(result, *key.split("."))
        got = None if raw == "" else json.loads(raw)
        if want is None:
            assert got is None, key
        else:
            assert got == pytest.approx(want), key


def query_of(href: str) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit

    return {k: v[-1] for k, v in parse_qs(urlsplit(href).query).items()}
