"""Webhook documents in MongoDB.

``webhooks`` (one per tenant, ``_id`` = tenant)::

    {_id, url, events[], enabled, secret: {key_id, blob}, previous_secret?,
     previous_until?, alert_email: {key_id, blob} | None,
     consecutive_failures, alert_sent_at, created_at, updated_at}

``webhook_deliveries`` (the outbox and the delivery log; ``_id`` =
``"<tenant>|<event id>"``, so recording an event twice inserts nothing)::

    {_id, tenant, event_id, event_type, payload, status, attempts,
     next_attempt_at, claim_id, last_error, last_status_code, created_at,
     delivered_at, updated_at}

A pending delivery is claimed by moving its ``next_attempt_at`` forward by a
lease and setting ``claim_id``: a worker that dies mid-delivery leaves it to
be taken again when the lease lapses; only the claim holder may finish it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["WebhookRepository"]

Doc = dict[str, Any]


class WebhookRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._configs = db["webhooks"]
        self._deliveries = db["webhook_deliveries"]

    async def ensure_indexes(self) -> None:
        await self._deliveries.create_index(
            [("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="status_due"
        )
        await self._deliveries.create_index(
            [("tenant", ASCENDING), ("created_at", DESCENDING)], name="tenant_log"
        )

    # -- configuration -------------------------------------------------------

    async def get_config(self, tenant: str) -> Doc | None:
        return await self._configs.find_one({"_id": tenant})

    async def insert_config(self, doc: Doc) -> bool:
        try:
            await self._configs.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def update_config(self, tenant: str, fields: Doc) -> Doc | None:
        return await self._configs.find_one_and_update(
            {"_id": tenant}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )

    async def count_failure(self, tenant: str) -> Doc | None:
        return await self._configs.find_one_and_update(
            {"_id": tenant},
            {"$inc": {"consecutive_failures": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def reset_failures(self, tenant: str) -> None:
        await self._configs.update_one(
            {
                "_id": tenant,
                "$or": [{"consecutive_failures": {"$gt": 0}}, {"alert_sent_at": {"$ne": None}}],
            },
            {"$set": {"consecutive_failures": 0, "alert_sent_at": None}},
        )

    async def claim_alert(self, tenant: str, threshold: int, now: datetime) -> Doc | None:
        """Take the right to send the failure alert: once per failure streak."""
        return await self._configs.find_one_and_update(
            {"_id": tenant, "alert_sent_at": None, "consecutive_failures": {"$gte": threshold}},
            {"$set": {"alert_sent_at": now}},
            return_document=ReturnDocument.AFTER,
        )

    async def release_alert(self, tenant: str, claimed_at: datetime) -> None:
        await self._configs.update_one(
            {"_id": tenant, "alert_sent_at": claimed_at}, {"$set": {"alert_sent_at": None}}
        )

    # -- deliveries ----------------------------------------------------------

    async def insert_delivery(self, doc: Doc) -> bool:
        """False if this event was recorded before."""
        try:
            await self._deliveries.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def claim_due(self, now: datetime, claim_id: str, lease_until: datetime) -> Doc | None:
        return await self._deliveries.find_one_and_update(
            {"status": "pending", "next_attempt_at": {"$lte": now}},
            {"$set": {"claim_id": claim_id, "next_attempt_at": lease_until}},
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def claim_one(
        self, delivery_id: str, now: datetime, claim_id: str, lease_until: datetime
    ) -> Doc | None:
        """Take one delivery now, even before its next attempt is due, unless
        another worker holds it or it is finished."""
        return await self._deliveries.find_one_and_update(
            {
                "_id": delivery_id,
                "status": "pending",
                "$or": [{"claim_id": None}, {"next_attempt_at": {"$lte": now}}],
            },
            {"$set": {"claim_id": claim_id, "next_attempt_at": lease_until}},
            return_document=ReturnDocument.AFTER,
        )

    async def finish_attempt(self, delivery_id: str, claim_id: str, fields: Doc) -> bool:
        result = await self._deliveries.update_one(
            {"_id": delivery_id, "claim_id": claim_id},
            {"$set": {**fields, "claim_id": None}, "$inc": {"attempts": 1}},
        )
        return result.modified_count == 1

    async def get_delivery(self, delivery_id: str) -> Doc | None:
        return await self._deliveries.find_one({"_id": delivery_id})

    async def list_deliveries(self, tenant: str, status: str | None, limit: int) -> list[Doc]:
        query: Doc = {"tenant": tenant}
        if status is not None:
            query["status"] = status
        return (
            await self._deliveries.find(query, {"payload": 0})
            .sort("created_at", DESCENDING)
            .limit(limit)
            .to_list(None)
        )
