"""Photos in MongoDB: one record per photo, its renditions' bytes in sealed chunks.

Collections::

    attachments       {_id, tenant, conv, uploader, upload_id, status, claim,
                       created_at, width, height, source_format,
                       renditions: {name: {content_type, width, height, size,
                                           sha256, chunks}}}
    attachment_chunks {_id: "<attachment>:<rendition>:<n>", att, tenant,
                       rendition, n, key_id, data (sealed)}

``status`` is ``ready`` after upload, ``attached`` once a message claims it
(``claim`` holds that message's idempotency key) and ``deleted`` with its
chunks removed. The unique ``(conv, uploader, upload_id)`` index makes a
retried upload find the first one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["AttachmentRepository"]

Doc = dict[str, Any]


def chunk_id(attachment_id: str, rendition: str, n: int) -> str:
    return f"{attachment_id}:{rendition}:{n}"


class AttachmentRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._records = db["attachments"]
        self._chunks = db["attachment_chunks"]

    async def ensure_indexes(self) -> None:
        await self._records.create_index(
            [("conv", ASCENDING), ("uploader", ASCENDING), ("upload_id", ASCENDING)],
            unique=True,
            name="upload",
        )
        await self._chunks.create_index([("att", ASCENDING)], name="attachment")

    async def find_upload(self, conv_id: str, uploader: str, upload_id: str) -> Doc | None:
        return await self._records.find_one(
            {"conv": conv_id, "uploader": uploader, "upload_id": upload_id}
        )

    async def get(self, attachment_id: str) -> Doc | None:
        return await self._records.find_one({"_id": attachment_id})

    async def save_chunks(self, chunks: list[Doc]) -> None:
        if chunks:
            await self._chunks.insert_many(chunks, ordered=False)

    async def insert_or_get(self, record: Doc) -> tuple[Doc, bool]:
        """Store a record whose chunks are already stored; a concurrent retry of
        the same upload gets the winner's record (and should drop its chunks)."""
        try:
            await self._records.insert_one(record)
            return record, True
        except DuplicateKeyError:
            found = await self.find_upload(record["conv"], record["uploader"], record["upload_id"])
            if found is None:  # the winner was deleted in between
                raise
            return found, False

    async def chunks_of(self, attachment_id: str, rendition: str, count: int) -> list[Doc]:
        ids = [chunk_id(attachment_id, rendition, n) for n in range(count)]
        docs = await self._chunks.find({"_id": {"$in": ids}}).to_list(None)
        return sorted(docs, key=lambda d: int(d["n"]))

    async def claim(
        self, attachment_id: str, *, tenant: str, conv_id: str, uploader: str, claim: str
    ) -> Doc | None:
        """Reserve a ready photo for one message (or find it already reserved
        for that same message); returns the record as it was before, or None
        when it is not the uploader's ready photo of this conversation."""
        return await self._records.find_one_and_update(
            {
                "_id": attachment_id,
                "tenant": tenant,
                "conv": conv_id,
                "uploader": uploader,
                "$or": [{"status": "ready"}, {"status": "attached", "claim": claim}],
            },
            {"$set": {"status": "attached", "claim": claim}},
            return_document=ReturnDocument.BEFORE,
        )

    async def release(self, attachment_ids: Sequence[str], claim: str) -> None:
        await self._records.update_many(
            {"_id": {"$in": list(attachment_ids)}, "status": "attached", "claim": claim},
            {"$set": {"status": "ready", "claim": None}},
        )

    async def delete(self, tenant: str, attachment_ids: Sequence[str]) -> int:
        """Mark deleted, then remove the bytes; safe to repeat."""
        ids = list(attachment_ids)
        await self._records.update_many(
            {"_id": {"$in": ids}, "tenant": tenant},
            {"$set": {"status": "deleted", "renditions": {}}},
        )
        result = await self._chunks.delete_many({"att": {"$in": ids}, "tenant": tenant})
        return result.deleted_count

    async def delete_chunks(self, attachment_id: str) -> None:
        await self._chunks.delete_many({"att": attachment_id})
