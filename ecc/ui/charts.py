"""Charts as static SVG, rendered on the server with vl-convert (no JavaScript, no CDN).

Marks that lead somewhere carry an ``href`` encoding: the SVG wraps them in links, so a
click on a bar drills down like any other link. The same SVG goes into PDF reports.

A chart of one bar or line per CSM stays readable and quick to draw only with a few of
them: the pages pass a chosen few (e.g. the 25 largest books) and say so. As a safety net
the charts here draw at most :data:`MAX_GROUPS` bars / lines (the first ones in the order
given), and Altair's row limit (MaxRowsError at 5,000 rows) is lifted for the rows that
remain, so no portfolio size can make a page fail.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

# vl-convert resolves relative hrefs against its own base URL; links are written behind
# this marker and everything up to it is cut after rendering, leaving a relative link.
_SCHEME = "__ecc__/"
_INNER_ROLES = re.compile(r' (?:role="graphics-[a-z]+"|aria-roledescription="[^"]*")')
_BASE = re.compile(r'xlink:href="[^"]*?' + re.escape(_SCHEME))

PALETTE = {"healthy": "#1b7f3b", "at_risk": "#d69e2e", "critical": "#c0392b"}
SEGMENT_COLORS = ["#1f4e8c", "#4a90c2", "#9cc3e4"]

#: The most bars (or lines) a chart draws: more would be unreadable, and vl-convert's time
#: and the SVG's size grow with every mark (a 2,000-bar chart overflows its stack).
MAX_GROUPS = 50


def short(text: str, n: int = 24) -> str:
    """``text`` cut to ``n`` characters with an ellipsis: a label that needs no truncating
    by Vega (which measures a too-long label again and again, slowly, in vl-convert)."""
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def label_limit(labels: Any, px: int) -> int:
    """Vega's ``labelLimit`` for ``labels``: 0 (no limit, nothing to measure) when every
    label is short enough to fit in ``px`` pixels, else ``px``."""
    longest = max((len(str(x)) for x in labels), default=0)
    return 0 if longest * 7 <= px else px


def first_groups(df: pd.DataFrame, column: str, limit: int = MAX_GROUPS) -> pd.DataFrame:
    """The rows of the first ``limit`` distinct values of ``column``, in the order given."""
    keep = list(dict.fromkeys(df[column]))[:limit]
    if len(keep) == df[column].nunique():
        return df
    return df[df[column].isin(keep)]


def to_svg(chart: alt.TopLevelMixin, *, label: str, truncate: bool = True) -> str:
    """The chart as an inline, responsive SVG string with working relative links, named
    for assistive technology by ``label`` (what it shows and its headline).

    The SVG is one ``role="img"`` with that name (a Figure with that alternative text in a
    tagged PDF); Vega's own ARIA labels on every mark are left out (a third of a bar chart's
    SVG, and a screen reader would read each bar), and a table next to the chart gives the
    numbers. Links on marks are left out of the Tab order: each has a named twin beside
    the chart. ``truncate=False`` lets axis and legend labels
    run to their length unless an axis sets its own ``labelLimit``: for numbers, dates
    and names cut by :func:`short` — Vega's truncation measures every label, slowly."""
    with alt.data_transformers.disable_max_rows():  # the pages bound the rows themselves
        # no JSON-schema check (a third of the Python time): the specs are built by this
        # module, and vl-convert rejects a bad one
        spec = chart.to_dict(validate=False)
    config = dict(spec.get("config", {}))
    config["aria"] = False
    if not truncate:
        for part in ("axis", "legend"):
            config[part] = {"labelLimit": 0, **config.get(part, {})}
    if config:
        spec["config"] = config
    svg = vlc.vegalite_to_svg(spec)
    svg = _BASE.sub('target="_self" xlink:href="', svg)
    svg = re.sub(
        r'<svg ([^>]*?)width="([\d.]+)" height="([\d.]+)"',
        r'<svg \1width="\2" height="\3" style="max-width:100%;height:auto"',
        svg,
        count=1,
    )
    # the roles Vega still writes on its mark groups would make each an image to name
    svg = _INNER_ROLES.sub("", svg)
    name = html.escape(label, quote=True)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{name}" focusable="false" ', 1)
    # a clickable mark is a mouse shortcut: the same link, named, is in the table or the
    # legend beside the chart, in the keyboard's order
    svg = svg.replace("<a ", '<a tabindex="-1" ')
    return f'<div class="ecc-chart">{svg}</div>'


