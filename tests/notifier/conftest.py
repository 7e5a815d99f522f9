"""Fixtures of the notifier tests: a manual clock, a real SMTP sink, the notifier."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chat_service.auth.principals import Role, ServerPrincipal, UserPrincipal
from chat_service.clock import Clock, ManualClock
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.notifications.repository import NotificationRepository, notification_id
from chat_service.notifications.service import PendingNotifications
from chat_service.services import Services
from notifier.config import NotifierSettings
from notifier.delivery import AwayNotifier, Outcome
from notifier.wiring import build_notifier
from tests.fixtures.app import TenantKit
from tests.notifier.smtp_sink import Sink, SinkServer

ORDER = "QZ-1042-X"
TITLE = "Blue velvet armchair"


@pytest.fixture
def clock() -> Clock:
    return ManualClock()


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = SinkServer()
    yield server.start()
    server.stop()


def notifier_settings(sink: Sink, **overrides: object) -> NotifierSettings:
    values: dict[str, object] = {
        "environment": "test",
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port,
        "smtp_timeout_seconds": 5.0,
        "mail_from": "Shop notifications <notify@shop.test>",
        "retry_base_seconds": 10.0,
        "retry_max_seconds": 600.0,
        "send_max_retries": 3,
    }
    values.update(overrides)
    return NotifierSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def notifier(services: Services, sink: Sink) -> AwayNotifier:
    return build_notifier(services, notifier_settings(sink))


@pytest.fixture
async def pending(services: Services) -> PendingNotifications:
    repository = NotificationRepository(services.stores.db)
    await repository.ensure_indexes()
    return PendingNotifications(repository)


@dataclass
class Chat:
    """One order conversation between a buyer and a seller, with helpers."""

    services: Services
    tenant: TenantKit
    pending: PendingNotifications
    conv_id: str
    sent: int = 0

    def user(self, user_id: str, role: Role) -> UserPrincipal:
        return UserPrincipal(
            tenant=self.tenant.id,
            user_id=user_id,
            name=user_id,
            role=role,
            expires_at=self.services.clock.now().replace(year=2099),
        )

    async def send(self, user_id: str, role: Role, text: str) -> int:
        """Send as ``user_id`` and record the notification, as the writer hook does."""
        services = self.services
        self.sent += 1
        result = await services.conversations.send(
            self.user(user_id, role),
            self.conv_id,
            client_msg_id=f"m{self.sent}",
            text=text,
        )
        conv = await services.conversations.check_access(
            ServerPrincipal(tenant=self.tenant.id), self.conv_id
        )
        policy = await services.policies.current(self.tenant.id)
        await self.pending.schedule(conv, result.message, None, policy, services.clock.now())
        return result.message.seq

    async def note(self, user_id: str) -> dict[str, object]:
        doc = await self.services.stores.db["notifications"].find_one(
            {"_id": notification_id(self.conv_id, user_id)}
        )
        assert doc is not None
        return doc


async def open_chat(
    services: Services,
    tenant: TenantKit,
    pending: PendingNotifications,
    *,
    buyer_name: str = "Brenda Buyer",
    seller_name: str = "Sam Seller",
) -> Chat:
    conv, _ = await services.conversations.open_conversation(
        tenant.server,
        ConversationCreate(
            subject_type="order",
            subject_id=ORDER,
            title=TITLE,
            participants=[
                ParticipantIn(
                    user_id="buyer-1", role="buyer", display_name=buyer_name, email="b@mail.test"
                ),
                ParticipantIn(
                    user_id="seller-1", role="seller", display_name=seller_name, email="s@mail.test"
                ),
            ],
        ),
    )
    return Chat(services, tenant, pending, conv.id)


@pytest.fixture
async def chat(services: Services, tenant: TenantKit, pending: PendingNotifications) -> Chat:
    return await open_chat(services, tenant, pending)


async def run_due(notifier: AwayNotifier) -> list[Outcome]:
    """One beat tick and the tasks it enqueues, run inline."""
    claims = await notifier.dispatch_due()
    return [await notifier.deliver(c.notification_id, c.claim_id) for c in claims]


def advance(services: Services, seconds: float) -> None:
    clock = services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds)
