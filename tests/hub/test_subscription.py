"""Unit tests of the per-connection send queue and the per-subscription
ordering, with in-memory send and fetch functions (no server, no sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chat_service.auth.principals import UserPrincipal
from chat_service.hub.connection import CLOSE_SLOW_CONSUMER, Connection, Subscription

TENANT = "t_0123456789abcdef"
CONV = "c_0123456789abcdef01234567"


class FakeSocket:
    """Records what a connection sends; sending can be paused."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: list[tuple[int, str]] = []
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def send_text(self, raw: str) -> None:
        await self.flowing.wait()
        self.sent.append(json.loads(raw))

    async def close(self, code: int, reason: str) -> None:
        self.closed.append((code, reason))

    def seqs(self) -> list[int]:
        return [f["message"]["seq"] for f in self.sent if f["type"] == "message"]


class Store:
    """The conversation log as the hub's fetch function sees it."""

    def __init__(self, count: int = 0) -> None:
        self.log = [message(seq) for seq in range(1, count + 1)]
        self.fetches: list[int] = []
        self.gate: asyncio.Event | None = None
        self.fail = False

    def append(self, count: int) -> list[int]:
        start = len(self.log) + 1
        self.log.extend(message(seq) for seq in range(start, start + count))
        return list(range(start, start + count))

    async def fetch(self, tenant: str, conv: str, after: int, limit: int) -> list[dict[str, Any]]:
        assert (tenant, conv) == (TENANT, CONV)
        self.fetches.append(after)
        if self.fail:
            raise RuntimeError("store down")
        page = [m for m in self.log if m["seq"] > after][:limit]
        if self.gate is not None:  # the query ran; its answer is on the way
            await self.gate.wait()
        return page


def message(seq: int) -> dict[str, Any]:
    return {"seq": seq, "text": f"m{seq}", "kind": "text"}


def live(seq: int) -> str:
    return json.dumps({"type": "message", "conversation_id": CONV, "message": message(seq)})


