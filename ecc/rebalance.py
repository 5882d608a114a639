"""Rebalancing recommendations (METRICS.md, Workload and capacity, US-007).

A pure algorithm: no database. :func:`ecc.metrics.workload.workload` feeds it the
books read at ``end``; tests feed it hand-made and random teams.

Utilization of a CSM = max(accounts / target_accounts, arr / target_arr).

Rules (METRICS.md, literal):

- move an account only between **active** CSMs **of the account's segment** (the
  giver and the receiver both; an account whose owner covers another segment, or
  whose owner is inactive, stays where it is);
- never move an account with a renewal due within 90 days or an active save play
  (``Account.movable`` is False; the caller decides it from the data);
- never raise the receiver above utilization 1.0 (``max_utilization``);
- prefer the fewest moves that bring every CSM to utilization <= 1.0, and when that
  is impossible, lower the highest utilization as far as the rules allow;
- after applying the moves, no CSM's utilization is higher than the highest before.

Readings: "every CSM" is every active CSM (an inactive one neither gives nor receives,
so its utilization does not change); the limit is ``max_utilization`` (1.0 by default;
the workload family passes its ``over_utilization`` setting, also 1.0). When not
everyone can be brought within the limit, the CSMs above it are lowered highest first,
each as far as the rules and the remaining room allow.

The algorithm is a greedy: finding the true minimum number of moves is a
multi-dimensional bin-packing problem (NP-hard), so it is not attempted. Each step::

    D = the active CSM with the highest utilization above the limit that still has a
        move that lowers it (ties: csm_id)
    receivers = active CSMs of D's segment, other than D, with room for one more account
        and ARR within the limit
    P = D's movable accounts of its own segment that fit at least one receiver
    need = the fewest accounts of P whose removal brings D within the limit:
        max(accounts over the cap, the fewest of P's largest covering the ARR over the cap)
    if need is within the receivers' total room (accounts and ARR) and the plan "x + the
       need-1 largest others" packs into the receivers (largest first, each on the
       receiver with the most ARR room; checked for plans of <= 64 accounts):
        x = the smallest-ARR account of P that keeps the plan: x + the need-1 largest
            others still cover the ARR excess, so D still needs need-1 more moves.
            Small accounts leave room for the other CSMs and move fewer relationships.
    else (D cannot get within the limit):
        x = the account that lowers D's utilization the most: the largest when ARR
            drives it; when the count drives it, the smallest of those that lower it as much
    (x must lower D's utilization strictly: when ARR drives it, x has ARR > 0)
    R = the receiver x fits (accounts + 1 and arr + x within the limit) with the lowest
        utilization after receiving it: the most headroom (ties: csm_id)
    move x from D to R

It stops when nobody is above the limit, or none of those above it has a legal move
that lowers it. Only CSMs above the limit give and receivers end within it, so no
account moves twice. A CSM that gives its way within the limit may then receive (and a
CSM that found no receiver is looked at again when that happens).

Guarantees (tested in tests/test_rebalance.py):

1. Every move follows the rules above; the receiver ends at or below the limit; each
   account moves at most once; the result does not depend on the order of the input.
2. Every move strictly lowers its giver's utilization, and the giver is above the limit
   when it gives. Hence every CSM ends at or below max(its utilization before, the
   limit), the highest utilization never rises (no CSM ends above the highest before),
   and only a CSM that was above the limit and received nothing can end above it.
3. Maximal: when it stops, no CSM above the limit has a single legal move that lowers
   its utilization.
4. When no move is needed it makes none; when one move is enough to bring everyone
   within the limit, it makes exactly one.
5. When the receivers' room does not bind (each segment has a receiver that could take
   every movable account of that segment's CSMs above the limit at once), the result is
   optimal: everyone within the limit with the fewest possible moves whenever that is
   possible at all, and otherwise every CSM above the limit as low as it can go.

Not guaranteed: when the receivers' room is tight, the greedy can miss an assignment
that an exhaustive search finds. It never moves an account of a CSM within the limit
to make room for another (chains), and never plans swaps (a CSM above the limit giving
more than it must, to take another CSM's account). Measured on 12,000 random tiny
teams (2-4 CSMs, <= 6 listed accounts, about 55% of them solvable): where an exhaustive
search (chains and swaps included) brings everyone within the limit, the greedy does
so in 95.6% of the cases, and with the fewest moves in every one of them; about 90% of
its misses need a chain or a swap (it misses 0.5% of the cases that moves from CSMs
above the limit to CSMs within it can solve).
Where nobody can bring everyone within the limit, its highest utilization equals the
lowest possible in 98.3% of the cases.

Arithmetic is exact: ARR is scaled to integers (cents) and utilizations are compared as
fractions, so the result is deterministic and independent of float rounding; ties are
broken by ids. The cost of a move is O(CSMs of the segment + log(accounts) x min(need,
64)), using Fenwick trees over each giver's accounts: 100 CSMs and 10,000 accounts take
20-100 ms for 350-1,650 moves, and 0.4 s for the worst case tried (one CSM holding 9,100
accounts and giving 9,000 of them).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import islice

__all__ = ["CSM", "Account", "Move", "recommend", "utilization"]


@dataclass(frozen=True)
class CSM:
    """A CSM and their current book.

    ``accounts`` and ``arr`` are the whole current book (every account the CSM owns,
    movable or not); ``targets`` are the CSM's ideal book. ``name`` is used in the reason.
    """

    csm_id: str
    segment: str
    active: bool
    target_accounts: int
    target_arr: Decimal
    accounts: int
    arr: Decimal
    name: str | None = None


@dataclass(frozen=True)
class Account:
    """An account of a CSM's book that the algorithm may consider moving.

    ``movable`` is False when the account has a renewal due within 90 days or an active
    save play. Accounts not listed count in their owner's book totals and never move.
    """

    customer_id: str
    csm_id: str
    segment: str
    arr: Decimal
    movable: bool = True


@dataclass(frozen=True)
class Move:
    """Move ``customer_id`` (``arr``) from ``from_csm`` to ``to_csm``; ``reason`` says why."""

    customer_id: str
    from_csm: str
    to_csm: str
    reason: str
    arr: Decimal


def utilization(
    accounts: int, target_accounts: int, arr: Decimal | int, target_arr: Decimal | int
) -> Fraction:
    """max(accounts / target_accounts, arr / target_arr), exactly; targets must be > 0."""
    if target_accounts <= 0 or target_arr <= 0:
        raise ValueError("targets must be > 0 for a utilization")
    return max(Fraction(accounts, target_accounts), Fraction(arr) / Fraction(target_arr))


# ---------------------------------------------------------------- internal state


class _Pool:
    """A giver's movable accounts, ascending by (arr, customer_id), with removal.

    Two Fenwick trees (ARR and count of the accounts still present) answer prefix sums,
    "the k-th present account" and "the longest prefix with ARR <= t" in O(log n).
    """

    def __init__(self, items: list[tuple[int, str]]) -> None:
        items.sort()
        self.vals = [v for v, _ in items]
        self.ids = [i for _, i in items]
        size = len(items)
        self.size = size
        self.top = 1 << size.bit_length() if size else 0
        self.fs = [0] * (size + 1)
        self.fc = [0] * (size + 1)
        for i, v in enumerate(self.vals, start=1):  # O(n) construction
            self.fs[i] += v
            self.fc[i] += 1
            j = i + (i & -i)
            if j <= size:
                self.fs[j] += self.fs[i]
                self.fc[j] += self.fc[i]

    def sum(self, q: int) -> int:
        """ARR of the present accounts at positions < q."""
        total = 0
        while q > 0:
            total += self.fs[q]
            q -= q & -q
        return total

    def count(self, q: int) -> int:
        """The number of present accounts at positions < q."""
        total = 0
        while q > 0:
            total += self.fc[q]
            q -= q & -q
        return total

    def kth(self, k: int) -> int:
        """Position of the k-th present account (1-based k <= the number present)."""
        pos, step = 0, self.top
        while step:
            nxt = pos + step
            if nxt <= self.size and self.fc[nxt] < k:
                pos = nxt
                k -= self.fc[nxt]
            step >>= 1
        return pos

    def longest_prefix(self, t: int) -> int:
        """The largest q with sum(q) <= t (t >= 0)."""
        pos, step = 0, self.top
        while step:
            nxt = pos + step
            if nxt <= self.size and self.fs[nxt] <= t:
                pos = nxt
                t -= self.fs[nxt]
            step >>= 1
        return pos

    def remove(self, pos: int) -> None:
        v = self.vals[pos]
        i = pos + 1
        while i <= self.size:
            self.fs[i] -= v
            self.fc[i] -= 1
            i += i & -i


@dataclass
class _Book:
    csm_id: str
    label: str
    segment: str
    active: bool
    ta: int  # target accounts
    tarr: int  # target ARR, scaled
    n: int  # accounts now
    a: int  # ARR now, scaled
    cap_n: int  # the most accounts within the limit: floor(limit * ta)
    cap_a: int  # the most ARR within the limit: floor(limit * tarr)
    # this CSM's movable accounts of its own segment
    pool: _Pool = field(default_factory=lambda: _Pool([]))
    version: int = 0

    def over(self) -> bool:
        return self.n > self.cap_n or self.a > self.cap_a

    def util(self) -> Fraction:
        return max(Fraction(self.n, self.ta), Fraction(self.a, self.tarr))


def _scale_of(values: Iterable[Decimal]) -> int:
    places = 0
    for v in values:
        if not v.is_finite():
            raise ValueError(f"money must be a finite number, got {v}")
        exponent = v.as_tuple().exponent
        assert isinstance(exponent, int)
        places = max(places, -exponent)
    scale: int = 10**places
    return scale


def _scaled(value: Decimal, scale: int) -> int:
    num, den = value.as_integer_ratio()
    return num * (scale // den)


def _exact(limit: float | Fraction | Decimal) -> Fraction:
    return Fraction(repr(limit)) if isinstance(limit, float) else Fraction(limit)


def _pct(u: Fraction) -> str:
    """A utilization as a percentage; never shows 100% for a value that is not exactly 1."""
    p = Decimal(u.numerator * 100) / Decimal(u.denominator)
    whole = p.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if whole != 100 or u == 1:
        return f"{whole}%"
    one = p.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if one != 100:
        return f"{one}%"
    return ">100%" if u > 1 else "<100%"


def _driver(b: _Book) -> str:
    left, right = b.n * b.tarr, b.a * b.ta
    if left > right:
        return "accounts"
    if left < right:
        return "ARR"
    return "accounts and ARR"


def _build(
    csms: Sequence[CSM], accounts: Sequence[Account], limit: Fraction
) -> tuple[dict[str, _Book], dict[str, list[_Book]], dict[str, Decimal]]:
    if limit <= 0:
        raise ValueError("max_utilization must be > 0")
    scale = _scale_of([*(c.target_arr for c in csms), *(c.arr for c in csms)])
    scale = max(scale, _scale_of(a.arr for a in accounts))
    books: dict[str, _Book] = {}
    for c in sorted(csms, key=lambda c: c.csm_id):
        if c.csm_id in books:
            raise ValueError(f"CSM {c.csm_id!r} is listed twice")
        if c.target_accounts <= 0 or c.target_arr <= 0:
            raise ValueError(f"CSM {c.csm_id!r}: targets must be > 0")
        if c.accounts < 0 or c.arr < 0:
            raise ValueError(f"CSM {c.csm_id!r}: the book cannot be negative")
        tarr = _scaled(c.target_arr, scale)
        books[c.csm_id] = _Book(
            csm_id=c.csm_id,
            label=c.name or c.csm_id,
            segment=c.segment,
            active=c.active,
            ta=c.target_accounts,
            tarr=tarr,
            n=c.accounts,
            a=_scaled(c.arr, scale),
            cap_n=math.floor(limit * c.target_accounts),
            cap_a=math.floor(limit * tarr),
        )
    arr_of: dict[str, Decimal] = {}
    listed: dict[str, tuple[int, int]] = {}
    movable: dict[str, list[tuple[int, str]]] = {}
    for acc in accounts:
        if acc.customer_id in arr_of:
            raise ValueError(f"account {acc.customer_id!r} is listed twice")
        arr_of[acc.customer_id] = acc.arr
        owner = books.get(acc.csm_id)
        if owner is None:
            raise ValueError(f"account {acc.customer_id!r}: unknown CSM {acc.csm_id!r}")
        if acc.arr < 0:
            raise ValueError(f"account {acc.customer_id!r}: ARR cannot be negative")
        value = _scaled(acc.arr, scale)
        count, total = listed.get(acc.csm_id, (0, 0))
        listed[acc.csm_id] = (count + 1, total + value)
        if acc.movable and owner.active and acc.segment == owner.segment:
            movable.setdefault(acc.csm_id, []).append((value, acc.customer_id))
    for csm_id, (count, total) in listed.items():
        b = books[csm_id]
        if count > b.n or total > b.a:
            raise ValueError(
                f"CSM {csm_id!r}: the listed accounts ({count}) exceed the book totals "
                "(CSM.accounts, CSM.arr)"
            )
    for csm_id, items in movable.items():
        books[csm_id].pool = _Pool(items)
    by_segment: dict[str, list[_Book]] = {}
    for b in books.values():  # in csm_id order
        if b.active:
            by_segment.setdefault(b.segment, []).append(b)
    return books, by_segment, arr_of


#: The lookahead checks that the planned accounts pack into the receivers for plans of
#: at most this many accounts (larger plans are assumed to pack: a bound on the cost).
PACK_CHECK_LIMIT = 64


def _packs(pool: _Pool, k: int, m: int, need: int, receivers: Sequence[_Book]) -> bool:
    """Whether the plan (the k-th of the m accounts that fit, and the need-1 largest others)
    packs into the receivers.

    Each planned account, largest first, goes to the receiver with the most ARR room that
    has room for one more account (as the moves will, nearly); False when one does not fit.
    """
    if need > PACK_CHECK_LIMIT:
        return True
    ranks = islice((j for j in range(m, 0, -1) if j != k), need - 1)
    plan = [pool.vals[pool.kth(j)] for j in (k, *ranks)]
    rooms = [(-(r.cap_a - r.a), r.csm_id, r.cap_n - r.n) for r in receivers]
    heapq.heapify(rooms)
    for x in sorted(plan, reverse=True):
        if not rooms or -rooms[0][0] < x:
            return False
        neg_room, csm_id, count = heapq.heappop(rooms)
        if count > 1:
            heapq.heappush(rooms, (neg_room + x, csm_id, count - 1))
    return True


def _choose(
    d: _Book, receivers: Sequence[_Book], room: int, room_n: int, room_a: int
) -> int | None:
    """Position in ``d.pool`` of the account to move; None when no legal move lowers d.

    ``receivers`` are d's possible receivers (room for one more account, ARR within the
    limit); ``room`` is their largest ARR room, ``room_n`` and ``room_a`` their total room.
    """
    pool = d.pool
    p = bisect_right(pool.vals, room)  # P = the present accounts before p: they fit somewhere
    m = pool.count(p)
    if m == 0:
        return None
    need_n = max(0, d.n - d.cap_n)
    need_a = max(0, d.a - d.cap_a)
    # only an account with ARR lowers d when ARR drives its utilization (or ties)
    strict = 1 if d.a * d.ta >= d.n * d.tarr else 0

    def rank_from(low: int) -> int:
        """The rank (1-based, ascending) of the first account of P with arr >= low."""
        return pool.count(bisect_left(pool.vals, low, 0, p)) + 1

    total = pool.sum(p)
    # k_arr: the fewest of P's largest accounts covering the ARR excess; before: the sum of
    # the k_arr - 1 largest
    k_arr, before = 0, 0
    if 0 < need_a <= total:
        q = pool.longest_prefix(total - need_a)  # the account at q is the k_arr-th largest
        k_arr = m - pool.count(q)
        before = total - pool.sum(q + 1)
    need = max(need_n, k_arr)
    # can d reach the limit with P? (the receivers' total room, then a packing check)
    if total >= need_a and need <= m and need <= room_n and need_a <= room_a:
        # the smallest x with x + (the need-1 largest others) >= the ARR excess
        low = 0 if need_n > k_arr or need_a == 0 else need_a - before
        k = rank_from(max(low, strict))
        if k <= m and _packs(pool, k, m, need, receivers):
            return pool.kth(k)
    # otherwise the most lowering: max((n-1)/ta, (a-x)/tarr) is least for the largest x;
    # when the count term dominates there, every x with (a-x)/tarr <= (n-1)/ta does as well
    top = pool.vals[pool.kth(m)]
    if (d.n - 1) * d.tarr >= (d.a - top) * d.ta:
        low = max(0, -(-(d.a * d.ta - (d.n - 1) * d.tarr) // d.ta))
    else:
        low = top
    k = rank_from(max(low, strict))
    return pool.kth(k) if k <= m else None


def recommend(
    csms: Sequence[CSM], accounts: Sequence[Account], *, max_utilization: float = 1.0
) -> list[Move]:
    """The moves that rebalance the team, in the order they were chosen.

    Utilization = max(accounts / target_accounts, arr / target_arr) per CSM; the limit is
    ``max_utilization`` (1.0). See the module docstring for the rules, the algorithm and
    what it guarantees. Raises ValueError on inconsistent input (duplicate ids, targets
    <= 0, accounts of an unknown CSM, listed accounts exceeding a book's totals).
    """
    limit = _exact(max_utilization)
    books, by_segment, arr_of = _build(csms, accounts, limit)

    heap: list[tuple[Fraction, str, int]] = []

    def push(b: _Book) -> None:
        b.version += 1
        heapq.heappush(heap, (-b.util(), b.csm_id, b.version))

    for b in books.values():
        if b.active and b.over():
            push(b)
    stuck: dict[str, list[_Book]] = {}
    moves: list[Move] = []

    while heap:
        _, csm_id, version = heapq.heappop(heap)
        d = books[csm_id]
        if version != d.version or not d.over():
            continue
        # d's receivers: active, d's segment, room for one more account and ARR within the limit
        receivers: list[_Book] = []
        room = room_n = room_a = 0
        for r in by_segment[d.segment]:
            free_n, free_a = r.cap_n - r.n, r.cap_a - r.a
            if free_n >= 1 and free_a >= 0 and r is not d:
                receivers.append(r)
                room_n += free_n
                room_a += free_a
                room = max(room, free_a)
        idx = _choose(d, receivers, room, room_n, room_a) if receivers else None
        if idx is None:
            stuck.setdefault(d.segment, []).append(d)
            continue
        x = d.pool.vals[idx]
        # the receiver with the lowest utilization after receiving x, max((n+1)/ta, (a+x)/tarr)
        best: _Book | None = None
        best_p, best_q = 0, 1
        for r in receivers:
            if r.a + x > r.cap_a:
                continue
            up, uq = (
                (r.n + 1, r.ta) if (r.n + 1) * r.tarr >= (r.a + x) * r.ta else (r.a + x, r.tarr)
            )
            if best is None or up * best_q < best_p * uq:
                best, best_p, best_q = r, up, uq
        assert best is not None  # x <= room, so the receiver with that room fits it
        customer_id = d.pool.ids[idx]
        d_before, r_before = d.util(), best.util()
        reason = (
            f"{d.label} is at {_pct(d_before)} of capacity ({_driver(d)}); "
            f"{best.label} has room ({_pct(r_before)}, "
            f"{_pct(Fraction(best_p, best_q))} after the move)"
        )
        d.pool.remove(idx)
        d.n -= 1
        d.a -= x
        best.n += 1
        best.a += x
        moves.append(
            Move(
                customer_id=customer_id,
                from_csm=d.csm_id,
                to_csm=best.csm_id,
                reason=reason,
                arr=arr_of[customer_id],
            )
        )
        if d.over():
            push(d)
        else:
            # d may now receive: the CSMs of its segment that were stuck get another look
            for s in stuck.pop(d.segment, []):
                push(s)
    return moves
