"""Per-socket stand-ins for the asyncio primitives uvicorn's WebSocket
protocol keeps for every connection.

uvicorn gives each socket an ``asyncio.Queue`` for inbound events (three
deques and an ``Event``, each ``Event`` with its own waiter deque) and an
``asyncio.Event`` for write flow control: ~3.8 KiB per socket, most of it
empty containers, at 15,000 idle sockets over 50 MiB. These two classes do
exactly what the protocol uses of them (``put_nowait``/``get``/``empty``;
``set``/``clear``/``is_set``/``wait``) and hold nothing while nothing waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

__all__ = ["LeanEvent", "LeanQueue"]

T = TypeVar("T")


class _Sleepers:
    """A wake-up shared by every task waiting; the future exists only while one waits."""

    __slots__ = ("_wakeup",)

    def __init__(self) -> None:
        self._wakeup: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def _sleep(self) -> None:
        if self._wakeup is None:
            self._wakeup = asyncio.get_running_loop().create_future()
        # Shielded: a waiter that is cancelled leaves the wake-up to the others.
        await asyncio.shield(self._wakeup)


class LeanQueue(_Sleepers, Generic[T]):
    """An unbounded FIFO; its deque exists only while items wait."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        super().__init__()
        self._items: deque[T] | None = None

    def put_nowait(self, item: T) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        self._wake()

    async def get(self) -> T:
        while not self._items:
            await self._sleep()
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0


class LeanEvent(_Sleepers):
    """A flag tasks can wait for."""

    __slots__ = ("_flag",)

    def __init__(self) -> None:
        super().__init__()
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        self._wake()

    def clear(self) -> None:
        self._flag = False

    async def wait(self) -> bool:
        while not self._flag:
            await self._sleep()
        return True
