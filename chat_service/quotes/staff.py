"""The staff notifications of quote requests, as the notifier works through them.

:class:`QuoteService` records one ``pending`` document per requested quote
(:func:`chat_service.quotes.repository.staff_notification`); the notifier
claims it, sends one email to the marketplace's staff address and settles it.
States::

    pending --claim--> sending --sent----> sent
                          |  \\--skipped-> skipped   (no staff address)
                          |   \\-failed--> failed    (refused for good, or gave up)
                          |    \\--------> uncertain (the SMTP DATA outcome is unknown)
                          \\--release--> pending     (nothing was sent; retry later)

The claim is one atomic ``find_one_and_update`` with a fresh ``claim_id``;
every later step is conditional on it, so two workers never send the same
notification. Right before SMTP DATA the claim gets ``data_started_at``. A
worker that dies while ``sending`` leaves a lease: once it lapses, a claim
without ``data_started_at`` goes back to ``pending`` (the server never had
the email), one with it is settled ``uncertain`` and never resent (at most
one email, as for away emails).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["StaffNotificationRepository"]

Doc = dict[str, Any]


class StaffNotificationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._notes = db["staff_notifications"]
        self._quotes = db["quotes"]

    async def claim(self, now: datetime, claim_id: str, lease_until: datetime) -> Doc | None:
        """Take one due pending notification, oldest first; ``None`` if none."""
        return await self._notes.find_one_and_update(
            {"status": "pending", "next_attempt_at": {"$not": {"$gt": now}}},
            {
                "$set": {"status": "sending", "claim_id": claim_id, "lease_until": lease_until},
                "$inc": {"attempts": 1},
                "$unset": {"data_started_at": ""},
            },
            sort=[("created_at", 1)],
            return_document=ReturnDocument.AFTER,
        )

    async def settle(self, doc_id: str, claim_id: str, fields: Doc) -> bool:
        """End a claimed notification (sent, skipped, failed, uncertain)."""
        result = await self._notes.update_one(
            {"_id": doc_id, "status": "sending", "claim_id": claim_id}, {"$set": fields}
        )
        return result.modified_count == 1

    async def mark_data_started(self, doc_id: str, claim_id: str, now: datetime) -> bool:
        """Right before SMTP DATA: from here on a crash leaves the outcome unknown."""
        result = await self._notes.update_one(
            {"_id": doc_id, "status": "sending", "claim_id": claim_id},
            {"$set": {"data_started_at": now}},
        )
        return result.modified_count == 1

    async def release(self, doc_id: str, claim_id: str, retry_at: datetime, error: str) -> bool:
        """Give a claim back after a failure that sent nothing."""
        result = await self._notes.update_one(
            {"_id": doc_id, "status": "sending", "claim_id": claim_id},
            {
                "$set": {
                    "status": "pending",
                    "claim_id": None,
                    "next_attempt_at": retry_at,
                    "last_error": error,
                }
            },
        )
        return result.modified_count == 1

    async def lapsed(self, now: datetime, limit: int) -> list[Doc]:
        cursor = self._notes.find({"status": "sending", "lease_until": {"$lte": now}}).limit(limit)
        return await cursor.to_list(None)

    async def get(self, doc_id: str) -> Doc | None:
        return await self._notes.find_one({"_id": doc_id})

    async def quote_of(self, note: Doc) -> Doc | None:
        return await self._quotes.find_one({"tenant": note["tenant"], "quote_id": note["quote_id"]})
