"""Fixtures of the WebSocket tests.

One live server is shared by the package (its own event loop of package scope,
so every test module here is marked ``asyncio(loop_scope="package")``); each
test gets a fresh tenant on it, which isolates conversations, users, presence
and rate limits. ``start_hub`` starts a server of its own, for tests that
override settings or need a manual clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from chat_service.clock import Clock
from tests.fixtures.app import (
    LiveServer,
    create_tenant,
    drop_database,
    make_settings,
    start_live_server,
    stop_live_server,
)
from tests.fixtures.servers import RealServers
from tests.hub.helpers import Hub, StartHub


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def shared_live(real_servers: RealServers) -> AsyncIterator[LiveServer]:
    settings = make_settings(real_servers)
    server, task, live = await start_live_server(settings)
    yield live
    await stop_live_server(server, task)
    await drop_database(settings)


@pytest_asyncio.fixture(loop_scope="package")
async def hub(shared_live: LiveServer) -> AsyncIterator[Hub]:
    kit = Hub(shared_live, await create_tenant(shared_live.services))
    yield kit
    await kit.aclose()


@pytest_asyncio.fixture(loop_scope="package")
async def start_hub(real_servers: RealServers) -> AsyncIterator[StartHub]:
    """``await start_hub(clock=..., send_rate_per_minute=3)``: a server of its own."""
    started: list[tuple[Any, Any, Any, Hub]] = []

    async def start(*, clock: Clock | None = None, **overrides: object) -> Hub:
        settings = make_settings(real_servers, **overrides)
        server, task, live = await start_live_server(settings, clock)
        kit = Hub(live, await create_tenant(live.services))
        started.append((server, task, settings, kit))
        return kit

    yield start
    for server, task, settings, kit in reversed(started):
        await kit.aclose()
        await stop_live_server(server, task)
        await drop_database(settings)
