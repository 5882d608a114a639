"""The one exception tree of the command center.

    EccError                 anything the user can fix; its message says how
    ├── ConfigError          a bad setting or command-line argument
    ├── SchemaError          the database was made by an incompatible version
    ├── LoadError            source data failed validation (carries every problem)
    └── DataError            the data cannot answer the question (e.g. empty database)

Interfaces (CLI, dashboards, reports) show ``str(error)``, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class EccError(Exception):
    """Base class: a problem the user can fix; the message names the fix."""


class ConfigError(EccError):
    """A setting or argument is invalid."""


class SchemaError(EccError):
    """The database schema does not match this version of ecc."""


class DataError(EccError):
    """The data in the database cannot answer the request."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located in a source file."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class LoadError(EccError):
    """Source data failed validation; nothing was written.

    ``problems`` holds the first ``len(problems)`` problems found; ``total`` counts all.
    """

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        lines = [str(p) for p in problems]
        rest = self.total - len(problems)
        if rest > 0:
            lines.append(f"... and {rest} more problem(s) not shown")
        summary = f"{self.total} problem(s) found; the database was not changed"
        super().__init__("\n".join([*lines, summary]))
