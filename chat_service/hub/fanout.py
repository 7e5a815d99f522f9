"""Redis pub/sub between hub processes: one channel per conversation.

``publish`` sends an event to ``{prefix}:{tenant}:conv:{id}``. Each process
subscribes to the channels of conversations it has live subscribers for and
hands arriving events to its :class:`~chat_service.hub.rooms.Rooms`. Pub/sub is
at most once; the store and ``seq`` repair anything lost, and after a Redis
reconnect every local subscription catches up from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from chat_service.stores import Stores

__all__ = ["RedisFanout"]

log = logging.getLogger(__name__)
EventHandler = Callable[[str, dict[str, Any], str], None]


class RedisFanout:
    """Implements :class:`~chat_service.conversations.events.EventPublisher`."""

    def __init__(self, stores: Stores, *, control_channel: str) -> None:
        self._stores = stores
        self._control = control_channel
        self._channels: set[str] = set()
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._handler: EventHandler | None = None
        self._on_reconnect: Callable[[], Awaitable[None]] | None = None
        self._ready = asyncio.Event()

    def channel(self, tenant: str, conversation_id: str) -> str:
        return self._stores.key(tenant, "conv", conversation_id)

    async def publish(self, tenant: str, conversation_id: str, event: dict[str, Any]) -> None:
        payload = orjson.dumps(event)
        try:
            await self._stores.redis_batch.execute(
                ("PUBLISH", self.channel(tenant, conversation_id), payload)
            )
        except (RedisError, OSError):
            # Stored already; subscribers catch up from the store.
            log.warning("publish failed for conversation %s", conversation_id)

    async def start(
        self, handler: EventHandler, on_reconnect: Callable[[], Awaitable[None]]
    ) -> None:
        self._handler = handler
        self._on_reconnect = on_reconnect
        self._task = asyncio.create_task(self._run(), name="fanout-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(channel)
            except RedisError:
                log.warning("subscribe failed; the listener will resubscribe")

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(channel)
            except RedisError:
                log.warning("unsubscribe failed")

    async def _run(self) -> None:
        backoff = 0.1
        first = True
        while True:
            try:
                self._pubsub = self._stores.redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(self._control, *self._channels)
                self._ready.set()
                if not first and self._on_reconnect is not None:
                    await self._on_reconnect()
                first = False
                backoff = 0.1
                async for message in self._pubsub.listen():
                    self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("fan-out listener lost Redis (%s); reconnecting", type(exc).__name__)
                if self._pubsub is not None:
                    with contextlib.suppress(Exception):
                        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message" or self._handler is None:
            return
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        try:
            raw = message["data"].decode("utf-8")
            self._handler(channel, orjson.loads(raw), raw)
        except Exception:
            log.exception("dropping a malformed fan-out event on %s", channel)
