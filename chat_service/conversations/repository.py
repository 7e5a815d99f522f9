"""Conversations, messages and read marks in MongoDB.

Collections::

    conversations {_id, tenant, subject_type, subject_id, title, participants[], created_at}
    messages      {_id, tenant, conv, seq, kind, sender, idem, key_id, text (Binary|None),
                   target_seq, created_at, edited_at, deleted}
    reads         {_id: "<conv>|<user>", tenant, conv, user, seq}

The insert of a message *is* the allocation of its ``seq``: the unique index
on ``(conv, seq)`` lets exactly one writer win each number, so the log has no
holes and a message is in the store before anyone can learn its ``seq``.
A unique index on ``(conv, idem)`` makes a resend of the same client message
id find the original instead of storing a copy.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chat_service.conversations.batching import MessageBatcher
from chat_service.conversations.read_marks import ReadMarkBatcher
from chat_service.conversations.seqs import SeqCache
from chat_service.errors import Conflict

__all__ = ["ConversationRepository", "MessageRepository", "ReadRepository"]

Doc = dict[str, Any]
VISIBLE_KINDS = ["text", "system", "action"]


class ConversationRepository:
    """Conversations; ``get_recent`` may answer from memory (``recent_seconds``),
    which is what access checks on every frame use. Participant changes drop
    the memory in every process through the ``participants`` event; the window
    bounds how long a lost event can leave it stale."""

    def __init__(
        self,
        db: AsyncDatabase[Doc],
        *,
        monotonic: Callable[[], float],
        recent_seconds: float = 30.0,
    ) -> None:
        self._convs = db["conversations"]
        self._monotonic = monotonic
        self._recent_seconds = recent_seconds
        self._recent: OrderedDict[str, tuple[float, Doc]] = OrderedDict()

    async def ensure_indexes(self) -> None:
        await self._convs.create_index(
            [("tenant", ASCENDING), ("subject_type", ASCENDING), ("subject_id", ASCENDING)],
            unique=True,
            name="subject",
        )
        await self._convs.create_index(
            [("tenant", ASCENDING), ("participants.user_id", ASCENDING)], name="participant"
        )

    async def insert_or_get(self, doc: Doc) -> tuple[Doc, bool]:
        try:
            await self._convs.insert_one(doc)
            return doc, True
        except DuplicateKeyError:
            existing = await self._convs.find_one(
                {
                    "tenant": doc["tenant"],
                    "subject_type": doc["subject_type"],
                    "subject_id": doc["subject_id"],
                }
            )
            if existing is None:
                raise Conflict("conversation was created and removed concurrently") from None
            return existing, False

    async def get(self, tenant: str, conv_id: str) -> Doc | None:
        return await self._convs.find_one({"_id": conv_id, "tenant": tenant})

    async def get_recent(self, tenant: str, conv_id: str) -> Doc | None:
        hit = self._recent.get(conv_id)
        if hit is not None and hit[0] > self._monotonic() and hit[1]["tenant"] == tenant:
            return hit[1]
        doc = await self.get(tenant, conv_id)
        if doc is not None:
            self._remember(doc)
        return doc

    def forget(self, conv_id: str) -> None:
        self._recent.pop(conv_id, None)

    def _remember(self, doc: Doc) -> None:
        self._recent[doc["_id"]] = (self._monotonic() + self._recent_seconds, doc)
        self._recent.move_to_end(doc["_id"])
        while len(self._recent) > 20_000:
            self._recent.popitem(last=False)

    async def set_participants(self, tenant: str, conv_id: str, participants: list[Doc]) -> None:
        await self._convs.update_one(
            {"_id": conv_id, "tenant": tenant}, {"$set": {"participants": participants}}
        )
        self._recent.pop(conv_id, None)

    async def for_user(self, tenant: str, user_id: str, limit: int) -> list[Doc]:
        cursor = (
            self._convs.find({"tenant": tenant, "participants.user_id": user_id})
            .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return await cursor.to_list(None)


class MessageRepository:
    def __init__(self, db: AsyncDatabase[Doc], *, max_batch: int = 256) -> None:
        self._messages = db["messages"]
        self.seqs = SeqCache(self._messages)
        self._batcher = MessageBatcher(self._messages, self.seqs, max_batch=max_batch)

    async def ensure_indexes(self) -> None:
        await self._messages.create_index(
            [("conv", ASCENDING), ("seq", ASCENDING)], unique=True, name="conv_seq"
        )
        await self._messages.create_index(
            [("conv", ASCENDING), ("idem", ASCENDING)], unique=True, name="conv_idem"
        )

    async def append(self, doc: Doc) -> tuple[Doc, bool]:
        """Store ``doc`` with the next free ``seq`` (grouped with other appends);
        returns (stored doc, created). If a message with the same ``idem``
        exists, returns it with created=False."""
        return await self._batcher.append(doc)

    async def get_by_seq(self, conv_id: str, seq: int) -> Doc | None:
        return await self._messages.find_one({"conv": conv_id, "seq": seq})

    async def get_by_idem(self, conv_id: str, idem: str) -> Doc | None:
        return await self._messages.find_one({"conv": conv_id, "idem": idem})

    async def apply_edit(self, conv_id: str, seq: int, *, edit_seq: int, fields: Doc) -> None:
        """Apply an edit unless a later one (or a delete) already won."""
        await self._messages.update_one(
            {"conv": conv_id, "seq": seq, "deleted": False, "edit_seq": {"$lt": edit_seq}},
            {"$set": {**fields, "edit_seq": edit_seq}},
        )

    async def scrub(self, conv_id: str, seq: int) -> None:
        """Remove the text of a deleted message and of every edit of it."""
        gone: Doc = {
            "$set": {"key_id": None, "text": None, "deleted": True, "attachments": []},
            "$unset": {"original": "", "original_key_id": ""},
        }
        await self._messages.update_one({"conv": conv_id, "seq": seq}, gone)
        await self._messages.update_many({"conv": conv_id, "kind": "edit", "target_seq": seq}, gone)

    async def page_after(self, conv_id: str, after_seq: int, limit: int) -> list[Doc]:
        cursor = (
            self._messages.find({"conv": conv_id, "seq": {"$gt": after_seq}})
            .sort("seq", ASCENDING)
            .limit(limit)
        )
        return await cursor.to_list(None)

    async def page_before(self, conv_id: str, before_seq: int, limit: int) -> list[Doc]:
        cursor = (
            self._messages.find({"conv": conv_id, "seq": {"$lt": before_seq}})
            .sort("seq", DESCENDING)
            .limit(limit)
        )
        docs = await cursor.to_list(None)
        docs.reverse()
        return docs

    async def last_visible(self, conv_id: str) -> Doc | None:
        cursor = (
            self._messages.find({"conv": conv_id, "kind": {"$in": VISIBLE_KINDS}, "deleted": False})
            .sort("seq", DESCENDING)
            .limit(1)
        )
        docs = await cursor.to_list(None)
        return docs[0] if docs else None

    async def count_unread(self, conv_id: str, user_id: str, after_seq: int) -> int:
        return await self._messages.count_documents(
            {
                "conv": conv_id,
                "seq": {"$gt": after_seq},
                "kind": {"$in": VISIBLE_KINDS},
                "sender": {"$ne": user_id},
                "deleted": False,
            }
        )

    async def activity(self, conv_ids: list[str]) -> dict[str, tuple[int, Any]]:
        """``{conv: (last seq, time of the last entry)}``, computed from the log
        itself: nothing is written per message to keep it (the store's cost per
        write is what limits throughput)."""
        if not conv_ids:
            return {}
        rows = await (
            await self._messages.aggregate(
                [
                    {"$match": {"conv": {"$in": conv_ids}}},
                    {
                        "$group": {
                            "_id": "$conv",
                            "seq": {"$max": "$seq"},
                            "at": {"$max": "$created_at"},
                        }
                    },
                ]
            )
        ).to_list(None)
        return {str(r["_id"]): (int(r["seq"]), r["at"]) for r in rows}

    async def last_seq(self, conv_id: str) -> int:
        return await self.seqs.refresh(conv_id)

    async def clamp_to_last_seq(self, conv_id: str, seq: int) -> int:
        """``min(seq, last seq)``, asking the store only when the cache is behind
        (the cache never runs ahead of the store: it holds seqs seen written)."""
        if seq <= await self.seqs.last(conv_id):
            return seq
        return min(seq, await self.seqs.refresh(conv_id))


class ReadRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._reads = db["reads"]
        self._batcher = ReadMarkBatcher(self._reads)

    async def ensure_indexes(self) -> None:
        await self._reads.create_index([("tenant", ASCENDING), ("user", ASCENDING)], name="user")

    async def mark(self, tenant: str, conv_id: str, user_id: str, seq: int) -> int:
        """Raise the mark to ``seq``; returns the mark now stored (higher when it
        already was). Concurrent marks share one write (``read_marks``)."""
        return await self._batcher.mark(tenant, conv_id, user_id, seq)

    async def for_conversation(self, conv_id: str, user_ids: list[str]) -> dict[str, int]:
        ids = [f"{conv_id}|{u}" for u in user_ids]
        docs = await self._reads.find({"_id": {"$in": ids}}).to_list(None)
        return {str(d["user"]): int(d["seq"]) for d in docs}

    async def for_user(self, tenant: str, user_id: str, conv_ids: list[str]) -> dict[str, int]:
        ids = [f"{c}|{user_id}" for c in conv_ids]
        docs = await self._reads.find({"_id": {"$in": ids}}).to_list(None)
        return {str(d["conv"]): int(d["seq"]) for d in docs}
