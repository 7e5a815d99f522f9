"""Appending one entry to a conversation's log: claim the photos it carries,
seal its text, store it with the next ``seq``, publish it.

Photos are claimed under the message's idempotency key before the entry is
stored, so a resend of the same ``client_msg_id`` claims the same photos again
and no other message can take them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bson import Binary

from chat_service.conversations.events import EventPublisher
from chat_service.conversations.repository import MessageRepository
from chat_service.conversations.rules import idempotency_key
from chat_service.conversations.schemas import MessageKind, MessagePublic, MessageVia
from chat_service.conversations.sealing import MessageCodec
from chat_service.notifications.service import PendingNotifications
from chat_service.webhooks.events import message_event
from chat_service.webhooks.service import WebhookOutbox
from policies import Policy, mask_contact_details

__all__ = ["AttachmentClaims", "MessageWriter", "PolicySource", "SendResult"]

PolicySource = Callable[[str], Awaitable[Policy]]
# What people write; system messages and deletes are not masked.
_MASKED_KINDS = frozenset({"text", "edit"})


class AttachmentClaims(Protocol):
    """What the conversations domain needs from the attachments domain."""

    async def claim(
        self, conv: dict[str, Any], sender: str, idem: str, attachment_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Reserve uploaded photos for one message; returns what the message
        records about each. Raises a ``ChatError`` when one cannot be used."""
        ...

    async def discard(self, tenant: str, conv_id: str, attachment_ids: Sequence[str]) -> None:
        """Delete the photos of a deleted message."""
        ...


@dataclass(frozen=True)
class SendResult:
    message: MessagePublic
    created: bool


class MessageWriter:
    def __init__(
        self,
        messages: MessageRepository,
        codec: MessageCodec,
        publisher: EventPublisher,
        claims: AttachmentClaims,
        policies: PolicySource,
        notifications: PendingNotifications | None = None,
        outbox: WebhookOutbox | None = None,
    ) -> None:
        self._outbox = outbox
        self._notifications = notifications
        self._messages = messages
        self._codec = codec
        self._publisher = publisher
        self._claims = claims
        self._policies = policies

    async def append(
        self,
        conv: dict[str, Any],
        *,
        sender: str,
        kind: MessageKind,
        client_msg_id: str,
        text: str | None,
        target_seq: int | None = None,
        attachment_ids: Sequence[str] = (),
        via: MessageVia = "chat",
    ) -> SendResult:
        attachments = (
            await self._claims.claim(
                conv, sender, idempotency_key(sender, client_msg_id), attachment_ids
            )
            if attachment_ids
            else []
        )
        original: str | None = None
        if text is not None and kind in _MASKED_KINDS:
            policy = await self._policies(conv["tenant"])
            masked = mask_contact_details(text, policy)
            if masked.masked:
                original = text if policy.retention.keep_original_when_masked else None
                text = masked.text
        entry = await self._codec.new_entry(
            conv,
            sender=sender,
            kind=kind,
            client_msg_id=client_msg_id,
            text=text,
            target_seq=target_seq,
            attachments=attachments,
            via=via,
        )
        if original is not None:
            # Kept only when the policy says so, sealed like the text, for staff review.
            sealed = await self._codec.seal_original(conv, entry["_id"], original, sender)
            entry["original_key_id"], entry["original"] = sealed.key_id, Binary(sealed.blob)
        doc, created = await self._messages.append(entry)
        # A fresh entry holds the text we just sealed; only a resend's original is opened.
        message = await self._codec.decode(
            conv["tenant"], doc, known_text=text if created else None
        )
        # On resends too (recording is idempotent): a resend repairs a lost record.
        if self._outbox is not None and (hook := message_event(conv, message)):
            await self._outbox.record(conv["tenant"], *hook)
        # Published on resends too: a lost publish is repaired, and receivers drop
        # what they already have by seq. Before the away-email windows, which
        # are not on the way to the reader.
        event = {
            "type": "message",
            "conversation_id": conv["_id"],
            "message": message.model_dump(mode="json"),
        }
        await self._publisher.publish(conv["tenant"], conv["_id"], event)
        if self._notifications is not None:
            # On resends too: scheduling is idempotent, so a resend repairs a
            # schedule that failed after the message was stored.
            await self._notifications.schedule(
                conv, message, None, await self._policies(conv["tenant"]), message.created_at
            )
        return SendResult(message=message, created=created)

    async def discard_attachments(self, tenant: str, conv_id: str, doc: dict[str, Any]) -> None:
        ids = [a["id"] for a in doc.get("attachments") or []]
        if ids:
            await self._claims.discard(tenant, conv_id, ids)