def link_value(url: str) -> str:
    """Wrap a relative URL for an ``href`` encoding."""
    return _SCHEME + url


def warm_up() -> None:
    """Render a few tiny charts so the first real chart does not pay vl-convert's start-up
    (about 0.4 s) nor the first run of the code that draws bars, lines and links."""
    to_svg(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x"), label="warm-up")
    url = link_value("x.ipynb")
    health_by_group(
        [{"group": "a", "category": c, "share": 0.5, "order": 0, "url": url} for c in PALETTE],
        label="warm-up",
    )
    lines_by(
        [
            {"date": d, "s": s, "v": 1, "url": url}
            for d in ("2026-01-31", "2026-02-28")
            for s in "ab"
        ],
        y="v",
        series="s",
        label="warm-up",
        url="url",
        reference="b",
        legend=False,
    )


def base(width: int = 420, height: int = 180) -> dict[str, Any]:
    return {"width": width, "height": height}


#: The colour of the comparison period's marks: dark, and told apart from the bars by
#: shape (a tick across the bar), not by colour alone.
THEN_COLOR = "#1f2933"


def then_ticks(df: pd.DataFrame, y: Any, x_scale: Any = None, size: int = 16) -> list[Any]:
    """The comparison period's value of each bar (``then``) as a dark tick across it, on a
    white halo so it shows on a dark bar too (and in grayscale): two layers, or none when
    the rows carry no comparison value."""
    if "then" not in df.columns:
        return []
    known = df.dropna(subset=["then"])
    if known.empty:
        return []
    x = alt.X("then:Q", scale=x_scale) if x_scale is not None else alt.X("then:Q")
    ticks = alt.Chart(known)
    return [
        ticks.mark_tick(color="white", thickness=5.5, size=size + 2).encode(x=x, y=y),
        ticks.mark_tick(color=THEN_COLOR, thickness=2.5, size=size).encode(x=x, y=y),
    ]


def health_by_segment(rows: list[dict[str, Any]], *, label: str) -> str:
    """Stacked bars: share of healthy / at risk / critical customers per segment (clickable)."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    chart = (
        alt.Chart(df, **base(height=28 * df["segment"].nunique()))
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", title=None, sort=None),
            x=alt.X("share:Q", title="Share of scored customers", axis=alt.Axis(format="%")),
            color=alt.Color(
                "category:N",
                sort=list(PALETTE),
                scale=alt.Scale(domain=list(PALETTE), range=list(PALETTE.values())),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            order=alt.Order("order:Q"),
            href="url:N",
        )
    )
    return to_svg(chart, label=label)


def line_trend(
    rows: list[dict[str, Any]],
    fields: dict[str, str],
    *,
    label: str,
    fmt: str = "%",
    title: str = "",
) -> str:
    """One line per field over dates: ``rows`` = [{date, field: value, ...}]."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    long = df.melt(id_vars=["date"], value_vars=list(fields), var_name="series", value_name="v")
    long["series"] = long["series"].map(fields)
    chart = (
        alt.Chart(long, **base(height=180))
        .mark_line(point=True)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("v:Q", title=title, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
        )
    )
    return to_svg(chart, label=label)


def rank_line(rows: list[dict[str, Any]], *, label: str) -> str:
    """A CSM's recorded leaderboard rank over days (``rows`` = [{date, rank}]), the best
    rank (1) at the top."""
    df = pd.DataFrame(rows)
    if len(df) < 2:
        return ""
    chart = (
        alt.Chart(df, **base(height=160))
        .mark_line(point=True, interpolate="step-after")
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("rank:Q", title="rank", scale=alt.Scale(reverse=True, zero=False)),
            tooltip=[alt.Tooltip("date:T", format="%b %-d, %Y"), "rank:Q"],
        )
    )
    return to_svg(chart, label=label)


