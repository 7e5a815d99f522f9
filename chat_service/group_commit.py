"""Group commit: what concurrent callers queue goes out together.

One writer task exists while anything is queued; each ``_flush`` takes a lot
from the queue and sends it in one round trip, and the next lot is what was
queued meanwhile. No artificial delay when idle, bigger lots under load. Used
for message inserts (``conversations.batching``) and Redis commands
(``redis_batch``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: deque[T] = deque()
        self._writer: asyncio.Task[None] | None = None

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
