"""Export of one person (GDPR Art. 15 access, Art. 20 portability) as a ZIP.

The archive holds ``export.json`` and ``files/attachments/<id>/<rendition>.<ext>``
(the decrypted photos the person uploaded). ``export.json`` has:

``subject``          user id, role, display name, e-mail address (decrypted)
``conversations``    each one they take part in: id, subject, title,
                     participants (ids, roles, names), their read mark, and how
                     many entries other people wrote there
``messages``         every log entry they wrote, text decrypted (and the
                     unmasked original when the policy kept one)
``attachments``      their photos: metadata and the files' paths in the archive
``read_marks``       ``{conversation_id, seq}``
``notifications``    away-email history: state, times, sequence marks; no content
``email_preferences`` whether they receive away emails
``quotes``/``orders`` those where they are buyer or seller: ids, side, status, times

Other people's message *texts* are left out on purpose: they are those
people's personal data (Art. 15(4): access must not adversely affect the
rights of others). The count per conversation shows that they exist; a
request for the full thread is a staff read, audited separately.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chat_service.attachments.repository import chunk_id
from chat_service.audit import AuditActor, AuditLog
from chat_service.clock import Clock
from chat_service.compliance.subjects import conversations_of, email_ref, find_subject
from chat_service.conversations.sealing import original_ref, text_ref
from chat_service.crypto import EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import IntegrityError

__all__ = ["EXPORT_FORMAT", "SubjectExporter"]

Doc = dict[str, Any]
EXPORT_FORMAT = "marketplace-chat-export/1"
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot export a {type(value).__name__}")


def _chunk_ref(doc: Doc, rendition: str, n: int, count: int) -> RecordRef:
    # Bound as ``AttachmentService`` seals chunks.
    return RecordRef(
        tenant=doc["tenant"],
        collection="attachment_chunks",
        record_id=f"{chunk_id(doc['_id'], rendition, n)}/{count}",
        field="data",
        conversation=doc["conv"],
    )


class SubjectExporter:
    def __init__(
        self, db: AsyncDatabase[Doc], cipher: FieldCipher, audit: AuditLog, clock: Clock
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._audit = audit
        self._clock = clock

    async def export(self, tenant: str, user_id: str, actor: AuditActor) -> bytes:
        """The archive as bytes; :class:`SubjectNotFound` for an unknown person."""
        subject = await find_subject(self._db, tenant, user_id)
        files: dict[str, bytes] = {}
        convs = await conversations_of(self._db, tenant, user_id)
        reads = await self._db["reads"].find({"tenant": tenant, "user": user_id}).to_list(None)
        read_marks = {str(r["conv"]): int(r["seq"]) for r in reads}
        messages = await self._messages(tenant, user_id)
        attachments = await self._attachments(tenant, user_id, files)
        document = {
            "format": EXPORT_FORMAT,
            "exported_at": self._clock.now(),
            "tenant": tenant,
            "subject": await self._subject(tenant, subject),
            "conversations": [await self._conversation(c, user_id, read_marks) for c in convs],
            "messages": messages,
            "attachments": attachments,
            "read_marks": [{"conversation_id": c, "seq": s} for c, s in sorted(read_marks.items())],
            "notifications": await self._notifications(tenant, user_id),
            "email_preferences": await self._preferences(tenant, user_id),
            "quotes": await self._deals("quotes", "quote_id", tenant, user_id),
            "orders": await self._deals("orders", "order_id", tenant, user_id),
        }
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(
                "export.json",
                json.dumps(document, default=_json_default, indent=2, ensure_ascii=False),
            )
            for path, data in sorted(files.items()):
                zf.writestr(path, data)
        await self._audit.record(
            tenant,
            actor,
            "subject.exported",
            target_type="subject",
            target_id=user_id,
            details={
                "conversations": len(convs),
                "messages": len(messages),
                "attachments": len(attachments),
                "files": len(files),
            },
        )
        return archive.getvalue()

    async def _subject(self, tenant: str, doc: Doc) -> Doc:
        email: str | None = None
        email_error: str | None = None
        sealed = doc.get("email")
        if sealed:
            try:
                email = await self._cipher.decrypt(
                    email_ref(tenant, doc["user_id"]),
                    EncryptedField(sealed["key_id"], bytes(sealed["blob"])),
                )
            except IntegrityError as exc:
                email_error = exc.code
        return {
            "user_id": doc["user_id"],
            "role": doc.get("role"),
            "display_name": doc.get("display_name"),
            "email": email,
            "email_error": email_error,
            "erased_at": doc.get("erased_at"),
        }

    async def _conversation(self, conv: Doc, user_id: str, read_marks: dict[str, int]) -> Doc:
        by_others = await self._db["messages"].count_documents(
            {"conv": conv["_id"], "sender": {"$ne": user_id}}
        )
        return {
            "id": conv["_id"],
            "subject_type": conv.get("subject_type"),
            "subject_id": conv.get("subject_id"),
            "title": conv.get("title"),
            "created_at": conv.get("created_at"),
            "participants": [
                {k: p.get(k) for k in ("user_id", "role", "display_name")}
                for p in conv.get("participants") or []
            ],
            "read_seq": read_marks.get(conv["_id"], 0),
            "entries_by_others": by_others,
        }

    async def _messages(self, tenant: str, user_id: str) -> list[Doc]:
        cursor = self._db["messages"].find({"tenant": tenant, "sender": user_id})
        out = []
        for doc in await cursor.sort([("conv", 1), ("seq", 1)]).to_list(None):
            text, text_error = await self._open(
                text_ref(tenant, doc["conv"], doc["_id"]), doc.get("key_id"), doc.get("text")
            )
            entry: Doc = {
                "id": doc["_id"],
                "conversation_id": doc["conv"],
                "seq": doc["seq"],
                "kind": doc["kind"],
                "text": text,
                "text_error": text_error,
                "created_at": doc.get("created_at"),
                "edited_at": doc.get("edited_at"),
                "deleted": bool(doc.get("deleted")),
                "target_seq": doc.get("target_seq"),
                "attachment_ids": [a.get("id") for a in doc.get("attachments") or []],
            }
            if doc.get("original") is not None:
                entry["original_text"], entry["original_error"] = await self._open(
                    original_ref(tenant, doc["conv"], doc["_id"]),
                    doc.get("original_key_id"),
                    doc["original"],
                )
            out.append(entry)
        return out

    async def _open(
        self, ref: RecordRef, key_id: str | None, blob: bytes | None
    ) -> tuple[str | None, str | None]:
        if blob is None or key_id is None:
            return None, None
        try:
            return await self._cipher.decrypt(ref, EncryptedField(key_id, bytes(blob))), None
        except IntegrityError as exc:
            return None, exc.code

    async def _attachments(self, tenant: str, user_id: str, files: dict[str, bytes]) -> list[Doc]:
        cursor = self._db["attachments"].find(
            {"tenant": tenant, "uploader": user_id, "status": {"$ne": "deleted"}}
        )
        out = []
        for doc in await cursor.sort("_id", 1).to_list(None):
            renditions: dict[str, Any] = {}
            for name, meta in sorted((doc.get("renditions") or {}).items()):
                entry = {k: meta.get(k) for k in ("content_type", "width", "height", "size")}
                try:
                    data = await self._read(doc, name, int(meta["chunks"]))
                    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                        raise IntegrityError("a stored photo failed its checksum")
                except IntegrityError as exc:
                    entry["error"] = exc.code
                else:
                    extension = _EXTENSIONS.get(meta.get("content_type"), "bin")
                    path = f"files/attachments/{doc['_id']}/{name}.{extension}"
                    files[path] = data
                    entry["file"] = path
                renditions[name] = entry
            out.append(
                {
                    "id": doc["_id"],
                    "conversation_id": doc["conv"],
                    "status": doc.get("status"),
                    "created_at": doc.get("created_at"),
                    "source_format": doc.get("source_format"),
                    "renditions": renditions,
                }
            )
        return out

    async def _read(self, doc: Doc, rendition: str, count: int) -> bytes:
        ids = [chunk_id(doc["_id"], rendition, n) for n in range(count)]
        chunks = await self._db["attachment_chunks"].find({"_id": {"$in": ids}}).to_list(None)
        chunks.sort(key=lambda c: int(c["n"]))
        if [c["n"] for c in chunks] != list(range(count)):
            raise IntegrityError("a stored photo is incomplete")
        parts = []
        for chunk in chunks:
            parts.append(
                await self._cipher.decrypt_bytes(
                    _chunk_ref(doc, rendition, chunk["n"], count),
                    EncryptedField(chunk["key_id"], bytes(chunk["data"])),
                )
            )
        return b"".join(parts)

    async def _notifications(self, tenant: str, user_id: str) -> list[Doc]:
        fields = (
            "state",
            "due_at",
            "settled_through_seq",
            "emailed_through_seq",
            "attempts",
            "outcome",
            "updated_at",
        )
        docs = (
            await self._db["notifications"].find({"tenant": tenant, "user": user_id}).to_list(None)
        )
        return [
            {"conversation_id": d.get("conv"), **{k: d.get(k) for k in fields}}
            for d in sorted(docs, key=lambda d: str(d["_id"]))
        ]

    async def _preferences(self, tenant: str, user_id: str) -> Doc:
        doc = await self._db["email_preferences"].find_one({"_id": f"{tenant}|{user_id}"})
        return {
            "away_emails": doc is None or doc.get("away_emails", True) is not False,
            "updated_at": doc.get("updated_at") if doc else None,
        }

    async def _deals(self, collection: str, id_field: str, tenant: str, user_id: str) -> list[Doc]:
        docs = await (
            self._db[collection]
            .find(
                {"tenant": tenant, "$or": [{"buyer.user_id": user_id}, {"seller.user_id": user_id}]}
            )
            .sort("_id", 1)
            .to_list(None)
        )
        return [
            {
                "id": d.get(id_field),
                "side": "buyer" if (d.get("buyer") or {}).get("user_id") == user_id else "seller",
                "conversation_id": d.get("conversation_id"),
                "status": d.get("status"),
                "created_at": d.get("created_at"),
                "updated_at": d.get("updated_at"),
            }
            for d in docs
        ]
