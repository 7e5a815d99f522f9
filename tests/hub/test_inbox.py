"""The per-socket inbox: frames handled one at a time, in order, by a task
that exists only while frames wait."""

from __future__ import annotations

import asyncio

from chat_service.hub.inbox import FrameInbox


class Handler:
    def __init__(self) -> None:
        self.handled: list[str] = []
        self.gate = asyncio.Event()
        self.running = 0
        self.most_at_once = 0

    async def __call__(self, raw: str | bytes | None) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await self.gate.wait()
        self.handled.append(str(raw))
        self.running -= 1


async def test_frames_are_handled_one_at_a_time_in_order() -> None:
    handler = Handler()
    inbox = FrameInbox(handler, limit=10)
    assert all(inbox.put(f"f{i}") for i in range(10))
    await asyncio.sleep(0)
    handler.gate.set()
    await inbox.finish()
    assert handler.handled == [f"f{i}" for i in range(10)]
    assert handler.most_at_once == 1


async def test_past_the_limit_a_frame_is_refused_and_nothing_is_queued() -> None:
    handler = Handler()
    inbox = FrameInbox(handler, limit=3)
    assert [inbox.put(f"f{i}") for i in range(4)] == [True, True, True, False]
    await asyncio.sleep(0)  # the worker takes f0: one place frees up
    assert inbox.put("f4") is True
    assert inbox.put("f5") is False
    handler.gate.set()
    await inbox.finish()
    assert handler.handled == ["f0", "f1", "f2", "f4"]


async def test_an_idle_inbox_keeps_no_task_or_queue() -> None:
    handler = Handler()
    handler.gate.set()
    inbox = FrameInbox(handler, limit=3)
    for round_ in range(3):
        inbox.put(f"r{round_}")
        await inbox.finish()
        assert inbox._worker is None and inbox._waiting is None
    await inbox.finish()  # nothing waits: returns at once
    assert handler.handled == ["r0", "r1", "r2"]
