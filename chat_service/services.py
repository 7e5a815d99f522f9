"""Wiring: builds every service of one process from its settings.

Used by the ASGI app's lifespan and by CLI commands, so both get the same
objects; nothing here runs at import time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from chat_service.attachments.claims import AttachmentClaimer
from chat_service.attachments.images import ImageLimits, ImageProcessor
from chat_service.attachments.repository import AttachmentRepository
from chat_service.attachments.schemas import AttachmentRules
from chat_service.attachments.service import AttachmentService, UploadLimits
from chat_service.attachments.urls import LinkSigner
from chat_service.audit import AuditLog, AuditRepository
from chat_service.auth.tokens import TokenVerifier
from chat_service.clock import Clock, SystemClock
from chat_service.compliance.erasure import SubjectEraser
from chat_service.compliance.export import SubjectExporter
from chat_service.compliance.holds import LegalHolds
from chat_service.compliance.repository import PolicyRepository
from chat_service.compliance.retention import RetentionJob
from chat_service.compliance.service import PolicyService
from chat_service.compliance.subjects import SubjectRequests
from chat_service.config import Settings
from chat_service.conversations.repository import (
    ConversationRepository,
    MessageRepository,
    ReadRepository,
)
from chat_service.conversations.schemas import MAX_ATTACHMENTS_PER_MESSAGE
from chat_service.conversations.service import ConversationService, Limits
from chat_service.crypto import DataKeyRepository, FieldCipher
from chat_service.hub.fanout import RedisFanout
from chat_service.hub.presence import PresenceTracker
from chat_service.hub.ratelimit import RateLimiter
from chat_service.hub.rooms import Rooms
from chat_service.hub.session import FrameHandler, HubLimits
from chat_service.metrics import Metrics
from chat_service.notifications.repository import NotificationRepository, PreferenceRepository
from chat_service.notifications.service import EmailPreferences, PendingNotifications
from chat_service.orders.bulk import BulkStatusUpdates
from chat_service.orders.repository import OrderRepository
from chat_service.orders.sealing import NoteSealer
from chat_service.orders.service import OrderService
from chat_service.quotes.repository import QuoteRepository
from chat_service.quotes.sealing import QuoteSealer
from chat_service.quotes.service import QuoteService
from chat_service.stores import Stores, open_stores
from chat_service.tenants.repository import TenantRepository
from chat_service.tenants.service import TenantService
from chat_service.users.repository import UserRepository
from chat_service.users.service import UserDirectory
from chat_service.webhooks.repository import WebhookRepository
from chat_service.webhooks.service import WebhookOutbox, WebhookService
from policies import attachment_byte_limit

__all__ = ["Services", "build_services"]


class HasIndexes(Protocol):
    async def ensure_indexes(self) -> None: ...


@dataclass
class Services:
    settings: Settings
    clock: Clock
    stores: Stores
    metrics: Metrics
    keys: DataKeyRepository
    cipher: FieldCipher
    tenants: TenantService
    users: UserDirectory
    verifier: TokenVerifier
    conversations: ConversationService
    attachments: AttachmentService
    audit: AuditLog
    policies: PolicyService
    holds: LegalHolds
    retention: RetentionJob
    subjects: SubjectRequests
    quotes: QuoteService
    orders: OrderService
    order_uploads: BulkStatusUpdates
    notifications: PendingNotifications
    preferences: EmailPreferences
    webhooks: WebhookService
    webhook_outbox: WebhookOutbox
    images: ImageProcessor
    rooms: Rooms
    frames: FrameHandler
    limiter: RateLimiter

    indexed: tuple[HasIndexes, ...]

    async def ensure_indexes(self) -> None:
        for repository in self.indexed:
            await repository.ensure_indexes()

    async def start_hub(self) -> None:
        await self.rooms.start()

    async def close(self) -> None:
        await self.rooms.stop()
        self.images.close()
        await self.stores.close()


async def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    stores = await open_stores(settings)
    db = stores.db
    metrics = Metrics()
    keys = DataKeyRepository(
        db["data_keys"],
        settings.kek_map(),
        settings.primary_version(),
        now=clock.now,
        monotonic=clock.monotonic,
    )
    cipher = FieldCipher(keys, disabled_for_bench=settings.bench_disable_encryption)
    tenants = TenantService(TenantRepository(db["tenants"]), cipher, clock)
    user_repo = UserRepository(db)
    users = UserDirectory(user_repo, cipher, clock)

    async def signing_secret(tenant_id: str) -> str | None:
        found = await tenants.secrets_of(tenant_id)
        return found.signing_secret if found else None

    verifier = TokenVerifier(
        signing_secret,
        audience=settings.jwt_audience,
        clock=clock,
        max_lifetime=timedelta(seconds=settings.max_token_lifetime_seconds),
        leeway=timedelta(seconds=settings.token_leeway_seconds),
    )
    process_id = secrets.token_hex(6)
    fanout = RedisFanout(stores, control_channel=stores.key("proc", process_id))
    messages = MessageRepository(db)
    conv_repo = ConversationRepository(db, monotonic=clock.monotonic)
    read_repo = ReadRepository(db)
    audit_repo = AuditRepository(db)
    audit = AuditLog(audit_repo, clock)
    attachment_repo = AttachmentRepository(db)

    policy_repo = PolicyRepository(db)
    policies = PolicyService(policy_repo, audit, clock, cache_seconds=settings.policy_cache_seconds)

    async def attachment_rules(tenant: str) -> AttachmentRules:
        policy = await policies.current(tenant)
        return AttachmentRules(
            allowed=policy.attachments.allowed,
            max_bytes=min(attachment_byte_limit(policy), settings.attachment_max_bytes),
            max_per_message=min(policy.attachments.max_per_message, MAX_ATTACHMENTS_PER_MESSAGE),
        )

    notification_repo = NotificationRepository(db)
    notifications = PendingNotifications(notification_repo)
    preferences = EmailPreferences(PreferenceRepository(db), clock)
    webhook_repo = WebhookRepository(db)
    webhooks = WebhookService(webhook_repo, cipher, clock, environment=settings.environment)
    webhook_outbox = WebhookOutbox(webhook_repo, webhooks, clock)
    conversations = ConversationService(
        conversations=conv_repo,
        messages=messages,
        reads=read_repo,
        users=users,
        cipher=cipher,
        publisher=fanout,
        claims=AttachmentClaimer(attachment_repo, attachment_rules),
        policies=policies.current,
        notifications=notifications,
        audit=audit,
        outbox=webhook_outbox,
        clock=clock,
        limits=Limits(
            max_message_chars=settings.max_message_chars,
            history_page_max=settings.history_page_max,
        ),
    )
    holds = LegalHolds(db, audit, clock)
    retention = RetentionJob(
        db,
        keys=keys,
        cipher=cipher,
        policies=policies.current,
        holds=holds,
        audit=audit,
        clock=clock,
    )
    subjects = SubjectRequests(
        db,
        exporter=SubjectExporter(db, cipher, audit, clock),
        eraser=SubjectEraser(
            db,
            keys=keys,
            holds=holds,
            audit=audit,
            clock=clock,
            forget_conversation=conversations.forget_cached,
        ),
        holds=holds,
    )
    order_repo = OrderRepository(db, sealer=NoteSealer(cipher, clock, "orders"))
    orders = OrderService(
        repository=order_repo,
        conversations=conversations,
        clock=clock,
        max_message_chars=settings.max_message_chars,
        outbox=webhook_outbox,
        audit=audit,
    )
    order_uploads = BulkStatusUpdates(orders, order_repo, clock)
    quote_repo = QuoteRepository(db, sealer=QuoteSealer(NoteSealer(cipher, clock, "quotes")))
    # Quotes reach orders only through this interface (a converted sales order).
    quotes = QuoteService(
        repository=quote_repo,
        conversations=conversations,
        clock=clock,
        outbox=webhook_outbox,
        orders=orders,
        audit=audit,
    )
    images = ImageProcessor(
        ImageLimits(
            max_bytes=settings.attachment_max_bytes,
            max_pixels=settings.attachment_max_pixels,
            max_frames=settings.attachment_max_frames,
        ),
        max_workers=settings.image_workers,
    )
    attachments = AttachmentService(
        repository=attachment_repo,
        conversations=conversations,
        cipher=cipher,
        processor=images,
        signer=LinkSigner(settings.kek_map(), settings.primary_version(), settings.public_base_url),
        rules=attachment_rules,
        audit=audit,
        clock=clock,
        limits=UploadLimits(
            max_bytes=settings.attachment_max_bytes,
            link_ttl_seconds=settings.attachment_link_ttl_seconds,
        ),
    )
    presence = PresenceTracker(
        stores, clock, process_id=process_id, ttl_seconds=settings.presence_ttl_seconds
    )

    async def fetch_after(tenant: str, conv_id: str, after: int, limit: int) -> list[dict]:  # type: ignore[type-arg]
        messages = await conversations.messages_after(tenant, conv_id, after, limit)
        return [m.model_dump(mode="json") for m in messages]

    rooms = Rooms(
        fanout,
        presence,
        clock,
        fetch_after,
        sweep_seconds=max(1.0, settings.presence_ttl_seconds / 3),
        token_leeway=timedelta(seconds=settings.token_leeway_seconds),
        observe_seq=messages.seqs.observe,
        participants_changed=conversations.forget_cached,
    )
    metrics.bind_gauges(lambda: rooms.connection_count, lambda: rooms.room_count)
    limiter = RateLimiter(stores, clock)
    frames = FrameHandler(
        conversations,
        rooms,
        presence,
        limiter,
        HubLimits(
            send_rate_per_minute=settings.send_rate_per_minute,
            typing_rate_per_minute=settings.typing_rate_per_minute,
            max_subscriptions=settings.max_subscriptions_per_connection,
        ),
        metrics,
    )
    return Services(
        indexed=(
            keys,
            conv_repo,
            messages,
            read_repo,
            user_repo,
            attachment_repo,
            audit_repo,
            policy_repo,
            quote_repo,
            order_repo,
            notification_repo,
            holds,
            retention,
            subjects,
            webhook_repo,
        ),
        settings=settings,
        clock=clock,
        stores=stores,
        metrics=metrics,
        keys=keys,
        cipher=cipher,
        tenants=tenants,
        users=users,
        verifier=verifier,
        conversations=conversations,
        attachments=attachments,
        audit=audit,
        policies=policies,
        holds=holds,
        retention=retention,
        subjects=subjects,
        quotes=quotes,
        orders=orders,
        order_uploads=order_uploads,
        notifications=notifications,
        preferences=preferences,
        webhooks=webhooks,
        webhook_outbox=webhook_outbox,
        images=images,
        rooms=rooms,
        frames=frames,
        limiter=limiter,
    )
