"""Clients for the real parts: MongoDB (PyMongo async) and Redis.

Created in the app's lifespan or a command's ``main``, closed on the way out.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from chat_service.config import Settings
from chat_service.redis_batch import RedisBatch

__all__ = ["Document", "Stores", "open_stores"]

Document = dict[str, Any]


@dataclass
class Stores:
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    redis: aioredis.Redis
    redis_prefix: str
    # One per process: every caller's commands share its pipelines.
    redis_batch: RedisBatch = field(init=False)

    def __post_init__(self) -> None:
        self.redis_batch = RedisBatch(self.redis)

    def key(self, *parts: str) -> str:
        """A namespaced Redis key, e.g. ``chat:{tenant}:conv:{id}``."""
        return ":".join((self.redis_prefix, *parts))

    async def ping(self) -> dict[str, bool]:
        """Readiness of each part; reports, never raises."""
        status = {"store": False, "redis": False}
        with contextlib.suppress(Exception):
            await self.db.command("ping")
            status["store"] = True
        with contextlib.suppress(Exception):
            status["redis"] = bool(await self.redis.ping())
        return status

    async def close(self) -> None:
        await self.redis.aclose()
        await self.mongo.close()


async def open_stores(settings: Settings) -> Stores:
    mongo: AsyncMongoClient[Document] = AsyncMongoClient(
        settings.mongo_url,
        tz_aware=True,
        serverSelectionTimeoutMS=round(settings.store_wait_seconds * 1000),
        connect=False,
        maxPoolSize=settings.mongo_max_pool_size,
    )
    # A bounded pool that makes callers wait for a connection instead of failing
    # when thousands of sockets close (and clean up presence) at once.
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=10,
        health_check_interval=30,
    )
    redis_client = aioredis.Redis(connection_pool=pool, decode_responses=False)
    stores = Stores(
        mongo=mongo,
        db=mongo[settings.mongo_db],
        redis=redis_client,
        redis_prefix=settings.redis_prefix,
    )
    return stores
