"""This process's live connections, grouped by conversation ("rooms").

Joins the Redis channel of a conversation when its first local subscriber
arrives and leaves it with the last; routes each arriving event to the
subscribers; closes connections whose token expired; renews presence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError

from chat_service.clock import Clock
from chat_service.hub.connection import (
    CLOSE_GOING_AWAY,
    CLOSE_TOKEN_EXPIRED,
    Connection,
    FetchAfter,
    Subscription,
)
from chat_service.hub.fanout import RedisFanout
from chat_service.hub.presence import PresenceTracker

__all__ = ["Rooms"]

log = logging.getLogger(__name__)


class Rooms:
    def __init__(
        self,
        fanout: RedisFanout,
        presence: PresenceTracker,
        clock: Clock,
        fetch_after: FetchAfter,
        *,
        sweep_seconds: float,
        token_leeway: timedelta,
        observe_seq: Callable[[str, int], None],
        participants_changed: Callable[[str], None],
    ) -> None:
        self._fanout = fanout
        self._presence = presence
        self._clock = clock
        self._fetch = fetch_after
        self._sweep_seconds = sweep_seconds
        self._leeway = token_leeway
        # Live events keep this process's guess of each conversation's last seq fresh.
        self._observe_seq = observe_seq
        self._participants_changed = participants_changed
        self._rooms: dict[str, set[Subscription]] = defaultdict(set)
        self._connections: dict[str, Connection] = {}
        self._per_user: defaultdict[tuple[str, str], int] = defaultdict(int)
        # Conversations each user followed on this process while connected here,
        # so their "away" reaches all of them when their last connection closes.
        self._user_conversations: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        await self._fanout.start(self._on_event, self._resync_all)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="hub-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for conn in list(self._connections.values()):
            conn.terminate(CLOSE_GOING_AWAY, "server shutting down")
        with contextlib.suppress(Exception):
            await self._presence.release_all()
        await self._fanout.stop()

    # -- connections -------------------------------------------------------------

    def user_connections(self, tenant: str, user_id: str) -> int:
        return self._per_user.get((tenant, user_id), 0)

    async def add_connection(self, conn: Connection) -> None:
        self._connections[conn.conn_id] = conn
        self._per_user[(conn.principal.tenant, conn.principal.user_id)] += 1
        await self._presence.connected(conn.principal.tenant, conn.principal.user_id)

    async def remove_connection(self, conn: Connection) -> None:
        if self._connections.pop(conn.conn_id, None) is None:
            return
        conn.closed = True
        key = (conn.principal.tenant, conn.principal.user_id)
        self._per_user[key] -= 1
        if self._per_user[key] <= 0:
            del self._per_user[key]
        for sub in list(conn.subscriptions.values()):
            await self.leave(sub)
        try:
            await self._announce_departure(key)
        except (RedisError, OSError) as exc:
            # Presence expires by itself; a lost "away" is repaired at the next subscribe.
            log.warning(
                "presence cleanup failed for %s: %s", conn.principal.label, type(exc).__name__
            )

    async def _announce_departure(self, key: tuple[str, str]) -> None:
        if not await self._presence.disconnected(*key):
            return
        followed = self._user_conversations.pop(key, set())
        still_online = await self._presence.online(key[0], [key[1]])
        if not still_online[key[1]]:
            for conv_id in followed:
                await self.publish_presence(key[0], conv_id, key[1], "away")

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def room_count(self) -> int:
        return len(self._rooms)

    # -- subscriptions -----------------------------------------------------------

    async def join(
        self, conn: Connection, tenant: str, conv_id: str, after_seq: int
    ) -> Subscription:
        old = conn.subscriptions.get(conv_id)
        if old is not None:
            await self.leave(old)
        sub = Subscription(conn, tenant, conv_id, after_seq, self._fetch)
        channel = self._fanout.channel(tenant, conv_id)
        room = self._rooms[channel]
        room.add(sub)
        conn.subscriptions[conv_id] = sub
        self._user_conversations[(conn.principal.tenant, conn.principal.user_id)].add(conv_id)
        if len(room) == 1:
            await self._fanout.subscribe(channel)
        return sub

    async def leave(self, sub: Subscription) -> None:
        sub.cancel()
        sub.connection.subscriptions.pop(sub.conversation_id, None)
        channel = self._fanout.channel(sub.tenant, sub.conversation_id)
        room = self._rooms.get(channel)
        if room is None:
            return
        room.discard(sub)
        if not room:
            del self._rooms[channel]
            await self._fanout.unsubscribe(channel)

    async def publish(self, tenant: str, conv_id: str, event: dict[str, Any]) -> None:
        await self._fanout.publish(tenant, conv_id, event)

    async def publish_presence(self, tenant: str, conv_id: str, user_id: str, status: str) -> None:
        await self._fanout.publish(
            tenant,
            conv_id,
            {"type": "presence", "conversation_id": conv_id, "user_id": user_id, "status": status},
        )

    # -- events ------------------------------------------------------------------

    def _on_event(self, channel: str, event: dict[str, Any], raw: str) -> None:
        room = self._rooms.get(channel)
        if not room:
            return
        if event.get("type") == "message":
            seq = int(event["message"]["seq"])
            self._observe_seq(event["conversation_id"], seq)
            for sub in list(room):
                sub.offer_message(seq, raw)
            return
        if event.get("type") == "participants":
            self._participants_changed(event["conversation_id"])
        author = event.get("user_id")
        for sub in list(room):
            # Nobody needs to be told that they themselves are typing.
            if event.get("type") == "typing" and sub.connection.principal.user_id == author:
                continue
            sub.connection.enqueue(raw)

    async def _resync_all(self) -> None:
        """After Redis came back: events may have been lost; the store has them."""
        for room in list(self._rooms.values()):
            for sub in list(room):
                sub.catch_up()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_seconds)
            try:
                self.close_expired()
                await self._presence.renew()
            except Exception:
                log.exception("hub sweep failed")

    def expired(self, conn: Connection) -> bool:
        """Past the token's expiry plus the same leeway verification allows."""
        return conn.principal.expires_at + self._leeway <= self._clock.now()

    def close_expired(self) -> int:
        expired = [c for c in self._connections.values() if self.expired(c)]
        for conn in expired:
            conn.terminate(CLOSE_TOKEN_EXPIRED, "token_expired")
        return len(expired)
