"""Building an :class:`~notifier.delivery.AwayNotifier` from the core's services.

Used by the Celery worker (one per worker process), the tests and the bench.
"""

from __future__ import annotations

import random

from chat_service.conversations.repository import (
    ConversationRepository,
    MessageRepository,
    ReadRepository,
)
from chat_service.conversations.sealing import MessageCodec
from chat_service.hub.presence import PresenceTracker
from chat_service.notifications.repository import NotificationRepository, PreferenceRepository
from chat_service.notifications.service import EmailPreferences
from chat_service.notifications.tokens import NotificationTokens
from chat_service.services import Services
from notifier.compose import Composer
from notifier.config import NotifierSettings
from notifier.delivery import AwayNotifier
from notifier.gate import Gate
from notifier.smtp import SmtpSender
from notifier.types import MailSender, ReplyAddress

__all__ = ["build_notifier"]


def build_notifier(
    services: Services,
    settings: NotifierSettings,
    *,
    sender: MailSender | None = None,
    reply_address: ReplyAddress | None = None,
    rng: random.Random | None = None,
) -> AwayNotifier:
    core, db, clock = services.settings, services.stores.db, services.clock
    presence = PresenceTracker(
        services.stores, clock, process_id="notifier", ttl_seconds=core.presence_ttl_seconds
    )

    async def online(tenant: str, user_id: str) -> bool:
        return (await presence.online(tenant, [user_id])).get(user_id, False)

    gate = Gate(
        conversations=ConversationRepository(db, monotonic=clock.monotonic),
        messages=MessageRepository(db),
        reads=ReadRepository(db),
        codec=MessageCodec(services.cipher, clock),
        email_of=services.users.email_of,
        preferences=EmailPreferences(PreferenceRepository(db), clock),
        policies=services.policies.current,
        online=online,
        max_messages=settings.email_max_messages,
    )
    tokens = NotificationTokens(core.kek_map(), core.primary_version())
    composer = Composer(
        settings=settings,
        tokens=tokens,
        thread_key=core.kek_map()[core.primary_version()],
        public_base_url=core.public_base_url,
        clock=clock,
        reply_address=reply_address,
    )
    return AwayNotifier(
        repository=NotificationRepository(db),
        gate=gate,
        composer=composer,
        sender=sender or SmtpSender(settings),
        tokens=tokens,
        settings=settings,
        clock=clock,
        rng=rng,
    )
