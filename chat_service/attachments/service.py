"""The attachments service: upload a photo to a conversation, describe it with
fresh signed links, and serve a rendition to whoever holds a valid link.

An upload is read with a byte cap enforced as it streams in, decoded and
re-encoded off the event loop (``ImageProcessor``), sealed in chunks with the
uploader's data key (the associated data binds each chunk to its photo,
rendition, position and count) and stored with a SHA-256 of each rendition's
plaintext, checked again when served.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary

from chat_service.attachments.images import ImageProcessor, ProcessedImage
from chat_service.attachments.repository import AttachmentRepository, chunk_id
from chat_service.attachments.schemas import (
    RENDITIONS,
    AttachmentPublic,
    RulesSource,
)
from chat_service.attachments.urls import LinkSigner
from chat_service.audit.schemas import AuditActor
from chat_service.audit.service import AuditLog
from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.clock import Clock
from chat_service.conversations.rules import to_millis
from chat_service.conversations.schemas import AttachmentRendition
from chat_service.conversations.service import ConversationService
from chat_service.crypto import EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    IntegrityError,
    NotFound,
    PayloadTooLarge,
)
from chat_service.ids import is_internal_id, new_id
from chat_service.users.service import user_scope

__all__ = ["AttachmentService", "ServedImage", "UploadLimits", "read_capped", "viewer_of"]

Actor = UserPrincipal | ServerPrincipal
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    link_ttl_seconds: int


@dataclass(frozen=True)
class ServedImage:
    data: bytes
    content_type: str
    filename: str
    max_age: int


async def read_capped(chunks: AsyncIterator[bytes], cap: int) -> bytes:
    """The whole body, refused with 413 the moment it passes ``cap`` bytes."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > cap:
            raise PayloadTooLarge(f"a photo may be at most {cap} bytes")
    return bytes(body)


def _chunk_ref(
    tenant: str, conv_id: str, attachment_id: str, rendition: str, n: int, count: int
) -> RecordRef:
    return RecordRef(
        tenant=tenant,
        collection="attachment_chunks",
        record_id=f"{chunk_id(attachment_id, rendition, n)}/{count}",
        field="data",
        conversation=conv_id,
    )


def viewer_of(actor: Actor) -> str:
    """Who a link is minted for, when their views must be audited."""
    if isinstance(actor, ServerPrincipal):
        return "server"
    return f"staff:{actor.user_id}" if actor.role == "staff" else ""


