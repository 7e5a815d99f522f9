"""The webhook configuration of each tenant and the outbox events go into.

:class:`WebhookService` answers the marketplace backend's configuration API
(URL, event types, alert address, the signing secret shown once) and gives
the dispatcher what it needs to sign and send. :class:`WebhookOutbox` records
one delivery per event after the domain change is stored; the dispatcher
(:mod:`chat_service.webhooks.delivery`) sends them.

The configuration is cached per process for ``cache_seconds``: a change made
through another process reaches this one's outbox within that time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import Binary

from chat_service.auth.principals import ServerPrincipal
from chat_service.caching import FreshFor
from chat_service.clock import Clock
from chat_service.crypto import EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import NotFound
from chat_service.webhooks.repository import WebhookRepository
from chat_service.webhooks.schemas import (
    EVENT_TYPES,
    DeliveryList,
    DeliveryPublic,
    WebhookPublic,
    WebhookPut,
    WebhookSecret,
)
from chat_service.webhooks.targets import Environment, check_url

__all__ = ["WebhookOutbox", "WebhookService", "WebhookTarget"]

Doc = dict[str, Any]
# Seals the secret and the alert address under the tenant's keys, like the
# tenant signing secret.
_SCOPE = "tenant"


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    events: frozenset[str]  # empty: every event type
    enabled: bool

    def wants(self, event_type: str) -> bool:
        return self.enabled and (not self.events or event_type in self.events)


def _ref(tenant: str, field: str) -> RecordRef:
    return RecordRef(tenant=tenant, collection="webhooks", record_id=tenant, field=field)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookService:
    def __init__(
        self,
        repository: WebhookRepository,
        cipher: FieldCipher,
        clock: Clock,
        *,
        environment: Environment,
        cache_seconds: float = 5.0,
        rotation_grace_seconds: float = 24 * 3600,
    ) -> None:
        self.repository = repository
        self._cipher = cipher
        self._clock = clock
        self.environment: Environment = environment
        self._grace = timedelta(seconds=rotation_grace_seconds)
        self._cache: FreshFor[WebhookTarget | None] = FreshFor(clock, cache_seconds)

    # -- the configuration API -----------------------------------------------

    async def put(self, server: ServerPrincipal, body: WebhookPut) -> WebhookPublic:
        """Set the URL, event types and alert address. The first time, a
        secret is generated and returned (a :class:`WebhookSecret`); later
        calls keep the secret and do not show it."""
        tenant = server.tenant
        url = check_url(body.url, self.environment)
        now = self._clock.now()
        fields: Doc = {
            "url": url,
            "events": sorted(set(body.events)),
            "enabled": body.enabled,
            "alert_email": await self._seal(tenant, "alert_email", body.alert_email, now),
            "updated_at": now,
        }
        self._cache.forget(tenant)
        if await self.repository.get_config(tenant) is None:
            secret = new_secret()
            doc = {
                "_id": tenant,
                "tenant": tenant,  # for retention's "is this data key still named?"
                **fields,
                "secret": await self._seal(tenant, "secret", secret, now),
                "consecutive_failures": 0,
                "alert_sent_at": None,
                "created_at": now,
            }
            if await self.repository.insert_config(doc):
                return WebhookSecret(**(await self._public(doc)).model_dump(), secret=secret)
        updated = await self.repository.update_config(tenant, fields)
        if updated is None:
            raise NotFound("no webhook is configured")
        return await self._public(updated)

    async def get(self, server: ServerPrincipal) -> WebhookPublic:
        return await self._public(await self._config(server.tenant))

    async def rotate_secret(self, server: ServerPrincipal) -> WebhookSecret:
        """A new secret, shown once; the old one still signs (as a second
        ``v1``) for the grace period, so receivers can switch without loss."""
        doc = await self._config(server.tenant)
        now = self._clock.now()
        secret = new_secret()
        old = await self._open(server.tenant, "secret", doc["secret"])
        fields = {
            "secret": await self._seal(server.tenant, "secret", secret, now),
            "previous_secret": await self._seal(server.tenant, "previous_secret", old, now),
            "previous_until": now + self._grace,
            "updated_at": now,
        }
        updated = await self.repository.update_config(server.tenant, fields)
        if updated is None:
            raise NotFound("no webhook is configured")
        return WebhookSecret(**(await self._public(updated)).model_dump(), secret=secret)

    async def deliveries(
        self, server: ServerPrincipal, *, status: str | None = None, limit: int = 50
    ) -> DeliveryList:
        """The tenant's most recent deliveries, newest first; no payloads."""
        limit = max(1, min(limit, 200))
        docs = await self.repository.list_deliveries(server.tenant, status, limit)
        return DeliveryList(deliveries=[delivery_public(d) for d in docs])

    # -- for the outbox and the dispatcher -----------------------------------

    async def target(self, tenant: str) -> WebhookTarget | None:
        async def load() -> WebhookTarget | None:
            doc = await self.repository.get_config(tenant)
            if doc is None:
                return None
            return WebhookTarget(doc["url"], frozenset(doc["events"]), bool(doc["enabled"]))

        return await self._cache.get(tenant, load)

    async def signing_secrets(self, doc: Doc, now: datetime) -> list[str]:
        """The current secret, then the previous one while its grace lasts."""
        found = [await self._open(doc["_id"], "secret", doc["secret"])]
        until = doc.get("previous_until")
        if doc.get("previous_secret") and until is not None and until > now:
            found.append(await self._open(doc["_id"], "previous_secret", doc["previous_secret"]))
        return found

    async def alert_address(self, doc: Doc) -> str | None:
        sealed = doc.get("alert_email")
        return None if sealed is None else await self._open(doc["_id"], "alert_email", sealed)

    # -- internals -----------------------------------------------------------

    async def _config(self, tenant: str) -> Doc:
        doc = await self.repository.get_config(tenant)
        if doc is None:
            raise NotFound("no webhook is configured")
        return doc

    async def _public(self, doc: Doc) -> WebhookPublic:
        return WebhookPublic(
            url=doc["url"],
            events=doc["events"],
            alert_email=await self.alert_address(doc),
            enabled=doc["enabled"],
            consecutive_failures=doc.get("consecutive_failures", 0),
            alert_sent_at=doc.get("alert_sent_at"),
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
        )

    async def _seal(self, tenant: str, field: str, value: str | None, now: datetime) -> Doc | None:
        if value is None:
            return None
        sealed = await self._cipher.encrypt(_ref(tenant, field), value, scope=_SCOPE, moment=now)
        return {"key_id": sealed.key_id, "blob": Binary(sealed.blob)}

    async def _open(self, tenant: str, field: str, sealed: Doc) -> str:
        return await self._cipher.decrypt(
            _ref(tenant, field), EncryptedField(sealed["key_id"], bytes(sealed["blob"]))
        )


