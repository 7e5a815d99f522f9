"""Per-user rate limits shared by every process, as fixed windows in Redis.

The arithmetic is pure (:func:`window_of`, :func:`retry_after`); the counter
lives in Redis so two hub processes together still allow only ``limit``.
"""

from __future__ import annotations

from chat_service.clock import Clock
from chat_service.errors import RateLimited
from chat_service.stores import Stores

__all__ = ["RateLimiter", "retry_after", "window_of"]


def window_of(now_seconds: float, window_seconds: int) -> int:
    return int(now_seconds // window_seconds)


def retry_after(now_seconds: float, window_seconds: int) -> float:
    return (window_of(now_seconds, window_seconds) + 1) * window_seconds - now_seconds


class RateLimiter:
    def __init__(self, stores: Stores, clock: Clock) -> None:
        self._stores = stores
        self._clock = clock

    async def hit(
        self, tenant: str, user_id: str, action: str, *, limit: int, window_seconds: int = 60
    ) -> None:
        """Count one ``action``; raise :class:`RateLimited` past ``limit`` per window."""
        now = self._clock.now().timestamp()
        key = self._stores.key(tenant, "rl", action, user_id, str(window_of(now, window_seconds)))
        count, _ = await self._stores.redis_batch.execute(
            ("INCRBY", key, 1), ("EXPIRE", key, window_seconds * 2)
        )
        if isinstance(count, Exception):
            raise count
        if int(count) > limit:
            raise RateLimited(
                f"at most {limit} {action} per {window_seconds}s",
                retry_after=retry_after(now, window_seconds),
            )