def connection(
    socket: FakeSocket, max_queue: int = 64, send: Callable[[str], Awaitable[None]] | None = None
) -> Connection:
    user = UserPrincipal(
        tenant=TENANT,
        user_id="buyer-1",
        name="Buyer",
        role="buyer",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return Connection(
        "conn1",
        user,
        send_text=send or socket.send_text,
        close=socket.close,
        max_queue=max_queue,
        origin="http://shop.test",
    )


async def settle() -> None:
    """Let the writer and catch-up tasks run until they wait for something."""
    for _ in range(50):
        await asyncio.sleep(0)


async def test_in_order_live_events_are_delivered_without_fetching() -> None:
    socket, store = FakeSocket(), Store()
    sub = Subscription(connection(socket), TENANT, CONV, 0, store.fetch, hold_seconds=0)
    for seq in (1, 2, 3):
        sub.offer_message(seq, live(seq))
    await settle()
    assert socket.seqs() == [1, 2, 3]
    assert store.fetches == []
    assert sub.last_seq == 3


async def test_duplicates_and_old_events_are_dropped() -> None:
    socket, store = FakeSocket(), Store()
    sub = Subscription(connection(socket), TENANT, CONV, 5, store.fetch, hold_seconds=0)
    for seq in (3, 5, 6, 6, 4, 7, 7):
        sub.offer_message(seq, live(seq))
    await settle()
    assert socket.seqs() == [6, 7]
    assert store.fetches == []


async def test_a_gap_triggers_a_catch_up_from_the_store() -> None:
    socket, store = FakeSocket(), Store(5)
    sub = Subscription(connection(socket), TENANT, CONV, 1, store.fetch, hold_seconds=0)
    sub.offer_message(5, live(5))  # 2, 3 and 4 were lost on the way
    await settle()
    assert store.fetches[0] == 1
    assert socket.seqs() == [2, 3, 4, 5]
    # Late copies of what the catch-up delivered change nothing.
    for seq in (3, 4, 5):
        sub.offer_message(seq, live(seq))
    store.append(1)
    sub.offer_message(6, live(6))
    await settle()
    assert socket.seqs() == [2, 3, 4, 5, 6]


async def test_events_during_catch_up_are_not_lost_or_repeated() -> None:
    socket, store = FakeSocket(), Store(3)
    store.gate = asyncio.Event()
    sub = Subscription(connection(socket), TENANT, CONV, 0, store.fetch, hold_seconds=0)
    sub.catch_up()
    await settle()
    assert store.fetches == [0]  # the first page is being read
    # Meanwhile 4 and 5 are stored and published, arriving out of order.
    store.append(2)
    sub.offer_message(5, live(5))
    sub.offer_message(4, live(4))
    store.gate.set()
    await settle()
    assert socket.seqs() == [1, 2, 3, 4, 5]
    assert store.fetches == [0, 3]  # it looked again for what arrived meanwhile
    sub.offer_message(6, live(6))
    await settle()
    assert socket.seqs() == [1, 2, 3, 4, 5, 6]


async def test_catch_up_pages_through_a_long_log() -> None:
    socket, store = FakeSocket(), Store(450)
    sub = Subscription(
        connection(socket, max_queue=1000), TENANT, CONV, 0, store.fetch, hold_seconds=0
    )
    sub.catch_up()
    await settle()
    assert socket.seqs() == list(range(1, 451))
    assert store.fetches == [0, 200, 400]


async def test_catch_up_waits_for_room_instead_of_overflowing_the_queue() -> None:
    socket, store = FakeSocket(), Store(100)
    conn = connection(socket, max_queue=8)
    socket.flowing.clear()
    sub = Subscription(conn, TENANT, CONV, 0, store.fetch, hold_seconds=0)
    sub.catch_up()
    await settle()
    assert conn.queued <= 8
    assert not conn.closed
    socket.flowing.set()
    await settle()
    assert socket.seqs() == list(range(1, 101))
    assert not conn.closed
    assert socket.closed == []


async def test_failed_catch_up_reports_resync_failed() -> None:
    socket, store = FakeSocket(), Store(3)
    store.fail = True
    sub = Subscription(connection(socket), TENANT, CONV, 0, store.fetch, hold_seconds=0)
    sub.offer_message(3, live(3))
    await settle()
    assert socket.sent == [
        {
            "type": "error",
            "code": "resync_failed",
            "detail": "could not load missed messages; resubscribe",
            "conversation_id": CONV,
        }
    ]
    assert sub.last_seq == 0  # nothing claimed as delivered


async def test_cancel_stops_a_running_catch_up() -> None:
    socket, store = FakeSocket(), Store(3)
    store.gate = asyncio.Event()
    sub = Subscription(connection(socket), TENANT, CONV, 0, store.fetch, hold_seconds=0)
    sub.catch_up()
    await settle()
    sub.cancel()
    store.gate.set()
    await settle()
    assert socket.sent == []


async def test_a_full_queue_closes_the_connection_as_slow_consumer() -> None:
    socket = FakeSocket()
    socket.flowing.clear()  # the peer stopped reading
    conn = connection(socket, max_queue=8)
    for i in range(9):  # the writer holds the first; eight fill the queue
        conn.enqueue({"type": "typing", "n": i})
        await settle()
    assert not conn.closed
    conn.enqueue({"type": "typing", "n": 9})
    await settle()
    assert conn.closed
    assert conn.queued == 0
    assert socket.closed == [(CLOSE_SLOW_CONSUMER, "slow_consumer")]
    conn.enqueue({"type": "typing", "n": 10})  # ignored once closed
    assert conn.queued == 0


async def test_a_failing_send_marks_the_connection_closed() -> None:
    async def broken(raw: str) -> None:
        raise ConnectionResetError

    socket = FakeSocket()
    conn = connection(socket, send=broken)
    conn.enqueue({"type": "pong"})
    conn.enqueue({"type": "pong"})
    await settle()
    assert conn.closed
    assert conn.queued == 0


@pytest.mark.parametrize("max_queue", [8, 32])
async def test_queue_bound_is_exact(max_queue: int) -> None:
    socket = FakeSocket()
    socket.flowing.clear()
    conn = connection(socket, max_queue=max_queue)
    conn.enqueue({"type": "pong"})
    await settle()  # the writer took the first frame and waits on the socket
    for _ in range(max_queue):
        conn.enqueue({"type": "pong"})
    assert (conn.queued, conn.closed) == (max_queue, False)
    conn.enqueue({"type": "pong"})
    assert conn.closed


async def test_an_event_that_overtakes_the_one_before_waits_for_it_without_fetching() -> None:
    socket, store = FakeSocket(), Store(3)
    sub = Subscription(connection(socket), TENANT, CONV, 0, store.fetch)  # the real hold
    for seq in (2, 3, 1):  # published by two hubs: 1 arrives last
        sub.offer_message(seq, live(seq))
    await settle()
    assert socket.seqs() == [1, 2, 3]
    assert store.fetches == []
    sub.offer_message(4, live(4))
    await settle()
    assert socket.seqs() == [1, 2, 3, 4]


async def test_a_gap_not_filled_during_the_hold_is_read_from_the_store_once() -> None:
    socket, store = FakeSocket(), Store(4)
    sub = Subscription(connection(socket), TENANT, CONV, 0, store.fetch, hold_seconds=0)
    sub.offer_message(3, live(3))  # 1 and 2 were lost
    sub.offer_message(4, live(4))
    await settle()
    assert store.fetches == [0]
    assert socket.seqs() == [1, 2, 3, 4]


async def test_too_many_held_events_fetch_at_once() -> None:
    socket, store = FakeSocket(), Store(100)
    sub = Subscription(connection(socket, max_queue=256), TENANT, CONV, 0, store.fetch)
    for seq in range(2, 101):  # 1 never comes; the hold is long, the bound is not
        sub.offer_message(seq, live(seq))
    await settle()
    assert store.fetches[0] == 0
    assert socket.seqs() == list(range(1, 101))
