"""Which dashboards a report holds, and how its files are named after the view."""

from __future__ import annotations

from ..paths import safe_name
from ..request import Request
from ..ui.notebooks import NOTEBOOKS

#: The dashboards a board pack holds, in reading order (drill-down pages are not in it).
BOARD_PACK: tuple[str, ...] = (
    "portfolio",
    "retention",
    "risk",
    "renewals",
    "expansion",
    "performance",
    "workload",
    "segments",
)
REPORTABLE = frozenset(BOARD_PACK)


def slug(req: Request) -> str:
    """``this_quarter-2026-11-24-vs-previous-SMB``: the file-name part of a report."""
    parts = [
        req.period.preset
        if req.period.preset != "custom"
        else f"{req.period.start.isoformat()}_{req.period.end.isoformat()}",
        req.today.isoformat() if req.period.preset != "custom" else "",
        f"vs-{req.compare}" if req.compare else "",
        req.scope.segment or "",
        req.scope.csm_id or "",
    ]
    return safe_name("-".join(p for p in parts if p).replace(" ", "_"), empty="report")


def check_notebooks(names: list[str]) -> list[str]:
    """The names, validated: dashboards only, each once, in pack order."""
    unknown = [n for n in names if n not in REPORTABLE]
    if unknown:
        from ..errors import ConfigError

        drill = [n for n in unknown if n in NOTEBOOKS]
        hint = f" ({', '.join(drill)} is a drill-down page, not a report)" if drill else ""
        raise ConfigError(
            f"unknown dashboard {', '.join(unknown)!s}{hint}; choose from: "
            f"{', '.join(BOARD_PACK)}, or --all for the board pack"
        )
    return [n for n in BOARD_PACK if n in names]
