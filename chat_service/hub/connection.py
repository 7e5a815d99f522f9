"""One live WebSocket: its bounded send queue and its subscriptions.

There is no backpressure towards other connections: each connection has a
queue of at most ``max_queue`` frames, drained by a writer task that exists
only while there is something to send. A reader that falls that far behind is
disconnected (close code 4008, ``slow_consumer``) instead of growing memory;
it resumes from its last ``seq`` when it reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from chat_service.auth.principals import UserPrincipal
from chat_service.hub.protocol import encode

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_POLICY",
    "CLOSE_SLOW_CONSUMER",
    "CLOSE_TOKEN_EXPIRED",
    "Connection",
    "Subscription",
]

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_TOKEN_EXPIRED = 4001
CLOSE_SLOW_CONSUMER = 4008
CLOSE_GOING_AWAY = 1001

SendText = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int, str], Awaitable[None]]
FetchAfter = Callable[[str, str, int, int], Awaitable[list[dict[str, Any]]]]
_SYNC_PAGE = 200
# Two hubs writing one conversation publish in the order their inserts finish,
# so a live event can overtake the one before it by a few milliseconds. Such an
# event waits this long for the missing ones before the store is asked; every
# subscriber asking at once (a group of 50) is what this saves.
REORDER_HOLD_SECONDS = 0.3
_HOLD_MAX = 64


class Connection:
    __slots__ = (
        "_close",
        "_closing",
        "_queue",
        "_room",
        "_send",
        "_writer",
        "closed",
        "conn_id",
        "max_queue",
        "origin",
        "principal",
        "subscriptions",
    )

    def __init__(
        self,
        conn_id: str,
        principal: UserPrincipal,
        *,
        send_text: SendText,
        close: CloseSocket,
        max_queue: int,
        origin: str,
    ) -> None:
        self.conn_id = conn_id
        self.principal = principal
        self.origin = origin
        self.max_queue = max_queue
        self.subscriptions: dict[str, Subscription] = {}
        self.closed = False
        self._send = send_text
        self._close = close
        # Created on first use: an empty deque is ~760 bytes, times every idle socket.
        self._queue: deque[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._room: asyncio.Event | None = None

    async def wait_for_room(self) -> None:
        """For bulk senders (catch-up): wait until the queue is at most half full."""
        while self.queued > self.max_queue // 2 and not self.closed:
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()

    def enqueue(self, frame: dict[str, Any] | str) -> None:
        if self.closed:
            return
        if self._queue is None:
            self._queue = deque()
        elif len(self._queue) >= self.max_queue:
            log.warning("closing slow consumer %s (%s)", self.conn_id, self.principal.label)
            self.terminate(CLOSE_SLOW_CONSUMER, "slow_consumer")
            return
        self._queue.append(frame if isinstance(frame, str) else encode(frame))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())

    @property
    def queued(self) -> int:
        return 0 if self._queue is None else len(self._queue)

    def terminate(self, code: int, reason: str) -> None:
        """Close from anywhere without awaiting; pending frames are dropped."""
        if self.closed:
            return
        self.closed = True
        self._queue = None
        if self._writer is not None:
            self._writer.cancel()
        if self._room is not None:
            self._room.set()
        self._closing = asyncio.create_task(self._close_quietly(code, reason))

    async def wait_closed(self) -> None:
        """Until the close frame of :meth:`terminate` went out (or was given up).

        The socket handler awaits this before returning: once it returns, the
        server drops the TCP connection, and a close frame not yet sent would
        reach the client as 1006 instead of its code (4001, 4008).
        """
        if self._closing is not None:
            await self._closing

    async def _close_quietly(self, code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(self._close(code, reason), timeout=5)
        except Exception:
            log.debug("close of %s did not complete", self.conn_id)

    async def _drain(self) -> None:
        try:
            while self._queue and not self.closed:
                await self._send(self._queue.popleft())
                if self._room is not None and self.queued <= self.max_queue // 2:
                    self._room.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.closed = True
            self._queue = None
        finally:
            self._writer = None
            if self._queue is not None and not self._queue:
                self._queue = None  # an idle connection holds no empty deque
            if self._room is not None:
                self._room.set()


class Subscription:
    """Delivers one conversation's log to one connection in order, exactly once.

    Live events carry a ``seq``; anything already delivered is dropped. An event
    that jumps ahead is held up to ``hold_seconds`` for the ones before it (a
    reordered publish); if they do not come (a lost publish), or too many are
    held, a catch-up reads the store, which holds every entry before its
    ``seq`` is ever published.
    """

    __slots__ = (
        "_events_during_sync",
        "_fetch",
        "_held",
        "_hold_seconds",
        "_hold_timer",
        "_sync_task",
        "connection",
        "conversation_id",
        "last_seq",
        "tenant",
    )

    def __init__(
        self,
        connection: Connection,
        tenant: str,
        conversation_id: str,
        after_seq: int,
        fetch: FetchAfter,
        *,
        hold_seconds: float = REORDER_HOLD_SECONDS,
    ) -> None:
        self.connection = connection
        self.tenant = tenant
        self.conversation_id = conversation_id
        self.last_seq = after_seq
        self._fetch = fetch
        self._sync_task: asyncio.Task[None] | None = None
        self._events_during_sync = False
        self._hold_seconds = hold_seconds
        self._held: dict[int, str] | None = None  # only while events wait
        self._hold_timer: asyncio.TimerHandle | None = None

    def offer_message(self, seq: int, raw: str) -> None:
        if seq <= self.last_seq:
            return
        if self._sync_task is None and seq == self.last_seq + 1:
            self.last_seq = seq
            self.connection.enqueue(raw)
            if self._held is not None:
                self._release_held()
            return
        if self._sync_task is None and (self._held is None or len(self._held) < _HOLD_MAX):
            if self._held is None:
                self._held = {}
                self._hold_timer = asyncio.get_running_loop().call_later(
                    self._hold_seconds, self._hold_expired
                )
            self._held[seq] = raw
            return
        self._events_during_sync = True
        self.catch_up()

    def _release_held(self) -> None:
        """Deliver held events that now follow on; stop holding once none wait."""
        held = self._held
        assert held is not None
        while (raw := held.pop(self.last_seq + 1, None)) is not None:
            self.last_seq += 1
            self.connection.enqueue(raw)
        for seq in [s for s in held if s <= self.last_seq]:
            del held[seq]
        if not held:
            self._drop_held()

    def _drop_held(self) -> None:
        self._held = None
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None

    def _hold_expired(self) -> None:
        self._hold_timer = None
        if self._held:
            self._events_during_sync = True
            self.catch_up()

    def catch_up(self) -> None:
        """Deliver from the store everything after ``last_seq``, then continue live."""
        self._drop_held()  # the store has them too
        if self._sync_task is None and not self.connection.closed:
            self._sync_task = asyncio.create_task(self._sync())

    async def _sync(self) -> None:
        try:
            while not self.connection.closed:
                self._events_during_sync = False
                page = await self._fetch(
                    self.tenant, self.conversation_id, self.last_seq, _SYNC_PAGE
                )
                for message in page:
                    if message["seq"] > self.last_seq:
                        await self.connection.wait_for_room()
                        self.last_seq = message["seq"]
                        self.connection.enqueue(
                            {
                                "type": "message",
                                "conversation_id": self.conversation_id,
                                "message": message,
                            }
                        )
                if len(page) < _SYNC_PAGE and not self._events_during_sync:
                    break
        except Exception:
            log.exception("catch-up failed for %s", self.conversation_id)
            self.connection.enqueue(
                {
                    "type": "error",
                    "code": "resync_failed",
                    "detail": "could not load missed messages; resubscribe",
                    "conversation_id": self.conversation_id,
                }
            )
        finally:
            self._sync_task = None

    def cancel(self) -> None:
        self._drop_held()
        if self._sync_task is not None:
            self._sync_task.cancel()
