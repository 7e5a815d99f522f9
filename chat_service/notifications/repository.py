"""Pending away notifications and e-mail preferences in MongoDB.

Collections::

    notifications {_id: "<conv>|<user>", tenant, conv, user,
                   state: "idle" | "pending" | "claimed" | "sending",
                   due_at, settled_through_seq, emailed_through_seq,
                   claim_id, attempt_id, lease_until, batch_through_seq,
                   email_message_id, claims, attempts, outcome, last_error, updated_at}
    email_preferences {_id: "<tenant>|<user>", tenant, user, away_emails, updated_at}

One document per (conversation, recipient) lives for ever and cycles through
the states; every transition is a conditional update on the state and the id
of the claim or attempt that owns it, so two workers never both win one.
``settled_through_seq`` is the high-water mark of messages already emailed or
deliberately skipped for that recipient; it only moves forward (``$max``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["NotificationRepository", "PreferenceRepository", "notification_id"]

Doc = dict[str, Any]


def notification_id(conv_id: str, user_id: str) -> str:
    return f"{conv_id}|{user_id}"


class NotificationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._docs = db["notifications"]

    async def state_counts(self, now: datetime) -> dict[str, int]:
        """Away notifications by state, plus how many pending ones are overdue
        (the queue the dispatcher has not caught up with), for /metrics."""
        counts = {state: 0 for state in ("idle", "pending", "claimed", "sending")}
        async for row in await self._docs.aggregate(
            [{"$group": {"_id": "$state", "n": {"$sum": 1}}}]
        ):
            counts[str(row["_id"])] = int(row["n"])
        counts["overdue"] = await self._docs.count_documents(
            {"state": "pending", "due_at": {"$lte": now}}
        )
        return counts

    async def ensure_indexes(self) -> None:
        await self._docs.create_index(
            [("state", ASCENDING), ("due_at", ASCENDING)], name="state_due"
        )
        await self._docs.create_index(
            [("state", ASCENDING), ("lease_until", ASCENDING)], name="state_lease"
        )

    async def get(self, nid: str) -> Doc | None:
        return await self._docs.find_one({"_id": nid})

    async def schedule(self, doc: Doc, due_at: datetime) -> bool:
        """Make the notification pending with ``due_at`` unless it already is
        (a fixed window: a later message never moves ``due_at``) or a worker
        holds it (the worker re-checks for newer messages when it lets go).

        One round trip: an upsert filtered on ``state: idle``. When the
        document exists in another state, the upsert's insert collides on
        ``_id`` and nothing changes, which is exactly what we want. Returns
        whether this call opened the window (``due_at`` is then ours)."""
        try:
            result = await self._docs.update_one(
                {"_id": doc["_id"], "state": "idle"},
                {
                    "$set": {"state": "pending", "due_at": due_at, "updated_at": due_at},
                    "$setOnInsert": {
                        **{k: v for k, v in doc.items() if k != "_id"},
                        "settled_through_seq": 0,
                        "emailed_through_seq": 0,
                        "attempts": 0,
                        "claims": 0,
                    },
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return result.upserted_id is not None or result.modified_count == 1

    async def pending_until(self, nid: str) -> datetime | None:
        """The ``due_at`` of a pending window; ``None`` in any other state."""
        doc = await self._docs.find_one({"_id": nid}, {"state": 1, "due_at": 1})
        if doc is None or doc.get("state") != "pending":
            return None
        due_at = doc.get("due_at")
        return due_at if isinstance(due_at, datetime) else None

    async def claim_due(self, now: datetime, claim_id: str, lease_until: datetime) -> Doc | None:
        """Atomically take one due notification, or one whose claim lapsed
        before anything was sent (its dispatcher or task was lost)."""
        return await self._docs.find_one_and_update(
            {
                "$or": [
                    {"state": "pending", "due_at": {"$lte": now}},
                    {"state": "claimed", "lease_until": {"$lte": now}},
                ]
            },
            {
                "$set": {"state": "claimed", "claim_id": claim_id, "lease_until": lease_until},
                "$inc": {"claims": 1},
            },
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def lapsed_sending(self, now: datetime, limit: int) -> list[Doc]:
        cursor = self._docs.find({"state": "sending", "lease_until": {"$lte": now}}).limit(limit)
        return await cursor.to_list(None)

    async def begin_send(self, nid: str, claim_id: str, fields: Doc) -> bool:
        """claimed -> sending, fixing the batch and Message-ID before any byte
        goes to SMTP. Only the holder of ``claim_id`` can do it, once."""
        result = await self._docs.update_one(
            {"_id": nid, "state": "claimed", "claim_id": claim_id},
            {
                "$set": {"state": "sending", **fields},
                "$inc": {"attempts": 1},
                "$unset": {"data_started_at": ""},
            },
        )
        return result.modified_count == 1

    async def mark_data_started(self, nid: str, attempt_id: str, now: datetime) -> bool:
        """Right before SMTP DATA: from here on a crash leaves the outcome unknown."""
        result = await self._docs.update_one(
            {"_id": nid, "state": "sending", "attempt_id": attempt_id},
            {"$set": {"data_started_at": now}},
        )
        return result.modified_count == 1

    async def release(self, nid: str, owner: Doc, fields: Doc) -> bool:
        """Back to ``claimed`` after a failure known to have sent nothing."""
        result = await self._docs.update_one(
            {"_id": nid, **owner}, {"$set": {"state": "claimed", **fields}}
        )
        return result.modified_count == 1

    async def settle(self, nid: str, owner: Doc, through_seq: int, fields: Doc) -> bool:
        """-> idle, with every message up to ``through_seq`` dealt with."""
        result = await self._docs.update_one(
            {"_id": nid, **owner},
            {
                "$set": {"state": "idle", "claims": 0, **fields},
                "$max": {"settled_through_seq": through_seq},
                "$unset": {
                    "claim_id": "",
                    "attempt_id": "",
                    "lease_until": "",
                    "data_started_at": "",
                },
            },
        )
        return result.modified_count == 1

    async def mark_emailed(self, nid: str, attempt_id: str, through_seq: int, fields: Doc) -> bool:
        result = await self._docs.update_one(
            {"_id": nid, "state": "sending", "attempt_id": attempt_id},
            {
                "$set": {"state": "idle", "claims": 0, **fields},
                "$max": {"settled_through_seq": through_seq, "emailed_through_seq": through_seq},
                "$unset": {
                    "claim_id": "",
                    "attempt_id": "",
                    "lease_until": "",
                    "data_started_at": "",
                },
            },
        )
        return result.modified_count == 1


class PreferenceRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._docs = db["email_preferences"]

    async def away_emails(self, tenant: str, user_id: str) -> bool:
        doc = await self._docs.find_one({"_id": f"{tenant}|{user_id}"})
        return doc is None or doc.get("away_emails", True) is not False

    async def set_away_emails(
        self, tenant: str, user_id: str, enabled: bool, now: datetime
    ) -> None:
        await self._docs.update_one(
            {"_id": f"{tenant}|{user_id}"},
            {
                "$set": {"away_emails": enabled, "updated_at": now},
                "$setOnInsert": {"tenant": tenant, "user": user_id},
            },
            upsert=True,
        )
