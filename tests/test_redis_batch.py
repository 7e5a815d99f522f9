"""Concurrent Redis commands sent together, against the real Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from chat_service.redis_batch import RedisBatch
from chat_service.services import Services


async def test_each_caller_gets_its_own_replies_in_order(services: Services) -> None:
    batch = RedisBatch(services.stores.redis, max_commands=7)
    key = services.stores.key("t_batch", "n")
    replies = await asyncio.gather(
        *(batch.execute(("INCRBY", key, 1), ("GET", key)) for _ in range(40))
    )
    counts = [int(r[0]) for r in replies]
    assert sorted(counts) == list(range(1, 41))
    # The commands ran in the order they were queued: each GET saw its own INCRBY.
    assert counts == list(range(1, 41))
    assert all(int(got) == count for (count, got) in replies)


async def test_publishes_on_one_channel_arrive_in_call_order(services: Services) -> None:
    batch = RedisBatch(services.stores.redis)
    channel = services.stores.key("t_batch", "conv", "c1")
    pubsub = services.stores.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    try:
        await asyncio.gather(*(batch.execute(("PUBLISH", channel, str(i))) for i in range(100)))
        received: list[int] = []
        for _ in range(1000):  # None answers the (ignored) subscribe confirmation
            if len(received) == 100:
                break
            message = await pubsub.get_message(timeout=5)
            if message is not None:
                received.append(int(message["data"]))
        assert received == list(range(100))
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def test_a_refused_command_is_returned_to_its_caller_only(services: Services) -> None:
    batch = RedisBatch(services.stores.redis)
    text_key = services.stores.key("t_batch", "text")
    counter = services.stores.key("t_batch", "counter")
    await services.stores.redis.set(text_key, "not a number")
    bad, good = await asyncio.gather(
        batch.execute(("INCRBY", text_key, 1)), batch.execute(("INCRBY", counter, 1))
    )
    assert isinstance(bad[0], ResponseError)
    assert good == [1]


async def test_a_lost_connection_fails_every_caller_and_the_next_call_works(
    services: Services,
) -> None:
    unreachable = aioredis.Redis(port=1, socket_connect_timeout=1, retry=None)
    batch = RedisBatch(unreachable)
    results = await asyncio.gather(
        batch.execute(("PING",)), batch.execute(("PING",)), return_exceptions=True
    )
    assert all(isinstance(r, RedisConnectionError) for r in results)
    with pytest.raises(RedisConnectionError):
        await batch.execute(("PING",))
    await unreachable.aclose()
    working = RedisBatch(services.stores.redis)
    assert await working.execute(("PING",)) == [True]
