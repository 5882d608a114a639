"""Day arithmetic and day text for the demo: ordinals in, ISO strings out.

The simulation counts days as date ordinals. :class:`Days` turns them into
``YYYY-MM-DD`` text (and seconds into timestamps) from a precomputed table, since
formatting is the hot path of writing the files; the other helpers give a contract's
anniversary, move a weekend day to a weekday and bound the quarter of ``today``.
"""

from __future__ import annotations

from datetime import date

from ..periods import add_months, quarter_start


class Days:
    """ISO strings of the days around ``today``, precomputed (formatting is the hot path)."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo = lo
        self.text = [date.fromordinal(o).isoformat() for o in range(lo, hi + 1)]

    def __call__(self, o: int) -> str:
        i = o - self.lo
        if 0 <= i < len(self.text):
            return self.text[i]
        return date.fromordinal(o).isoformat()

    def stamp(self, seconds: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS`` for seconds since day 0 (UTC)."""
        day, rest = divmod(seconds, 86_400)
        h, rest = divmod(rest, 3_600)
        m, s = divmod(rest, 60)
        return f"{self(day)}T{h:02d}:{m:02d}:{s:02d}"


def anniversary(start: int, years: int) -> int:
    d = date.fromordinal(start)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:  # Feb 29 -> Feb 28
        return d.replace(year=d.year + years, day=28).toordinal()


def weekday_shift(o: int, today: int) -> int:
    """Move a weekend day to the nearest weekday not after today."""
    wd = (o + 6) % 7  # 0 Monday .. 6 Sunday
    if wd == 5:
        return o - 1
    if wd == 6:
        return o + 1 if o + 1 <= today else o - 2
    return o


def quarter_bounds(today: int) -> tuple[int, int]:
    start = quarter_start(date.fromordinal(today))
    return start.toordinal(), add_months(start, 3).toordinal() - 1
