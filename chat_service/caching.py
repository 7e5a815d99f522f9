"""A per-process memory of values read from the store, fresh for a while.

Every caller that misses at the same moment shares ONE load (single flight):
when the entry of a busy tenant lapses, hundreds of sends in flight would
otherwise each read the store for the same document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from chat_service.clock import Clock

__all__ = ["FreshFor"]

T = TypeVar("T")


class FreshFor(Generic[T]):
    """Values by key, each kept ``seconds`` after it was loaded; at most
    ``max_entries`` (all are dropped when full: they are cheap to reload)."""

    def __init__(self, clock: Clock, seconds: float, *, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._seconds = seconds
        self._max_entries = max_entries
        self._values: dict[str, tuple[float, T]] = {}
        self._loading: dict[str, asyncio.Future[T]] = {}
        # Bumped by put/forget: a load that started before them keeps its
        # answer to its own callers but does not overwrite the newer value.
        self._generation = 0

    async def get(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        kept = self._values.get(key)
        if kept is not None and self._clock.monotonic() < kept[0]:
            return kept[1]
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._load(key, load, self._generation))
            self._loading[key] = pending
        # Shielded: one caller giving up does not cancel the load the others wait for.
        return await asyncio.shield(pending)

    def put(self, key: str, value: T) -> None:
        """Remember a value this process just wrote."""
        self._generation += 1
        self._keep(key, value)

    def forget(self, key: str) -> None:
        self._generation += 1
        self._values.pop(key, None)

    async def _load(self, key: str, load: Callable[[], Awaitable[T]], generation: int) -> T:
        try:
            value = await load()
            if generation == self._generation:
                self._keep(key, value)
            return value
        finally:
            del self._loading[key]

    def _keep(self, key: str, value: T) -> None:
        if len(self._values) >= self._max_entries:
            self._values.clear()
        self._values[key] = (self._clock.monotonic() + self._seconds, value)
