"""Redis commands of concurrent callers sent together, one pipeline per round trip.

Under load a hub publishes and counts hundreds of times a second; each command
on its own costs a pooled connection, a write and a read. Here callers queue
their commands and one writer task sends whatever is queued as one pipeline
(no transaction), then the next lot while that one was in flight: no wait when
idle, bigger batches under load. Commands go out in the order they were
queued, so two events published on one channel keep their order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from chat_service.group_commit import GroupCommit

__all__ = ["RedisBatch"]

Command = tuple[Any, ...]
_Queued = tuple[tuple[Command, ...], asyncio.Future[list[Any]]]


class RedisBatch(GroupCommit[_Queued]):
    def __init__(self, redis: aioredis.Redis, *, max_commands: int = 512) -> None:
        super().__init__("redis-batch")
        self._redis = redis
        self._max_commands = max_commands

    async def execute(self, *commands: Command) -> list[Any]:
        """Run ``commands`` (each ``("NAME", arg, ...)``) in order; their replies.

        A command Redis refused has its error in the list; a lost connection
        raises for every caller in the batch (``RedisError`` or ``OSError``)."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._submit((commands, future))
        return await future

    async def _flush(self) -> None:
        batch: list[_Queued] = []
        count = 0
        while self._queue and (not batch or count < self._max_commands):
            item = self._queue.popleft()
            batch.append(item)
            count += len(item[0])
        pipe = self._redis.pipeline(transaction=False)
        for commands, _ in batch:
            for command in commands:
                pipe.execute_command(*command)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # handed to every caller, who decides
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for commands, future in batch:
            if not future.done():
                future.set_result(replies[start : start + len(commands)])
            start += len(commands)
