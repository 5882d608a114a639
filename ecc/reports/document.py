"""One self-contained HTML document: a cover saying what the report reflects, then the
notebooks' outputs (nbconvert, no code, no prompts). Styles are inlined; there is no
script and no request to another host, so the file reads the same anywhere, offline."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..paths import APP_CSS
from ..ui.report_view import filter_words, period_words
from .execute import Section

REPORT_CSS = Path(__file__).with_name("report.css")


def code_version() -> str:
    """The ecc version and, in a git checkout, the commit."""
    import subprocess
    from importlib.metadata import version

    text = f"ecc {version('ecc')}"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{text} ({commit})" if commit else text


def cover_facts(sections: list[Section]) -> dict[str, str]:
    """What every page of the report reflects, in words (from the first section; all
    sections of one report share the same parameters)."""
    meta = sections[0].meta
    computed = min(s.meta["computed_at"] for s in sections)
    loaded = meta.get("loaded_at")
    return {
        "Period": period_words(meta),
        "Filters": filter_words(meta),
        "Data as of": f"{date.fromisoformat(meta['data_as_of']):%B %-d, %Y}",
        **({"Data loaded": loaded.replace("T", " ").replace("Z", " UTC")} if loaded else {}),
        **(
            {"Warning": " ".join(meta["freshness_warnings"])}
            if meta.get("freshness_warnings")
            else {}
        ),
        "Numbers computed": computed.replace("T", " ").replace("Z", " UTC"),
        "Generated": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "Version": code_version(),
    }


def title_of(sections: list[Section]) -> str:
    return "Board pack" if len(sections) > 1 else sections[0].title


def render(sections: list[Section], *, title: str | None = None) -> str:
    title = title or title_of(sections)
    facts = cover_facts(sections)
    esc = html.escape
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts.items())
    contents = "".join(f"<li>{esc(s.title)}</li>" for s in sections)
    cover = (
        '<section class="ecc-cover"><p class="brand">Executive Command Center</p>'
        f"<h1>{esc(title)}</h1><dl>{rows}</dl>"
        + (f"<h2>Contents</h2><ol>{contents}</ol>" if len(sections) > 1 else "")
        + "</section>"
    )
    body = "".join(s.html for s in sections)
    style = APP_CSS.read_text() + "\n" + REPORT_CSS.read_text()
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)} · {esc(facts['Period'])}</title><style>{style}</style></head>"
        f"<body><main class='ecc-report'>{cover}{body}"
        f"<p class='ecc-footer'>{esc(title)} · {esc(facts['Period'])} · filters: "
        f"{esc(facts['Filters'])} · {esc(facts['Version'])}</p></main></body></html>"
    )


def describe(sections: list[Section]) -> dict[str, Any]:
    """The report's parameters for records and the Excel front sheet."""
    return dict(sections[0].meta) | {"pages": [s.name for s in sections]}
