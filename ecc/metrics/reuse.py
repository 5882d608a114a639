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
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

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

    A result being computed elsewhere (:func:`expect`) is waited for."""
    results = _RESULTS.get()
    if results is None:
        return compute()
    if key not in results:
        kept = _KEPT.get()
        found, value = kept.load(key) if kept is not None else (False, None)
        results[key] = value if found else compute()
    value = results[key]
    if isinstance(value, Future):
        value = results[key] = value.result()
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
