"""Who is online, across processes, expiring by itself when a process dies.

Each user has a sorted set ``{prefix}:{tenant}:presence:{user}`` whose members
are the ids of hub processes holding a live connection of theirs, scored by
the time that claim expires. Each process renews its claims every third of
the TTL; a process that dies simply stops renewing.
"""

from __future__ import annotations

from collections import Counter

from chat_service.clock import Clock
from chat_service.stores import Stores

__all__ = ["PresenceTracker"]


class PresenceTracker:
    def __init__(self, stores: Stores, clock: Clock, *, process_id: str, ttl_seconds: int) -> None:
        self._stores = stores
        self._clock = clock
        self._process_id = process_id
        self._ttl = ttl_seconds
        self._local: Counter[tuple[str, str]] = Counter()

    def _key(self, tenant: str, user_id: str) -> str:
        return self._stores.key(tenant, "presence", user_id)

    async def connected(self, tenant: str, user_id: str) -> None:
        self._local[(tenant, user_id)] += 1
        if self._local[(tenant, user_id)] == 1:
            await self._claim([(tenant, user_id)])

    async def disconnected(self, tenant: str, user_id: str) -> bool:
        """Returns True if the user has no connection left on this process."""
        self._local[(tenant, user_id)] -= 1
        if self._local[(tenant, user_id)] > 0:
            return False
        del self._local[(tenant, user_id)]
        await self._stores.redis.zrem(self._key(tenant, user_id), self._process_id)
        return True

    def local_connections(self, tenant: str, user_id: str) -> int:
        return self._local.get((tenant, user_id), 0)

    async def online(self, tenant: str, user_ids: list[str]) -> dict[str, bool]:
        now = self._clock.now().timestamp()
        pipe = self._stores.redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.zcount(self._key(tenant, user_id), now, "+inf")
        counts = await pipe.execute()
        return {u: int(c) > 0 for u, c in zip(user_ids, counts, strict=True)}

    async def renew(self) -> None:
        await self._claim(list(self._local))

    async def release_all(self) -> None:
        pipe = self._stores.redis.pipeline(transaction=False)
        for tenant, user_id in self._local:
            pipe.zrem(self._key(tenant, user_id), self._process_id)
        await pipe.execute()
        self._local.clear()

    async def _claim(self, users: list[tuple[str, str]]) -> None:
        if not users:
            return
        expires = self._clock.now().timestamp() + self._ttl
        pipe = self._stores.redis.pipeline(transaction=False)
        for i, (tenant, user_id) in enumerate(users, 1):
            key = self._key(tenant, user_id)
            pipe.zadd(key, {self._process_id: expires})
            pipe.zremrangebyscore(key, "-inf", expires - 2 * self._ttl)
            pipe.expire(key, self._ttl * 2)
            if i % 1000 == 0:
                await pipe.execute()
        await pipe.execute()
