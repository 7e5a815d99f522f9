"""Group commit: what concurrent callers queue goes out together.

One writer task exists while anything is queued; each ``_flush`` takes a lot
from the queue and sends it in one round trip, and the next lot is what was
queued meanwhile. No artificial delay when idle, bigger lots under load. Used
for message inserts (``conversations.batching``), read marks
(``conversations.read_marks``) and Redis commands (``redis_batch``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["GroupCommit", "LotWriter", "Settles"]

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: deque[T] = deque()
        self._writer: asyncio.Task[None] | None = None

    def _take(self, limit: int) -> list[T]:
        """Up to ``limit`` queued items, oldest first: the next lot."""
        return [self._queue.popleft() for _ in range(min(limit, len(self._queue)))]

    def _submit(self, item: T) -> None:
        """Queue ``item``; starts the writer if none runs."""
        self._queue.append(item)
        if self._writer is None:
            self._writer = asyncio.create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        try:
            while self._queue:
                await self._flush()
        finally:
            self._writer = None

    async def _flush(self) -> None:
        """Take some of the queue and send it; must not raise for one lot."""
        raise NotImplementedError


class Settles(Protocol):
    """A queued item whose caller waits on ``future``."""

    @property
    def future(self) -> asyncio.Future[Any]: ...


S = TypeVar("S", bound=Settles)


class LotWriter(GroupCommit[S]):
    """Group commit whose items each carry their caller's future: a lot of at
    most ``max_batch`` is written by ``_write``, which settles the futures; if
    it raises, every caller still waiting gets ``_failure(exc)``."""

    def __init__(self, name: str, *, max_batch: int) -> None:
        super().__init__(name)
        self._max_batch = max_batch

    async def _flush(self) -> None:
        batch = self._take(self._max_batch)
        try:
            await self._write(batch)
        except Exception as exc:
            error = self._failure(exc)
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)

    async def _write(self, batch: list[S]) -> None:
        raise NotImplementedError

    def _failure(self, exc: Exception) -> BaseException:
        return exc
