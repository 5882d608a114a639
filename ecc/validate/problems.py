"""The problems found in one source file: counted, and the first ones kept in line order.

A :class:`ProblemSink` receives every problem of one file as ``(line, column,
message)``; it counts them all and keeps only as many as the load will show, those
with the lowest line numbers, so a file with a million bad rows costs little memory.
"""

from __future__ import annotations

from operator import attrgetter

from ..errors import Problem


class ProblemSink:
    """The problems of one file: counts all, keeps the ``cap`` with the lowest lines.

    Problems may arrive out of line order (ledger and duplicate checks report at the
    end of the file); :meth:`problems` returns the kept ones sorted by line, in
    arrival order within a line.
    """

    def __init__(self, file: str, cap: int) -> None:
        self.file = file
        self.cap = cap
        self.total = 0
        self._kept: list[Problem] = []

    def add(self, line: int, column: str, message: str) -> None:
        self.total += 1
        if self.cap <= 0:
            return
        self._kept.append(Problem(self.file, line, column, message))
        if len(self._kept) >= 2 * self.cap + 64:
            self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=attrgetter("line"))
        del self._kept[self.cap :]

    def problems(self) -> list[Problem]:
        self._trim()
        return list(self._kept)
