"""Rate-limit arithmetic (pure) and the shared Redis counter."""

import pytest

from chat_service.clock import ManualClock
from chat_service.errors import RateLimited
from chat_service.hub.ratelimit import RateLimiter, retry_after, window_of
from chat_service.services import Services


def test_window_arithmetic() -> None:
    assert window_of(119.9, 60) == 1
    assert window_of(120.0, 60) == 2
    assert retry_after(119.5, 60) == pytest.approx(0.5)


async def test_limit_is_shared_and_resets_with_the_window(services: Services) -> None:
    clock = ManualClock()
    clock.advance(-clock.now().timestamp() % 60)  # start of a window
    one = RateLimiter(services.stores, clock)
    two = RateLimiter(services.stores, clock)  # e.g. another hub process
    for limiter in (one, two, one):
        await limiter.hit("t_x", "u1", "send", limit=3)
    with pytest.raises(RateLimited) as info:
        await two.hit("t_x", "u1", "send", limit=3)
    assert 0 < info.value.retry_after <= 60
    await one.hit("t_x", "u2", "send", limit=3)  # other users are unaffected
    clock.advance(60)
    await one.hit("t_x", "u1", "send", limit=3)