class AttachmentService:
    def __init__(
        self,
        *,
        repository: AttachmentRepository,
        conversations: ConversationService,
        cipher: FieldCipher,
        processor: ImageProcessor,
        signer: LinkSigner,
        rules: RulesSource,
        audit: AuditLog,
        clock: Clock,
        limits: UploadLimits,
    ) -> None:
        self._repository = repository
        self._conversations = conversations
        self._cipher = cipher
        self._processor = processor
        self._signer = signer
        self._rules = rules
        self._audit = audit
        self._clock = clock
        self._limits = limits

    async def upload(
        self,
        user: UserPrincipal,
        conv_id: str,
        upload_id: str,
        body: AsyncIterator[bytes],
        *,
        declared_length: int | None,
    ) -> tuple[AttachmentPublic, bool]:
        """Store one photo; a retry with the same ``upload_id`` returns the first
        upload (``False``) without reading or storing anything again."""
        conv = await self._conversations.check_access(user, conv_id)
        existing = await self._repository.find_upload(conv_id, user.user_id, upload_id)
        if existing is not None:
            return self._public(existing, user), False
        rules = await self._rules(user.tenant)
        if not rules.allowed:
            raise Forbidden(
                "photos are turned off for this marketplace", code="attachments_disabled"
            )
        cap = min(rules.max_bytes, self._limits.max_bytes)
        if declared_length is not None and declared_length > cap:
            raise PayloadTooLarge(f"a photo may be at most {cap} bytes")
        data = await read_capped(body, cap)
        if not data:
            raise BadRequest("the upload is empty", code="image_corrupt")
        processed = await self._processor.process(data)
        record, created = await self._store(conv, user, upload_id, processed)
        return self._public(record, user), created

    async def describe(self, actor: Actor, conv_id: str, attachment_id: str) -> AttachmentPublic:
        """A photo of a conversation the caller can see, with fresh links. A photo
        not yet sent in a message is visible to its uploader only."""
        await self._conversations.check_access(actor, conv_id)
        doc = await self._repository.get(attachment_id) if is_internal_id(attachment_id) else None
        if (
            doc is None
            or doc["tenant"] != actor.tenant
            or doc["conv"] != conv_id
            or doc["status"] not in ("ready", "attached")
            or (
                doc["status"] == "ready"
                and not (isinstance(actor, UserPrincipal) and actor.user_id == doc["uploader"])
            )
        ):
            raise NotFound("attachment not found")
        return self._public(doc, actor)

    async def open_link(
        self,
        attachment_id: str,
        rendition: str,
        *,
        expires: str,
        key_version: str,
        sig: str,
        viewer: str,
    ) -> ServedImage:
        """The bytes of a rendition, for a valid, unexpired link."""
        if rendition not in RENDITIONS or not is_internal_id(attachment_id):
            raise NotFound("attachment not found")
        now = self._clock.now()
        link = self._signer.verify(
            attachment_id,
            rendition,
            expires=expires,
            key_version=key_version,
            sig=sig,
            viewer=viewer,
            now=now,
        )
        doc = await self._repository.get(attachment_id)
        if doc is None or doc["status"] == "deleted" or rendition not in doc["renditions"]:
            raise NotFound("attachment not found")
        if link.viewer:
            # Signed into the link when it was minted for staff or the backend.
            actor = (
                AuditActor(type="server", id=doc["tenant"])
                if link.viewer == "server"
                else AuditActor(type="staff", id=link.viewer.removeprefix("staff:"), role="staff")
            )
            await self._audit.record(
                doc["tenant"],
                actor,
                "attachment.viewed_by_staff",
                target_type="attachment",
                target_id=attachment_id,
                details={"rendition": rendition, "conversation": doc["conv"]},
            )
        meta = doc["renditions"][rendition]
        data = await self._read(doc, rendition, int(meta["chunks"]))
        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise IntegrityError("a stored photo failed its checksum")
        extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(
            meta["content_type"], "bin"
        )
        return ServedImage(
            data=data,
            content_type=meta["content_type"],
            filename=f"photo-{attachment_id}-{rendition}.{extension}",
            max_age=max(0, link.expires - int(now.timestamp())),
        )

    # -- internals -----------------------------------------------------------

    async def _store(
        self, conv: dict[str, Any], user: UserPrincipal, upload_id: str, processed: ProcessedImage
    ) -> tuple[dict[str, Any], bool]:
        attachment_id = new_id("a")
        now = self._clock.now()
        chunks: list[dict[str, Any]] = []
        renditions: dict[str, Any] = {}
        for name, rendition in processed.renditions.items():
            pieces = [
                rendition.data[i : i + CHUNK_BYTES]
                for i in range(0, len(rendition.data), CHUNK_BYTES)
            ] or [b""]
            for n, piece in enumerate(pieces):
                ref = _chunk_ref(user.tenant, conv["_id"], attachment_id, name, n, len(pieces))
                sealed = await self._cipher.encrypt_bytes(
                    ref, piece, scope=user_scope(user.user_id), moment=now
                )
                chunks.append(
                    {
                        "_id": chunk_id(attachment_id, name, n),
                        "att": attachment_id,
                        "tenant": user.tenant,
                        "rendition": name,
                        "n": n,
                        "key_id": sealed.key_id,
                        "data": Binary(sealed.blob),
                    }
                )
            renditions[name] = {
                "content_type": rendition.content_type,
                "width": rendition.width,
                "height": rendition.height,
                "size": len(rendition.data),
                "sha256": rendition.sha256,
                "chunks": len(pieces),
            }
        await self._repository.save_chunks(chunks)
        record, created = await self._repository.insert_or_get(
            {
                "_id": attachment_id,
                "tenant": user.tenant,
                "conv": conv["_id"],
                "uploader": user.user_id,
                "upload_id": upload_id,
                "status": "ready",
                "claim": None,
                "created_at": to_millis(now),
                "width": processed.width,
                "height": processed.height,
                "source_format": processed.source_format,
                "renditions": renditions,
            }
        )
        if not created:
            await self._repository.delete_chunks(attachment_id)
        return record, created

    async def _read(self, doc: dict[str, Any], rendition: str, count: int) -> bytes:
        chunks = await self._repository.chunks_of(doc["_id"], rendition, count)
        if [c["n"] for c in chunks] != list(range(count)):
            raise IntegrityError("a stored photo is incomplete")
        parts = []
        for chunk in chunks:
            ref = _chunk_ref(doc["tenant"], doc["conv"], doc["_id"], rendition, chunk["n"], count)
            parts.append(
                await self._cipher.decrypt_bytes(
                    ref, EncryptedField(chunk["key_id"], bytes(chunk["data"]))
                )
            )
        return b"".join(parts)

    def _public(self, doc: dict[str, Any], actor: Actor) -> AttachmentPublic:
        if doc["status"] == "deleted":
            raise Conflict(
                "this upload id belongs to a deleted photo; use a new one", code="upload_id_used"
            )
        expires_at = self._clock.now() + timedelta(seconds=self._limits.link_ttl_seconds)
        expires = int(expires_at.timestamp())
        viewer = viewer_of(actor)
        return AttachmentPublic(
            id=doc["_id"],
            conversation_id=doc["conv"],
            uploader_id=doc["uploader"],
            status=doc["status"],
            created_at=doc["created_at"],
            width=doc["width"],
            height=doc["height"],
            source_format=doc["source_format"],
            renditions={
                name: AttachmentRendition(
                    **{k: r[k] for k in ("content_type", "width", "height", "size")}
                )
                for name, r in doc["renditions"].items()
            },
            links={
                name: self._signer.sign(doc["_id"], name, expires=expires, viewer=viewer)
                for name in doc["renditions"]
            },
            links_expire_at=datetime.fromtimestamp(expires, UTC),
        )
