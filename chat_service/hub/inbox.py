"""Frames one socket sent, waiting to be handled in order, apart from reading.

The socket's reader only queues frames here; a task handles them one after
the other and exists only while some wait (idle sockets keep no task). So a
slow store delays this socket's replies but never stops the reading: the
server still answers its pings, and the socket is not closed for a missed
heartbeat. At most ``limit`` frames wait; the one after that is refused
(``unavailable``, retryable) rather than held.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

__all__ = ["FrameInbox"]

Raw = str | bytes | None


class FrameInbox:
    __slots__ = ("_handle", "_limit", "_waiting", "_worker")

    def __init__(self, handle: Callable[[Raw], Awaitable[None]], *, limit: int) -> None:
        self._handle = handle
        self._limit = limit
        self._waiting: deque[Raw] | None = None
        self._worker: asyncio.Task[None] | None = None

    def put(self, raw: Raw) -> bool:
        """Queue one frame; False (and nothing queued) when ``limit`` wait already."""
        if self._waiting is None:
            self._waiting = deque()
        elif len(self._waiting) >= self._limit:
            return False
        self._waiting.append(raw)
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="frame-inbox")
        return True

    async def finish(self) -> None:
        """Wait until the frames already queued were handled."""
        if self._worker is not None:
            await asyncio.shield(self._worker)

    async def _work(self) -> None:
        try:
            while self._waiting:
                await self._handle(self._waiting.popleft())
        finally:
            self._worker = None
            self._waiting = None
