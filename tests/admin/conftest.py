from collections.abc import AsyncIterator

import pytest

from chat_service.clock import ManualClock
from chat_service.config import Settings
from tests.admin.kit import ConsoleKit, admin_settings, running_console


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def kit(settings: Settings, manual_clock: ManualClock) -> AsyncIterator[ConsoleKit]:
    async with running_console(admin_settings(settings), manual_clock) as running:
        yield running