def bars(
    rows: list[dict[str, Any]],
    *,
    label: str,
    x: str,
    y: str,
    fmt: str = "$,.0f",
    title: str = "",
    color: str = "#1f4e8c",
    url: str | None = None,
) -> str:
    """Horizontal bars of ``x`` by category ``y``; ``url`` names a column of links."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    df = first_groups(df, y)
    enc: dict[str, Any] = {
        "y": alt.Y(
            f"{y}:N",
            title=None,
            sort=None,
            axis=alt.Axis(labelLimit=label_limit(df[y].unique(), 180)),
        ),
        "x": alt.X(f"{x}:Q", title=title, axis=alt.Axis(format=fmt)),
    }
    if url:
        enc["href"] = f"{url}:N"
    bars_ = alt.Chart(df).mark_bar(color=color).encode(**enc)
    chart = alt.layer(bars_, *then_ticks(df, enc["y"])).properties(
        **base(height=max(60, 22 * len(df)))
    )
    return to_svg(chart, label=label, truncate=False)


def trend_with_band(
    rows: list[dict[str, Any]],
    fields: dict[str, str],
    *,
    label: str,
    band: tuple[str, str] | None = None,
    compare_band: tuple[str, str] | None = None,
    fmt: str = "%",
    title: str = "",
    colors: tuple[str, ...] = ("#1f4e8c", "#1b7f3b"),
) -> str:
    """Lines of ``fields`` over ``rows`` = [{date, field: value}], with the dates ``band``
    (ISO start, end) shaded: e.g. a year of context around the selected period; the
    dates ``compare_band`` (the comparison period) framed by a dashed outline."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    long = df.melt(id_vars=["date"], value_vars=list(fields), var_name="series", value_name="v")
    long["series"] = long["series"].map(fields)
    long = long.dropna(subset=["v"])
    if long.empty:
        return ""
    names = list(fields.values())
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %y", labelAngle=0)),
            y=alt.Y("v:Q", title=title, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)),
            color=alt.Color(
                "series:N",
                sort=names,
                scale=alt.Scale(domain=names, range=list(colors[: len(names)])),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            strokeDash=alt.StrokeDash(
                "series:N", sort=names, legend=None, scale=alt.Scale(domain=names)
            ),
        )
    )
    layers: list[Any] = []
    if band is not None:
        shade = pd.DataFrame([{"start": band[0], "end": band[1], "label": "selected period"}])
        layers.append(
            alt.Chart(shade).mark_rect(color="#e4e7eb", opacity=0.6).encode(x="start:T", x2="end:T")
        )
    if compare_band is not None:
        frame = pd.DataFrame([{"start": compare_band[0], "end": compare_band[1]}])
        layers.append(
            alt.Chart(frame)
            .mark_rect(fillOpacity=0, stroke=THEN_COLOR, strokeDash=[5, 3], strokeWidth=1.5)
            .encode(x="start:T", x2="end:T")
        )
    layers.append(lines)
    chart = (
        alt.layer(*layers)
        .properties(**base(width=400, height=200))
        .configure_axis(labelFontSize=12, titleFontSize=12)
        .configure_legend(labelFontSize=12)
    )
    return to_svg(chart, label=label)


def segment_bars(
    rows: list[dict[str, Any]],
    *,
    label: str,
    title: str,
    fmt: str,
    label_fmt: str | None = None,
    url: str | None = "url",
    segments: tuple[str, ...] = ("Enterprise", "Mid-market", "SMB"),
) -> str:
    """One small chart: a horizontal bar per segment (``rows`` = [{segment, value, url}])
    in the segment colours, the value written at the end of each bar; bars are links."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    df = df.dropna(subset=["value"])
    if df.empty:
        return ""
    top = float(df["value"].max())
    if "then" in df.columns:  # room for a comparison tick beyond the bar
        top = max(top, float(df["then"].max(skipna=True) or 0))
    scale = alt.Scale(domain=[0, top * 1.35]) if top > 0 else alt.Scale()
    enc: dict[str, Any] = {
        "y": alt.Y("segment:N", title=None, sort=list(segments)),
        "x": alt.X("value:Q", title=None, axis=alt.Axis(format=fmt, tickCount=4), scale=scale),
    }
    bar_enc = dict(
        enc,
        color=alt.Color(
            "segment:N",
            scale=alt.Scale(domain=list(segments), range=SEGMENT_COLORS),
            legend=None,
        ),
    )
    if url:
        bar_enc["href"] = f"{url}:N"
    bars_ = alt.Chart(df).mark_bar().encode(**bar_enc)
    text = (
        alt.Chart(df)
        .mark_text(align="left", dx=3, fontSize=11, color="#1f2933")
        .encode(
            **enc,
            text=alt.Text("value:Q", format=label_fmt or fmt),
        )
    )
    chart = (
        alt.layer(bars_, *then_ticks(df, enc["y"], scale, size=18), text)
        .properties(width=230, height=24 * len(segments), title=title)
        .configure_title(fontSize=13, anchor="start")
        .configure_axis(labelFontSize=11)
    )
    return to_svg(chart, label=label)


def _light(hex_color: str) -> bool:
    """Whether dark text reads better than white on ``#rrggbb`` (relative luminance)."""
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.6


