"""The keys seen so far in one source file, to find duplicate keys in one pass.

:class:`StrKeys` keeps text ids (or tuples of a composite key) in a set, which also
serves the foreign-key lookups into a parent file. :class:`DayKeys` keeps the
``(customer_id, scored_on)`` keys of health scores as one bitmap of days per customer,
which costs far less memory than a set of tuples.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date


class StrKeys:
    """Seen keys in a set: the id string, or the tuple of a composite key."""

    def __init__(self) -> None:
        self.values: set[Hashable] = set()

    def seen(self, key: Hashable) -> bool:
        if key in self.values:
            return True
        self.values.add(key)
        return False


#: Beyond this span of days a customer's bitmap becomes a set (pathological dates).
_MAX_BITMAP_DAYS = 366 * 60


class DayKeys:
    """(customer_id, date) keys as one bitmap of days per customer.

    A bitmap covers ``[base, base + 8 * len(bits))`` in date ordinals and grows in
    either direction; weekly scores over 3 years cost ~140 bytes per customer.
    """

    def __init__(self) -> None:
        self._bitmaps: dict[str, tuple[int, bytearray] | set[int]] = {}

    def seen(self, key: tuple[str, date]) -> bool:
        customer_id: str = key[0]
        day: int = key[1].toordinal()
        entry = self._bitmaps.get(customer_id)
        if entry is None:
            self._bitmaps[customer_id] = (day & ~7, bytearray(16))
            entry = self._bitmaps[customer_id]
        if isinstance(entry, set):
            if day in entry:
                return True
            entry.add(day)
            return False
        base, bits = entry
        offset = day - base
        if offset < 0 or offset >= 8 * len(bits):
            entry = self._grow(customer_id, base, bits, day)
            if isinstance(entry, set):
                return self.seen(key)
            base, bits = entry
            offset = day - base
        byte, mask = offset >> 3, 1 << (offset & 7)
        if bits[byte] & mask:
            return True
        bits[byte] |= mask
        return False

    def _grow(
        self, customer_id: str, base: int, bits: bytearray, day: int
    ) -> tuple[int, bytearray] | set[int]:
        start = day & ~7
        low, high = min(base, start), max(base + 8 * len(bits), start + 8)
        if high - low > _MAX_BITMAP_DAYS:
            days = {base + i for i in range(8 * len(bits)) if bits[i >> 3] & (1 << (i & 7))}
            self._bitmaps[customer_id] = days
            return days
        step = max(len(bits), 16)  # grow by at least the current size: linear total cost
        if day < base:
            new_base = min(start, base - 8 * step)
            entry = (new_base, bytearray((base - new_base) >> 3) + bits)
        else:
            bits.extend(bytes(max(((high - base) >> 3) - len(bits), step)))
            entry = (base, bits)
        self._bitmaps[customer_id] = entry
        return entry
