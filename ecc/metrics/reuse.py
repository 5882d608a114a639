"""Results shared between the computations of one refresh.

A refresh asks for the same area, or the same grouped query, many times: ``none``,
``previous`` and ``yoy`` share the period's values, and a segment's numbers are one
group of a query grouped by segment. Inside :func:`reuse_results` such results are kept
by what they depend on and handed out again; outside it nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import partial
from typing import Any, Protocol, TypeVar

from ..periods import month_pieces

T = TypeVar("T")
K = TypeVar("K")

_RESULTS: ContextVar[dict[Hashable, Any] | None] = ContextVar("ecc_results", default=None)


class Kept(Protocol):
    """Results kept from earlier runs (:mod:`ecc.cache.partials`)."""

    def has(self, key: Hashable) -> bool: ...

    def load(self, key: Hashable) -> tuple[bool, Any]: ...


_KEPT: ContextVar[Kept | None] = ContextVar("ecc_kept", default=None)


#: Inside :func:`reuse_results`: derived values that are not results (never kept).
_SCRATCH: ContextVar[dict[Hashable, Any] | None] = ContextVar("ecc_scratch", default=None)


@contextmanager
def reuse_results(kept: Kept | None = None) -> Iterator[None]:
    """Share results inside the block; ``kept`` hands out results of earlier runs."""
    token = _RESULTS.set({})
    kept_token = _KEPT.set(kept)
    scratch_token = _SCRATCH.set({})
    try:
        yield
    finally:
        _SCRATCH.reset(scratch_token)
        _KEPT.reset(kept_token)
        _RESULTS.reset(token)


def scratch() -> dict[Hashable, Any] | None:
    """Inside :func:`reuse_results`: a dictionary for memos of the block (None outside)."""
    return _SCRATCH.get()


def active() -> bool:
    """True inside :func:`reuse_results`."""
    return _RESULTS.get() is not None


def shared(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``key`` inside :func:`reuse_results`; always outside it.

    A result being computed elsewhere (:func:`expect`) is waited for; one only queued
    there is computed here instead, so neither connection idles while the other works."""
    results = _RESULTS.get()
    if results is None:
        return compute()
    if key not in results:
        kept = _KEPT.get()
        found, value = kept.load(key) if kept is not None else (False, None)
        results[key] = value if found else compute()
    value = results[key]
    if isinstance(value, Future):
        # one the other connection has not started yet is computed here, not waited for
        value = results[key] = compute() if value.cancel() else value.result()
    out: T = value
    return out


def shared_each(
    keys: Sequence[Hashable], compute: Callable[[list[Hashable]], dict[Hashable, T]]
) -> dict[Hashable, T]:
    """Like :func:`shared` for several results that one query computes together:
    ``compute(missing)`` is called once for the keys neither computed nor kept yet (and
    must return a result for each). Inside :func:`reuse_results` only."""
    results = _RESULTS.get()
    assert results is not None, "shared_each is for use inside reuse_results"
    kept = _KEPT.get()
    missing: list[Hashable] = []
    for key in dict.fromkeys(keys):
        if key in results:
            continue
        found, value = kept.load(key) if kept is not None else (False, None)
        if found:
            results[key] = value
        else:
            missing.append(key)
    if missing:
        results.update(compute(missing))
    out: dict[Hashable, T] = {}
    for key in keys:
        value = results[key]
        if isinstance(value, Future):
            value = results[key] = value.result()
        out[key] = value
    return out


def expect(key: Hashable, start: Callable[[], Future[Any]]) -> None:
    """Inside :func:`reuse_results`: ``key``'s result will be computed by the future that
    ``start()`` returns (on another connection, in another thread); :func:`shared` waits
    for it. Nothing is started for a result already there or kept from an earlier run."""
    results = _RESULTS.get()
    if results is None or key in results:
        return
    kept = _KEPT.get()
    if kept is not None and kept.has(key):
        return
    results[key] = start()


def computed() -> list[tuple[Any, Any]]:
    """Inside :func:`reuse_results`: every finished result, by key (none outside)."""
    results = _RESULTS.get() or {}
    return [(k, v) for k, v in results.items() if not isinstance(v, Future)]


def shared_by_month(
    key: tuple[Hashable, ...],
    start: date,
    end: date,
    compute: Callable[[date, date], dict[K, T]],
    add: Callable[[T, T], T],
) -> dict[K, T]:
    """A result that adds up over disjoint date ranges (counts of rows dated in
    [start, end], by some group), as the sum of its pieces within one month each, each
    :func:`shared` by ``(*key, piece start, piece end)``. A closed month is then read
    once and kept from one refresh to the next; a new day re-reads only its own month."""
    out: dict[K, T] = {}
    for a, b in month_pieces(start, end):
        for k, v in shared((*key, a, b), partial(compute, a, b)).items():
            out[k] = add(out[k], v) if k in out else v
    return out


def expect_by_month(
    key: tuple[Hashable, ...],
    start: date,
    end: date,
    begin: Callable[[date, date], Future[Any]],
) -> None:
    """:func:`expect` for each piece :func:`shared_by_month` will ask for."""
    for a, b in month_pieces(start, end):
        expect((*key, a, b), partial(begin, a, b))
