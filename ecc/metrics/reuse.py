"""Results shared between the computations of one refresh.

A refresh asks for the same area, or the same grouped query, many times: ``none``,
``previous`` and ``yoy`` share the period's values, and a segment's numbers are one
group of a query grouped by segment. Inside :func:`reuse_results` such results are kept
by what they depend on and handed out again; outside it nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_RESULTS: ContextVar[dict[Hashable, Any] | None] = ContextVar("ecc_results", default=None)


@contextmanager
def reuse_results() -> Iterator[None]:
    token = _RESULTS.set({})
    try:
        yield
    finally:
        _RESULTS.reset(token)


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
        results[key] = compute()
    value = results[key]
    if isinstance(value, Future):
        value = results[key] = value.result()
    out: T = value
    return out


def expect(key: Hashable, future: Future[Any]) -> None:
    """Inside :func:`reuse_results`: ``key``'s result is being computed by ``future`` (on
    another connection, in another thread); :func:`shared` waits for it."""
    results = _RESULTS.get()
    if results is not None and key not in results:
        results[key] = future


def computed() -> list[tuple[Any, Any]]:
    """Inside :func:`reuse_results`: every finished result, by key (none outside)."""
    results = _RESULTS.get() or {}
    return [(k, v) for k, v in results.items() if not isinstance(v, Future)]
