"""The image pipeline's worker pool: the same results and refusals as
in-process, a responsive event loop, a memory cap, and a dead worker replaced."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from chat_service.attachments.images import (
    ImageLimits,
    ImageProcessor,
    ImageRejected,
    ImageTooLarge,
    process_image,
)
from chat_service.errors import Unavailable
from tests.attachments import images_factory as make

BAD_INPUTS = make.hostile_inputs()


@pytest.fixture(scope="module")
def processor() -> Iterator[ImageProcessor]:
    pool = ImageProcessor(ImageLimits(), max_workers=2)
    yield pool
    pool.close()


async def test_pool_returns_what_the_function_returns(processor: ImageProcessor) -> None:
    inputs = [make.quadrant_photo(), make.png_with_alpha(), make.heic_photo(), make.webp_photo()]
    results = await asyncio.gather(*(processor.process(data) for data in inputs))
    for data, pooled in zip(inputs, results, strict=True):
        assert pooled == process_image(data, ImageLimits())


async def test_pool_raises_the_same_refusals(processor: ImageProcessor) -> None:
    for name, data, code in BAD_INPUTS:
        with pytest.raises(ImageRejected) as caught:
            await processor.process(data)
        with pytest.raises(ImageRejected) as in_process:
            process_image(data, ImageLimits())
        local = in_process.value
        assert type(caught.value) is type(local), name
        assert (caught.value.code, caught.value.detail) == (code, local.detail), name


async def test_pool_keeps_the_event_loop_responsive(processor: ImageProcessor) -> None:
    photo = make.noisy_photo(3000, 2000)
    await processor.process(make.quadrant_photo())  # workers started and warm
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(processor.process(photo), processor.process(photo))
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    assert elapsed > 0.3, "the photo is too small to prove anything"
    assert max(gaps) < min(0.25, elapsed / 2), (max(gaps), elapsed)


async def test_worker_memory_cap_refuses_what_would_exceed_it() -> None:
    photo = make.noisy_photo(3000, 2000)
    capped = ImageProcessor(max_workers=1, worker_memory_bytes=110 * 1024 * 1024)
    try:
        with pytest.raises(ImageTooLarge):
            await capped.process(photo)
        small = await capped.process(make.quadrant_photo())  # the worker still serves
        assert small.width == 120
    finally:
        capped.close()
    default = ImageProcessor()
    assert default.worker_memory_bytes == 512 * 1024 * 1024 + 24 * 40_000_000
    default.close()


async def test_pool_survives_a_dead_worker() -> None:
    processor = ImageProcessor(max_workers=1)
    try:
        await processor.start()
        pool = processor._pool
        assert pool is not None
        for process in list(pool._processes.values()):  # type: ignore[attr-defined]
            process.kill()
        result = await processor.process(make.quadrant_photo())
        assert result.source_format == "jpeg"
        assert processor._pool is not pool
    finally:
        processor.close()
    with pytest.raises(Unavailable):
        await processor.process(make.quadrant_photo())