def stacked_shares(
    rows: list[dict[str, Any]],
    *,
    label: str,
    domain: list[str],
    colors: list[str],
    title: str = "",
    min_label: float = 0.07,
) -> str:
    """Horizontal 100% bars, one per ``bar``, split by ``part`` in ``domain`` order with
    ``colors``; each piece is labelled with its share when it is at least ``min_label``.
    ``rows`` = [{bar, part, value, url?}] (a piece with a ``url`` is a link)."""
    df = pd.DataFrame(rows)
    if df.empty or float(df["value"].sum()) <= 0:
        return ""
    df = first_groups(df, "bar").copy()
    df["order"] = df["part"].map({p: i for i, p in enumerate(domain)})
    df["total"] = df.groupby("bar")["value"].transform("sum")
    df = df[df["total"] > 0].copy()
    df["share"] = df["value"] / df["total"]
    df = df.sort_values(["order"])
    df["v1"] = df.groupby("bar")["share"].cumsum()
    df["v0"] = df["v1"] - df["share"]
    df["mid"] = (df["v0"] + df["v1"]) / 2
    bars_order = [b for b in dict.fromkeys(r["bar"] for r in rows) if b in set(df["bar"])]
    y = alt.Y("bar:N", title=None, sort=bars_order)
    enc: dict[str, Any] = {
        "y": y,
        "x": alt.X("v0:Q", title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        "x2": "v1:Q",
        "color": alt.Color(
            "part:N",
            sort=domain,
            scale=alt.Scale(domain=domain, range=colors),
            legend=alt.Legend(orient="bottom", title=None, columns=4),
        ),
    }
    if "url" in df.columns:
        enc["href"] = "url:N"
    pieces = alt.Chart(df).mark_bar(stroke="#fff", strokeWidth=1).encode(**enc)
    df["ink"] = df["part"].map(
        {p: ("#1f2933" if _light(c) else "#ffffff") for p, c in zip(domain, colors, strict=False)}
    )
    labels = (
        alt.Chart(df[df["share"] >= min_label])
        .mark_text(fontSize=11, fontWeight="bold")
        .encode(
            y=y,
            x="mid:Q",
            text=alt.Text("share:Q", format=".0%"),
            color=alt.Color("ink:N", scale=None),
        )
    )
    n = len(bars_order)
    chart = alt.layer(pieces, labels).properties(**base(width=340, height=34 * n))
    return to_svg(chart, label=label)


#: Vega's default category colours (tableau10), for a scale that sets one colour itself.
CATEGORY_COLORS = [
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b",
    "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
]  # fmt: skip
REFERENCE_COLOR = "#7b8794"

#: A legend label with underscores read as spaces (at_risk -> at risk; one underscore).
_UNDERSCORES = "replace(datum.label, '_', ' ')"


def series_colors(names: list[str], reference: str | None = None) -> dict[str, str]:
    """The colour of each of :func:`lines_by`'s series, in order of first appearance: Vega's
    default palette, the ``reference`` series grey (for a legend drawn in HTML)."""
    others = iter(CATEGORY_COLORS * (1 + len(names) // len(CATEGORY_COLORS)))
    return {n: REFERENCE_COLOR if n == reference else next(others) for n in names}


def lines_by(
    rows: list[dict[str, Any]],
    *,
    label: str,
    y: str,
    series: str,
    fmt: str = ",.0f",
    title: str = "",
    url: str | None = None,
    zero: bool = False,
    reference: str | None = None,
    legend: bool = True,
    marks: Sequence[tuple[str, float | None]] = (),
) -> str:
    """``marks``: (label, value) drawn as dark dashed rules across the chart, labelled (e.g.
    the team average in the comparison period).

    One line per ``series`` over ``date``: ``rows`` = [{date, series, y, url}] (long
    form, order of first appearance kept in the legend); points are links with ``url``
    (where it is set). The ``reference`` series (e.g. the team average) is drawn grey and
    dashed. Colours are :func:`series_colors` of the series in ``rows``, so that with
    ``legend=False`` a page can draw one legend for several charts."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    colors = series_colors(list(dict.fromkeys(df[series])), reference)
    df = first_groups(df.dropna(subset=[y]), series)
    if df.empty:
        return ""
    names = list(dict.fromkeys(df[series]))
    enc: dict[str, Any] = {
        "x": alt.X("date:T", title=None, axis=alt.Axis(format="%b %-d", labelAngle=0)),
        "y": alt.Y(f"{y}:Q", title=title, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=zero)),
        "color": alt.Color(
            f"{series}:N",
            sort=names,
            scale=alt.Scale(domain=names, range=[colors[n] for n in names]),
            legend=alt.Legend(
                orient="bottom", title=None, columns=2, labelLimit=label_limit(names, 180)
            )
            if legend
            else None,
        ),
    }
    if reference in names:
        enc["strokeDash"] = alt.StrokeDash(
            f"{series}:N",
            sort=names,
            scale=alt.Scale(
                domain=names, range=[[5, 3] if n == reference else [1, 0] for n in names]
            ),
            legend=None,
        )
    if url:  # a series without links (e.g. the team average) is no link, not "null"
        enc["href"] = alt.condition(
            f"isValid(datum['{url}'])", alt.Href(f"{url}:N"), alt.value(None)
        )
    lines = alt.Chart(df).mark_line(point=True).encode(**enc)
    rules = [m for m in marks if m[1] is not None]
    if not rules:
        return to_svg(lines.properties(**base(width=420, height=200)), label=label, truncate=False)
    ref = pd.DataFrame([{"label": label, "v": value} for label, value in rules])
    rule = alt.Chart(ref).mark_rule(color=THEN_COLOR, strokeDash=[6, 3], strokeWidth=1.5)
    text = alt.Chart(ref).mark_text(
        align="right", baseline="bottom", dy=-2, fontSize=10, color=THEN_COLOR
    )
    chart = alt.layer(
        lines,
        rule.encode(y=alt.Y("v:Q")),
        text.encode(y=alt.Y("v:Q"), x=alt.value(418), text="label:N"),
    ).properties(**base(width=420, height=200))
    return to_svg(chart, label=label, truncate=False)


def health_by_group(
    rows: list[dict[str, Any]], *, label: str, group: str = "group", url: str | None = "url"
) -> str:
    """Stacked bars of the healthy / at risk / critical shares, one bar per ``group`` in the
    order given: ``rows`` = [{group, category, share, order, url}]; bars are links."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    df = first_groups(df, group)
    groups = list(dict.fromkeys(df[group]))
    enc: dict[str, Any] = {
        "y": alt.Y(
            f"{group}:N",
            title=None,
            sort=groups,
            axis=alt.Axis(labelLimit=label_limit(groups, 180)),
        ),
        "x": alt.X(
            "share:Q",
            title="Share of scored customers",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        "color": alt.Color(
            "category:N",
            sort=list(PALETTE),
            scale=alt.Scale(domain=list(PALETTE), range=list(PALETTE.values())),
            legend=alt.Legend(orient="top", title=None, labelExpr=_UNDERSCORES),
        ),
        "order": alt.Order("order:Q"),
    }
    if url:
        enc["href"] = f"{url}:N"
    chart = (
        alt.Chart(df, **base(width=300, height=max(60, 18 * len(groups)))).mark_bar().encode(**enc)
    )
    return to_svg(chart, label=label, truncate=False)


STATUS_COLORS = {"over": "#c0392b", "balanced": "#1b7f3b", "under": "#d69e2e"}


def utilization_bars(
    rows: list[dict[str, Any]],
    *,
    label: str,
    x: str = "utilization",
    y: str = "name",
    status: str = "status",
    url: str | None = "url",
    limit: float = 1.0,
    low: float | None = 0.8,
) -> str:
    """Horizontal bars of capacity utilization per CSM in the order given, coloured by
    status (over / balanced / under), with a solid rule at ``limit`` (100%) and a dashed
    one at ``low``; ``rows`` = [{name, utilization, status, url}]; bars are links."""
    df = pd.DataFrame(rows)
    if df.empty:
        return ""
    df = first_groups(df.dropna(subset=[x]), y)
    if df.empty:
        return ""
    names = list(dict.fromkeys(df[y]))
    top = max(float(df[x].max()), limit) * 1.05
    if "then" in df.columns:
        top = max(top, float(df["then"].max(skipna=True) or 0) * 1.05)
    x_scale = alt.Scale(domain=[0, top])
    enc: dict[str, Any] = {
        "y": alt.Y(
            f"{y}:N", title=None, sort=names, axis=alt.Axis(labelLimit=label_limit(names, 180))
        ),
        "x": alt.X(
            f"{x}:Q",
            title="Capacity utilization",
            axis=alt.Axis(format="%"),
            scale=x_scale,
        ),
        "color": alt.Color(
            f"{status}:N",
            scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
            legend=alt.Legend(orient="top", title=None),
        ),
    }
    if url:
        enc["href"] = f"{url}:N"
    layers: list[Any] = [
        alt.Chart(df).mark_bar().encode(**enc),
        *then_ticks(df, enc["y"], x_scale, size=14),
        alt.Chart(pd.DataFrame({"v": [limit]}))
        .mark_rule(color="#1f2933", strokeWidth=1.5)
        .encode(x=alt.X("v:Q")),
    ]
    if low is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"v": [low]}))
            .mark_rule(color="#616e7c", strokeDash=[4, 3])
            .encode(x=alt.X("v:Q"))
        )
    chart = alt.layer(*layers).properties(**base(width=320, height=max(60, 18 * len(names))))
    return to_svg(chart, label=label, truncate=False)