def delivery_public(doc: Doc) -> DeliveryPublic:
    return DeliveryPublic(
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        status=doc["status"],
        attempts=doc["attempts"],
        last_error=doc.get("last_error"),
        last_status_code=doc.get("last_status_code"),
        next_attempt_at=doc.get("next_attempt_at") if doc["status"] == "pending" else None,
        created_at=doc["created_at"],
        delivered_at=doc.get("delivered_at"),
    )


class WebhookOutbox:
    """Records events for delivery; call after the change is stored."""

    def __init__(self, repository: WebhookRepository, webhooks: WebhookService, clock: Clock):
        self._repo = repository
        self._webhooks = webhooks
        self._clock = clock

    async def record(self, tenant: str, event_type: str, payload: Doc, event_id: str) -> bool:
        """One delivery for ``event_id`` if the tenant's webhook wants this
        type; ``False`` if not wanted or recorded before (retries are safe)."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        target = await self._webhooks.target(tenant)
        if target is None or not target.wants(event_type):
            return False
        now = self._clock.now()
        return await self._repo.insert_delivery(
            {
                "_id": f"{tenant}|{event_id}",
                "tenant": tenant,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "claim_id": None,
                "last_error": None,
                "last_status_code": None,
                "created_at": now,
                "delivered_at": None,
                "updated_at": now,
            }
        )
