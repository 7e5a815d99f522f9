"""Message text in and out of the store: sealed with the author's data key,
bound to the message, conversation and tenant; opened into ``MessagePublic``."""

from __future__ import annotations

import logging
from typing import Any

from bson import Binary

from chat_service.clock import Clock
from chat_service.conversations.actions import SellerAction, action_from_stored, action_summary
from chat_service.conversations.rules import idempotency_key, to_millis
from chat_service.conversations.schemas import (
    SYSTEM_SENDER,
    MessageAttachment,
    MessageKind,
    MessagePublic,
    MessageVia,
)
from chat_service.crypto import EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import IntegrityError
from chat_service.ids import new_id
from chat_service.users.service import user_scope

__all__ = ["MessageCodec", "original_ref", "text_ref"]

log = logging.getLogger(__name__)


def text_ref(tenant: str, conv_id: str, message_id: str) -> RecordRef:
    return RecordRef(
        tenant=tenant,
        collection="messages",
        record_id=message_id,
        field="text",
        conversation=conv_id,
    )


def original_ref(tenant: str, conv_id: str, message_id: str) -> RecordRef:
    """The text as written, before masking (kept only when the policy says so)."""
    return RecordRef(
        tenant=tenant,
        collection="messages",
        record_id=message_id,
        field="original",
        conversation=conv_id,
    )


class MessageCodec:
    def __init__(self, cipher: FieldCipher, clock: Clock) -> None:
        self._cipher = cipher
        self._clock = clock

    async def seal(
        self, conv: dict[str, Any], message_id: str, text: str, sender: str
    ) -> EncryptedField:
        # The author's scope: erasing a person shreds what they wrote, not what others did.
        scope = "system" if sender == SYSTEM_SENDER else user_scope(sender)
        return await self._cipher.encrypt(
            text_ref(conv["tenant"], conv["_id"], message_id),
            text,
            scope=scope,
            moment=self._clock.now(),
        )

    async def seal_original(
        self, conv: dict[str, Any], message_id: str, text: str, sender: str
    ) -> EncryptedField:
        return await self._cipher.encrypt(
            original_ref(conv["tenant"], conv["_id"], message_id),
            text,
            scope=user_scope(sender),
            moment=self._clock.now(),
        )

    async def new_entry(
        self,
        conv: dict[str, Any],
        *,
        sender: str,
        kind: MessageKind,
        client_msg_id: str,
        text: str | None,
        target_seq: int | None,
        attachments: list[dict[str, Any]] | None = None,
        via: MessageVia = "chat",
    ) -> dict[str, Any]:
        """The document of a new log entry, its text sealed; ``seq`` comes at insert."""
        message_id = new_id("m")
        sealed = await self.seal(conv, message_id, text, sender) if text is not None else None
        return {
            "_id": message_id,
            "tenant": conv["tenant"],
            "conv": conv["_id"],
            "kind": kind,
            "sender": sender,
            "idem": idempotency_key(sender, client_msg_id),
            "client_msg_id": client_msg_id,
            "key_id": sealed.key_id if sealed else None,
            "text": Binary(sealed.blob) if sealed else None,
            "target_seq": target_seq,
            "created_at": to_millis(self._clock.now()),
            "edited_at": None,
            "deleted": False,
            "edit_seq": 0,
            "attachments": attachments or [],
            "via": via,
        }

    async def decode(
        self, tenant: str, doc: dict[str, Any], *, known_text: str | None = None
    ) -> MessagePublic:
        """A stored entry as clients see it; text that fails to open is withheld
        and flagged (``text_error``), never shown. ``known_text`` skips opening
        what this process has just sealed."""
        text: str | None = known_text
        text_error: str | None = None
        if text is None and doc.get("text") is not None:
            try:
                text = await self._cipher.decrypt(
                    text_ref(tenant, doc["conv"], doc["_id"]),
                    EncryptedField(doc["key_id"], bytes(doc["text"])),
                )
            except IntegrityError as exc:
                log.error("message %s text unreadable: %s", doc["_id"], exc.code)
                text_error = exc.code
        action: SellerAction | None = None
        if doc["kind"] == "action" and text is not None:
            # The sealed text is the payload; clients get it parsed plus a summary.
            try:
                action = action_from_stored(text)
                text = action_summary(action)
            except ValueError:
                log.error("message %s holds an action this version cannot read", doc["_id"])
                text, text_error = None, "unknown_action"
        return MessagePublic(
            id=doc["_id"],
            conversation_id=doc["conv"],
            seq=doc["seq"],
            kind=doc["kind"],
            sender_id=doc["sender"],
            text=text,
            client_msg_id=doc["client_msg_id"],
            created_at=doc["created_at"],
            edited_at=doc.get("edited_at"),
            deleted=bool(doc.get("deleted")),
            target_seq=doc.get("target_seq"),
            text_error=text_error,
            attachments=[MessageAttachment(**a) for a in doc.get("attachments") or []],
            via=doc.get("via", "chat"),
            action=action,
        )
