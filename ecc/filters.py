"""What every view of the numbers is filtered by, declared once: the period (a preset,
or a custom range), the presets' reference date, the comparison and the scope.

:class:`Filters` is that view. The command line's options (:func:`options`), a page's
URL (:meth:`Filters.params`), the dashboard notebooks' parameters cell
(:func:`parameters_cell`), reports (:meth:`Filters.pinned`) and schedules all come from
:data:`FIELDS`, and :meth:`Filters.resolve` validates any of them against the data
(:func:`ecc.request.resolve`: one set of error messages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from .periods import PRESETS

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .request import Request


@dataclass(frozen=True)
class Field:
    """One filter: its name, its default and what to give."""

    name: str
    default: str | None
    help: str


#: The filters, in the order every form shows them.
FIELDS: tuple[Field, ...] = (
    Field("preset", "this_quarter", " | ".join(PRESETS)),
    Field("start", None, "Custom range start, YYYY-MM-DD (with end; then no preset)"),
    Field("end", None, "Custom range end, YYYY-MM-DD: the as-of date"),
    Field("today", None, "Reference date of the presets (default: the latest date with data)"),
    Field("compare", "previous", "previous | yoy | none"),
    Field("segment", None, "Enterprise | Mid-market | SMB (default: all)"),
    Field("csm", None, "A csm_id: that CSM's book (`ecc csms` lists them; default: all)"),
)
#: The filters' names (the keys of a URL, of notebook parameters, of a schedule).
NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
_NONE = ("", "none")


@dataclass(frozen=True)
class Filters:
    """A view's filters as given (text, as in a URL); :meth:`resolve` validates them.
    ``compare`` None is no comparison; ``preset`` None with ``start``/``end`` a range."""

    preset: str | None = "this_quarter"
    start: str | None = None
    end: str | None = None
    today: str | None = None
    compare: str | None = "previous"
    segment: str | None = None
    csm: str | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Filters:
        """Filters from given values (options, a file, parameters): blanks are unset,
        compare ``none`` is no comparison, and a range without a preset has none."""
        given = {k: (None if v is None else str(v).strip() or None) for k, v in values.items()}
        unknown = sorted(set(given) - set(NAMES))
        if unknown:
            raise TypeError(f"not filters: {', '.join(unknown)}")
        if "compare" in given and (given["compare"] or "").lower() in _NONE:
            given["compare"] = None
        if (given.get("start") or given.get("end")) and not given.get("preset"):
            given["preset"] = None
        elif "preset" in given and given["preset"] is None:
            del given["preset"]  # unset: the default preset
        return cls(**given)

    def resolve(self, conn: Connection) -> Request:
        """The validated request (a ConfigError says what is wrong and what to give)."""
        from .request import resolve

        return resolve(conn, **self.filters())

    def filters(self) -> dict[str, str | None]:
        """The filters alone, by name (a subclass's other keys left out)."""
        return {name: getattr(self, name) for name in NAMES}

    def pinned(self, req: Request) -> Filters:
        """The same view with explicit dates (``req`` resolved from it): a report's every
        notebook then reflects the same dates even if data arrives meanwhile."""
        custom = req.period.preset == "custom"
        return Filters(
            preset=None if custom else req.period.preset,
            start=req.period.start.isoformat() if custom else None,
            end=req.period.end.isoformat() if custom else None,
            today=req.today.isoformat(),
            compare=req.compare,
            segment=req.scope.segment,
            csm=req.scope.csm_id,
        )

    def params(self) -> dict[str, str]:
        """The URL form: the set keys, with no comparison spelled ``compare=none``."""
        out: dict[str, str] = {}
        for name in NAMES:
            value = getattr(self, name)
            if name == "compare" and value is None:
                out[name] = "none"
            elif value not in (None, ""):
                out[name] = str(value)
        return out

    def with_(self, **changes: Any) -> Any:
        """A copy with ``changes``; choosing a range clears the preset and vice versa."""
        if changes.get("start") or changes.get("end"):
            changes.setdefault("preset", None)
        if changes.get("preset"):
            changes.setdefault("start", None)
            changes.setdefault("end", None)
        return replace(self, **changes)


def parameters_cell() -> str:
    """The dashboard notebooks' parameters (papermill's ``-p NAME VALUE``), typed."""
    lines = [
        "# Parameters (papermill: -p NAME VALUE). In the browser, the page URL's query "
        "string wins.",
        "from typing import Optional",
        "",
    ]
    for f in FIELDS:
        default = "None" if f.default is None else repr(f.default).replace("'", '"')
        help_ = f.help.replace("none", "None for no comparison") if f.name == "compare" else f.help
        lines.append(f"{f.name}: Optional[str] = {default}  # {help_}")
    return "\n".join(lines)


F = TypeVar("F", bound=Callable[..., Any])


def options(*, compare: str | None) -> Callable[[F], F]:
    """The filters as command-line options (``--preset``, ``--start``, …, ``--csm``);
    ``compare`` is the command's default comparison (None: none unless asked)."""
    import click

    def decorate(command: F) -> F:
        for f in reversed(FIELDS):
            if f.name == "compare":
                option = click.option(
                    "--compare",
                    default=compare or "none",
                    show_default=True,
                    help=f.help,
                )
            else:
                default_text = f"  [default: {f.default}]" if f.default else ""
                option = click.option(f"--{f.name}", default=None, help=f.help + default_text)
            command = option(command)
        return command

    return decorate
