"""Fixtures of the webhook tests: a manual clock, the webhook service, outbox
and dispatcher over the real store, a real local receiver, and the orders,
quotes and conversations services with the outbox hooked in (until
``chat_service/services.py`` wires it)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from chat_service.clock import ManualClock
from chat_service.orders.repository import OrderRepository
from chat_service.orders.service import OrderService
from chat_service.quotes.repository import QuoteRepository
from chat_service.quotes.service import QuoteService
from chat_service.services import Services
from chat_service.webhooks.delivery import DispatchLimits, WebhookDispatcher
from chat_service.webhooks.repository import WebhookRepository
from chat_service.webhooks.schemas import WebhookPut
from chat_service.webhooks.service import WebhookOutbox, WebhookService
from tests.fixtures.app import TenantKit
from tests.webhooks.receiver import Receiver, running_receiver

LIMITS = DispatchLimits(
    max_attempts=4, base_seconds=10, max_backoff_seconds=60, timeout_seconds=0.5, alert_after=3
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@dataclass
class Alerts:
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    fail_next: bool = False

    async def __call__(self, to: str, subject: str, text: str) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("smtp down")
        self.sent.append((to, subject, text))


@dataclass
class Hooks:
    webhooks: WebhookService
    outbox: WebhookOutbox
    dispatcher: WebhookDispatcher
    alerts: Alerts
    orders: OrderService
    quotes: QuoteService
    clock: ManualClock

    async def configure(self, kit: TenantKit, url: str, **extra: object) -> str:
        """Set the tenant's webhook; returns the secret."""
        created = await self.webhooks.put(kit.server, WebhookPut(url=url, **extra))  # type: ignore[arg-type]
        secret: str = created.secret  # type: ignore[attr-defined]
        return secret


def build_hooks(services: Services, clock: ManualClock, environment: str = "test") -> Hooks:
    db = services.stores.db
    webhooks = WebhookService(
        WebhookRepository(db),
        services.cipher,
        clock,
        environment=environment,  # type: ignore[arg-type]
    )
    outbox = WebhookOutbox(webhooks.repository, webhooks, clock)
    alerts = Alerts()
    dispatcher = WebhookDispatcher(
        webhooks, clock, alert=alerts, limits=LIMITS, rng=random.Random(7)
    )
    orders = OrderService(
        repository=OrderRepository(db),
        conversations=services.conversations,
        clock=clock,
        outbox=outbox,
    )
    quotes = QuoteService(
        repository=QuoteRepository(db),
        conversations=services.conversations,
        clock=clock,
        outbox=outbox,
    )
    # The message writer is built inside ConversationService; hook the outbox in.
    services.conversations._writer._outbox = outbox
    return Hooks(webhooks, outbox, dispatcher, alerts, orders, quotes, clock)


@pytest.fixture
async def hooks(services: Services, clock: ManualClock) -> Hooks:
    built = build_hooks(services, clock)
    await built.webhooks.repository.ensure_indexes()
    await built.orders._repo.ensure_indexes()
    await built.quotes.repository.ensure_indexes()
    return built


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as found:
        yield found
