"""Opening the store and Redis clients: how long a call waits for a store that is gone."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError
from pymongo.errors import ServerSelectionTimeoutError

from chat_service.config import Settings
from chat_service.stores import open_stores


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("seconds", [0.1, 61])
def test_the_store_wait_is_bounded(seconds: float) -> None:
    with pytest.raises(ValidationError):
        Settings(environment="development", store_wait_seconds=seconds)


async def test_a_call_to_an_unreachable_store_fails_after_the_configured_wait() -> None:
    settings = Settings(
        environment="development",
        mongo_url=f"mongodb://127.0.0.1:{_closed_port()}/?directConnection=true",
        redis_url=f"redis://127.0.0.1:{_closed_port()}/0",
        store_wait_seconds=0.2,
    )
    stores = await open_stores(settings)
    try:
        assert stores.mongo.options.server_selection_timeout == 0.2
        with pytest.raises(ServerSelectionTimeoutError):
            await stores.db.command("ping")
        assert await stores.ping() == {"store": False, "redis": False}
    finally:
        await stores.close()
