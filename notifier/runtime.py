"""One event loop, one set of services and one notifier per worker process.

Celery tasks are synchronous; each runs its coroutine on this loop. Built on
the first task inside the worker process (after the fork), never at import.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from chat_service.services import Services, build_services
from notifier.app import settings_of
from notifier.delivery import AwayNotifier
from notifier.inbound.config import InboundSettings
from notifier.inbound.wiring import reply_addresses
from notifier.wiring import build_notifier

__all__ = ["Runtime", "close_runtime", "runtime_for"]

T = TypeVar("T")
_lock = threading.Lock()
_runtimes: dict[int, Runtime] = {}


class Runtime:
    def __init__(self, app: Any) -> None:
        settings, notifier_settings = settings_of(app)
        self.loop = asyncio.new_event_loop()
        self.services: Services = self.loop.run_until_complete(build_services(settings))
        # Away emails carry a reply address when the policy allows replies.
        self.notifier: AwayNotifier = build_notifier(
            self.services,
            notifier_settings,
            reply_address=reply_addresses(
                self.services, InboundSettings(environment=settings.environment)
            ),
        )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.loop.run_until_complete(self.services.close())
        self.loop.close()


def runtime_for(app: Any) -> Runtime:
    with _lock:
        found = _runtimes.get(id(app))
        if found is None:
            found = _runtimes[id(app)] = Runtime(app)
        return found


def close_runtime(app: Any) -> None:
    with _lock:
        found = _runtimes.pop(id(app), None)
    if found is not None:
        found.close()
