"""The lean queue and event uvicorn's WebSocket protocol gets per socket."""

from __future__ import annotations

import asyncio

from chat_service.cli.lean_primitives import LeanEvent, LeanQueue


async def test_the_queue_is_first_in_first_out_and_wakes_a_waiting_getter() -> None:
    queue: LeanQueue[int] = LeanQueue()
    assert queue.empty() and queue.qsize() == 0
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    for i in range(3):
        queue.put_nowait(i)
    assert await getter == 0
    assert queue.qsize() == 2 and not queue.empty()
    assert [await queue.get(), await queue.get()] == [1, 2]
    assert queue.empty() and queue._items is None  # nothing kept while empty


async def test_a_cancelled_getter_does_not_take_the_wakeup_from_another() -> None:
    queue: LeanQueue[str] = LeanQueue()
    impatient = asyncio.ensure_future(queue.get())
    patient = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    queue.put_nowait("x")
    assert await asyncio.wait_for(patient, 1) == "x"
    assert impatient.cancelled()


async def test_the_event_wakes_every_waiter_and_can_be_cleared_again() -> None:
    event = LeanEvent()
    assert not event.is_set()
    waiters = [asyncio.ensure_future(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert await event.wait() is True  # set: returns at once
    event.clear()
    late = asyncio.ensure_future(event.wait())
    await asyncio.sleep(0)
    assert not late.done()
    event.set()
    assert await asyncio.wait_for(late, 1) is True
    assert event._wakeup is None  # nothing kept while nobody waits