def funnel(
    rows: list[dict[str, Any]],
    *,
    label: str,
    colors: list[str] | None = None,
) -> str:
    """A funnel: one centred bar per step, width by ``value``, in the order given, each
    labelled with its ``text``. ``rows`` = [{step, value, text}]."""
    df = pd.DataFrame(rows)
    if df.empty or float(df["value"].max()) <= 0:
        return ""
    df["x0"] = -df["value"] / 2
    df["x1"] = df["value"] / 2
    steps = list(df["step"])
    palette = colors or ["#9cc3e4", "#6fa8d6", "#4a90c2", "#1f4e8c"]
    axis = alt.Axis(labelFontSize=12, ticks=False, domain=False)
    y = alt.Y("step:N", title=None, sort=steps, axis=axis)
    top = float(df["value"].max()) / 2
    if "then" in df.columns:
        top = max(top, float(df["then"].max(skipna=True) or 0) / 2)
    x_scale = alt.Scale(domain=[-top, top])
    pieces = (
        alt.Chart(df)
        .mark_bar(height={"band": 0.85})
        .encode(
            y=y,
            x=alt.X("x0:Q", axis=None, scale=x_scale),
            x2="x1:Q",
            color=alt.Color(
                "step:N",
                sort=steps,
                scale=alt.Scale(domain=steps, range=palette[: len(steps)]),
                legend=None,
            ),
        )
    )
    outlines = []
    if "then" in df.columns and df["then"].notna().any():  # the comparison's steps, outlined
        was = df.dropna(subset=["then"]).assign(
            t0=lambda d: -d["then"] / 2, t1=lambda d: d["then"] / 2
        )
        outlines.append(
            alt.Chart(was)
            .mark_bar(
                height={"band": 0.85},
                fillOpacity=0,
                stroke=THEN_COLOR,
                strokeWidth=2,
                strokeDash=[5, 3],
            )
            .encode(y=y, x=alt.X("t0:Q", axis=None, scale=x_scale), x2="t1:Q")
        )
    # dark text on the light steps and on bars too narrow to hold it, white on the others
    narrow = df["value"] < 0.35 * 2 * top
    df["ink"] = [
        "#1f2933" if i < len(steps) / 2 or bool(narrow.iloc[i]) else "#ffffff"
        for i in range(len(steps))
    ]
    labels = (
        alt.Chart(df)
        .mark_text(fontSize=12, fontWeight="bold", baseline="middle")
        .encode(
            y=y,
            x=alt.datum(0, scale=x_scale),
            text="text:N",
            color=alt.Color("ink:N", scale=None),
        )
    )
    chart = (
        alt.layer(pieces, *outlines, labels)
        .properties(**base(width=340, height=38 * len(df)))
        .configure_view(stroke=None)
    )
    return to_svg(chart, label=label)
