"""What a report reflects: period (a preset or a custom range), comparison and filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ..paths import safe_name
from ..request import Request, resolve
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


@dataclass(frozen=True)
class ReportParams:
    """The notebooks' parameters (see ``notebooks/*.ipynb``)."""

    preset: str | None = "this_quarter"
    start: str | None = None
    end: str | None = None
    today: str | None = None
    compare: str | None = "previous"
    segment: str | None = None
    csm: str | None = None

    def resolve(self, conn: Connection) -> Request:
        """Validate against the data (a ConfigError names what is wrong)."""
        custom = self.start is not None or self.end is not None
        return resolve(
            conn,
            preset=None if custom else self.preset,
            start=self.start,
            end=self.end,
            today=self.today,
            compare=self.compare,
            segment=self.segment,
            csm=self.csm,
        )

    def notebook_parameters(self, req: Request) -> dict[str, Any]:
        """papermill parameters pinned to the resolved request (dates explicit), so every
        notebook of a pack reflects the same dates even if data arrives meanwhile."""
        out: dict[str, Any] = {
            "today": req.today.isoformat(),
            "compare": req.compare,
            "segment": req.scope.segment,
            "csm": req.scope.csm_id,
        }
        if req.period.preset == "custom":
            out |= {
                "preset": None,
                "start": req.period.start.isoformat(),
                "end": req.period.end.isoformat(),
            }
        else:
            out |= {"preset": req.period.preset, "start": None, "end": None}
        return out


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
