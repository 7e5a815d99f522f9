"""The per-process memory of store values: fresh for a while, one load per miss."""

from __future__ import annotations

import asyncio

import pytest

from chat_service.caching import FreshFor
from chat_service.clock import ManualClock


class Loads:
    """Counts loads; each waits for ``release`` so callers can pile up."""

    def __init__(self) -> None:
        self.count = 0
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self) -> str:
        self.count += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError("store down")
        return f"value {self.count}"


async def test_callers_that_miss_together_share_one_load() -> None:
    cache: FreshFor[str] = FreshFor(ManualClock(), 2.0)
    loads = Loads()
    waiting = [asyncio.ensure_future(cache.get("t1", loads)) for _ in range(50)]
    await asyncio.sleep(0)
    loads.release.set()
    assert await asyncio.gather(*waiting) == ["value 1"] * 50
    assert loads.count == 1


async def test_a_value_is_reloaded_only_after_it_lapsed() -> None:
    clock = ManualClock()
    cache: FreshFor[str] = FreshFor(clock, 2.0)
    loads = Loads()
    loads.release.set()
    assert await cache.get("t1", loads) == "value 1"
    clock.advance(1.9)
    assert await cache.get("t1", loads) == "value 1"
    clock.advance(0.2)
    assert await cache.get("t1", loads) == "value 2"
    assert await cache.get("t2", loads) == "value 3"


async def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
    cache: FreshFor[str] = FreshFor(ManualClock(), 2.0)
    loads = Loads()
    loads.fail = True
    waiting = [asyncio.ensure_future(cache.get("t1", loads)) for _ in range(3)]
    await asyncio.sleep(0)
    loads.release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    loads.fail = False
    assert await cache.get("t1", loads) == "value 2"


async def test_a_put_wins_over_a_load_that_started_before_it() -> None:
    cache: FreshFor[str] = FreshFor(ManualClock(), 2.0)
    loads = Loads()
    stale = asyncio.ensure_future(cache.get("t1", loads))
    await asyncio.sleep(0)
    cache.put("t1", "written here")
    loads.release.set()
    assert await stale == "value 1"  # its own caller gets what it read
    assert await cache.get("t1", loads) == "written here"
    cache.forget("t1")
    assert await cache.get("t1", loads) == "value 2"


async def test_one_caller_giving_up_does_not_cancel_the_shared_load() -> None:
    cache: FreshFor[str] = FreshFor(ManualClock(), 2.0)
    loads = Loads()
    impatient = asyncio.ensure_future(cache.get("t1", loads))
    patient = asyncio.ensure_future(cache.get("t1", loads))
    await asyncio.sleep(0)
    impatient.cancel()
    loads.release.set()
    assert await patient == "value 1"
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert loads.count == 1


async def test_a_full_memory_starts_over() -> None:
    cache: FreshFor[str] = FreshFor(ManualClock(), 60.0, max_entries=2)
    loads = Loads()
    loads.release.set()
    for key in ("a", "b", "c"):
        await cache.get(key, loads)
    assert await cache.get("c", loads) == "value 3"
    assert await cache.get("a", loads) == "value 4"
