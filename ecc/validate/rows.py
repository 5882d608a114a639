"""The rows of one source file checked against its spec, the files before it and itself.

:class:`TableValidator` reads the header, then parses each row's cells, checks the
foreign keys against the parent files' ids, the primary key against the rows seen
before, and the row rules; the rows of ``arr_events.csv`` also go to the
:class:`~ecc.validate.ledger.Ledger`. Duplicate keys are reported after the file,
with the line of their first occurrence found by a second, cheap read.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from operator import itemgetter
from typing import Any

from .cells import BAD, Invalid, Parser
from .header import read_header
from .keys import DayKeys, StrKeys
from .ledger import Ledger
from .problems import ProblemSink
from .rules import sign_ok
from .tables import TableSpec


class TableValidator:
    """Validates the rows of one file against its spec and the rows seen before.

    ``parent_keys`` maps a parent table to its set of ids (None when that file's key
    column was missing: foreign keys into it are then not checked). After the file,
    call :meth:`duplicates` and :meth:`resolve_duplicates` (a re-read of the key
    columns) to report duplicate keys with the line of their first occurrence.
    """

    def __init__(
        self,
        spec: TableSpec,
        header: list[str],
        sink: ProblemSink,
        parent_keys: dict[str, set[Hashable] | None],
        ledger: Ledger | None = None,
    ) -> None:
        self.spec = spec
        self.sink = sink
        self.index = read_header(spec, header, sink)
        self.width = len(header)
        self.header = header
        self.ledger = ledger
        self.complete = all(f.name in self.index for f in spec.fields if f.required)
        # (index, name, parser, required, hint, ids of the parent for a foreign key)
        self._present: list[tuple[int, str, Parser, bool, str, set[Hashable] | None]] = [
            (
                self.index[f.name],
                f.name,
                f.parse,
                f.required,
                f.hint,
                parent_keys.get(f.ref) if f.ref is not None else None,
            )
            for f in spec.fields
            if f.name in self.index
        ]
        self._parent = {f.name: f.ref for f in spec.fields if f.ref is not None}
        self._absent = {
            f.name: (BAD if f.required else None) for f in spec.fields if f.name not in self.index
        }
        self.has_key = all(k in self.index for k in spec.key)
        self._single = len(spec.key) == 1
        self._key_of = itemgetter(*spec.key)
        self.keys: StrKeys | DayKeys = DayKeys() if spec.table == "health_scores" else StrKeys()
        self._seen = self.keys.seen
        self._check = spec.check
        self._pending: list[tuple[int, tuple[Any, ...]]] = []
        self._line = 0
        self._row_problems = 0

    def key_set(self) -> set[Hashable] | None:
        """The ids of this file (for foreign keys into it); None if its key column is missing."""
        if not self.has_key or not isinstance(self.keys, StrKeys):
            return None
        return self.keys.values

    def _emit(self, column: str, message: str) -> None:
        self._row_problems += 1
        self.sink.add(self._line, column, message)

    def row(self, line: int, cells: list[str]) -> dict[str, Any] | None:
        """Check one row; its values (Python types) when it has no problem, else None."""
        self._line = line
        if len(cells) != self.width:
            self._bad_width(line, cells)
            return None
        self._row_problems = 0
        values: dict[str, Any] = self._absent.copy() if self._absent else {}
        for i, name, parse, required, hint, known in self._present:
            cell = cells[i]
            if not cell:
                if required:
                    self._emit(name, f"{name} is empty but required; write {hint}")
                    values[name] = BAD
                else:
                    values[name] = None
                continue
            try:
                value = parse(cell)
            except Invalid as exc:
                self._emit(name, exc.message)
                value = BAD
            else:
                if known is not None and value not in known:
                    self._unknown_parent(name, value)
                    value = BAD
            values[name] = value
        if self.has_key:
            key = self._key_of(values)
            if (key is not BAD if self._single else BAD not in key) and self._seen(key):
                self._duplicate(line, key)
        if self._check is not None:
            self._check(values, self._emit)
        if self.ledger is not None:
            self._to_ledger(values)
        if self._row_problems or not self.complete:
            return None
        return values

    def _unknown_parent(self, name: str, value: Any) -> None:
        parent = self._parent[name]
        self._emit(
            name,
            f"{value!r} is not a {name} in {parent}.csv; use the id of an existing row or add "
            f"{value!r} to {parent}.csv",
        )

    def _duplicate(self, line: int, key: Any) -> None:
        self._row_problems += 1
        if len(self._pending) < max(self.sink.cap, 1):
            self._pending.append((line, key if isinstance(key, tuple) else (key,)))
        else:  # beyond the cap: counted, never shown
            self.sink.add(line, self.spec.key_column, "duplicate key")

    def _to_ledger(self, v: dict[str, Any]) -> None:
        assert self.ledger is not None
        customer_id = v["customer_id"]
        if customer_id is BAD:
            return
        day, kind, delta = v["event_date"], v["kind"], v["arr_delta"]
        if day is BAD or kind is BAD or delta is BAD or not sign_ok(kind, delta):
            self.ledger.skip(customer_id)
        else:
            self.ledger.add(customer_id, day, self._line, kind, delta)

    def _bad_width(self, line: int, cells: list[str]) -> None:
        n, width = len(cells), self.width
        if n < width:
            self.sink.add(
                line,
                self.header[n],
                f"this row has {n} values but the header has {width} columns (the row ends "
                f"before {self.header[n]}); add the missing values, an empty value is "
                "nothing between two commas",
            )
        else:
            self.sink.add(
                line,
                "-",
                f"this row has {n} values but the header has {width} columns; put quotes "
                'around values that contain a comma, e.g. "Acme, Inc."',
            )

    # -------------------------------------------------------- duplicates (second pass)

    def duplicates(self) -> bool:
        """True when duplicate keys wait for :meth:`resolve_duplicates`."""
        return bool(self._pending)

    def resolve_duplicates(self, rows: Iterable[tuple[int, list[str]]]) -> None:
        """Re-read ``(line, cells)`` to find each duplicate key's first line, and report."""
        wanted = {key for _, key in self._pending}
        last = max(line for line, _ in self._pending)
        first: dict[tuple[Any, ...], int] = {}
        by_name = {f.name: f for f in self.spec.fields}
        parsers = [(self.index[k], by_name[k].parse) for k in self.spec.key]
        for line, cells in rows:
            if line >= last:
                break
            if len(cells) != self.width:
                continue
            try:
                key = tuple(None if cells[i] == "" else parse(cells[i]) for i, parse in parsers)
            except Invalid:
                continue
            if key in wanted and key not in first:
                first[key] = line
        for line, key in self._pending:
            self.sink.add(line, self.spec.key_column, self._duplicate_message(key, first.get(key)))
        self._pending.clear()

    def _duplicate_message(self, key: tuple[Any, ...], first: int | None) -> str:
        where = f"on line {first}" if first is not None else "on an earlier line"
        table = self.spec.table
        if table == "health_scores":
            return (
                f"customer {key[0]!r} already has a score on {key[1]} ({where}); keep one "
                "score per customer and day"
            )
        if table == "targets":
            metric, start, end, segment = key
            scope = f"segment {segment}" if segment is not None else "the whole portfolio"
            return (
                f"a {metric} target for {start}..{end} and {scope} is already given {where}; "
                "keep one target per metric, period and segment"
            )
        name = self.spec.key[0]
        return f"{name} {key[0]!r} is already used {where}; give every row its own {name}"
