"""The header line of a source CSV: where each known column is, and what is missing.

:func:`read_header` maps the columns of a :class:`~ecc.validate.tables.TableSpec` to
their positions in the header and reports required columns that are missing and
columns given twice, with a hint when a header name differs only in case or spaces.
"""

from __future__ import annotations

from .problems import ProblemSink
from .tables import TableSpec


def read_header(spec: TableSpec, header: list[str], sink: ProblemSink) -> dict[str, int]:
    """Map each known column to its index; report missing required and doubled columns.

    Unknown columns are ignored; nullable columns may be absent (read as NULL).
    """
    index: dict[str, int] = {}
    known = {f.name for f in spec.fields}
    for i, name in enumerate(header):
        if name not in known:
            continue
        if name in index:
            sink.add(
                1,
                name,
                f"column {name} appears twice in the header (columns {index[name] + 1} and "
                f"{i + 1}); keep one",
            )
            continue
        index[name] = i
    folded = {h.strip().casefold(): h for h in header}
    for f in spec.fields:
        if f.required and f.name not in index:
            near = folded.get(f.name)
            hint = (
                f" (found {near!r}: header names are exact, lower case as in DATA.md; "
                f"rename it to {f.name})"
                if near is not None
                else "; add it to the header line (and a value to every row)"
            )
            sink.add(1, f.name, f"required column {f.name} is missing{hint}")
    return index
