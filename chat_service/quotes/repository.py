"""Quotes and pending staff notifications in MongoDB.

Collections::

    quotes              {_id, tenant, quote_id, buyer{user_id, display_name},
                         seller{...}, conversation_id, state{...}, status, expires_at,
                         version, events[{n, action, by, user_id, revision, at, posted}],
                         conversion_doc{document_id, ..., handed_off, order_id?},
                         order_id?, created_at, updated_at}
    staff_notifications {_id: "<tenant>|<kind>|<quote_id>", tenant, kind, quote_id,
                         conversation_id, created_at, status: "pending"}

``state`` is the pure :class:`QuoteState` (its note, revision notes and
reason sealed by a :class:`QuoteSealer`), with amounts as decimal strings
(exact, and never a float on the way back) and options as ``[key, value]``
pairs, so a marketplace's option names can never become field names.
``status`` and ``expires_at`` are copies of what the state says, kept at the
top level for queries (the expiry job's index). Every change is a compare-and-
set on ``version``: of two concurrent writers exactly one wins.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chat_service.errors import Conflict
from chat_service.quotes.models import (
    Conversion,
    ConversionKind,
    PaymentTerms,
    QuoteLine,
    QuoteState,
    Revision,
)
from chat_service.quotes.revisions import expires_at
from chat_service.quotes.sealing import QuoteSealer
from chat_service.quotes.states import QuoteStatus

__all__ = [
    "QuoteRepository",
    "event_doc",
    "staff_notification",
    "state_fields",
    "state_from_doc",
    "state_to_doc",
]

Doc = dict[str, Any]
OPEN_STATUSES = [QuoteStatus.RESPONDED.value, QuoteStatus.COUNTERED.value]


def _revision_doc(revision: Revision) -> Doc:
    return {
        "number": revision.number,
        "author": revision.author,
        "kind": revision.kind,
        "prices": [[line_id, str(price)] for line_id, price in revision.prices],
        "created_at": revision.created_at,
        "valid_until": revision.valid_until,
        "note": revision.note,
        "entered_by": revision.entered_by,
    }


def state_to_doc(state: QuoteState) -> Doc:
    conversion = state.conversion
    return {
        "status": state.status.value,
        "currency": state.currency,
        "lines": [
            {
                "line_id": line.line_id,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "options": [[key, value] for key, value in line.options],
            }
            for line in state.lines
        ],
        "requested_at": state.requested_at,
        "updated_at": state.updated_at,
        "note": state.note,
        "revisions": [_revision_doc(revision) for revision in state.revisions],
        "accepted_revision": state.accepted_revision,
        "closed_by": state.closed_by,
        "reason": state.reason,
        "conversion": None
        if conversion is None
        else {
            "kind": conversion.kind.value,
            "payment_terms": conversion.payment_terms.value,
            "revision": conversion.revision,
            "converted_at": conversion.converted_at,
            "reference": conversion.reference,
        },
    }


def state_from_doc(doc: Doc) -> QuoteState:
    conversion = doc.get("conversion")
    return QuoteState(
        status=QuoteStatus(doc["status"]),
        currency=doc["currency"],
        lines=tuple(
            QuoteLine(
                line["line_id"],
                line["sku"],
                line["name"],
                line["quantity"],
                tuple((key, value) for key, value in line["options"]),
            )
            for line in doc["lines"]
        ),
        requested_at=doc["requested_at"],
        updated_at=doc["updated_at"],
        note=doc.get("note"),
        revisions=tuple(
            Revision(
                number=r["number"],
                author=r["author"],
                kind=r["kind"],
                prices=tuple((line_id, Decimal(price)) for line_id, price in r["prices"]),
                created_at=r["created_at"],
                valid_until=r.get("valid_until"),
                note=r.get("note"),
                entered_by=r.get("entered_by"),
            )
            for r in doc["revisions"]
        ),
        accepted_revision=doc.get("accepted_revision"),
        closed_by=doc.get("closed_by"),
        reason=doc.get("reason"),
        conversion=None
        if conversion is None
        else Conversion(
            kind=ConversionKind(conversion["kind"]),
            payment_terms=PaymentTerms(conversion["payment_terms"]),
            revision=conversion["revision"],
            converted_at=conversion["converted_at"],
            reference=conversion.get("reference"),
        ),
    )


def state_fields(state: QuoteState) -> Doc:
    """The stored fields that follow from ``state``."""
    return {
        "state": state_to_doc(state),
        "status": state.status.value,
        "expires_at": expires_at(state),
        "updated_at": state.updated_at,
    }


def event_doc(
    n: int,
    action: str,
    by: str,
    user_id: str | None,
    revision: int | None,
    at: datetime,
    text: str,
) -> Doc:
    """One entry of a quote's history; ``posted`` turns true once its system
    message is in the conversation."""
    return {
        "n": n,
        "action": action,
        "by": by,
        "user_id": user_id,
        "revision": revision,
        "at": at,
        "text": text,
        "posted": False,
    }


def staff_notification(quote: Doc) -> Doc:
    """The pending "quote.requested" notification of ``quote``; its ``_id``
    makes it unique per quote. No addresses here: the notifier looks up the
    marketplace's configured staff address when it sends."""
    return {
        "_id": f"{quote['tenant']}|quote.requested|{quote['quote_id']}",
        "tenant": quote["tenant"],
        "kind": "quote.requested",
        "quote_id": quote["quote_id"],
        "conversation_id": quote["conversation_id"],
        "created_at": quote["created_at"],
        "status": "pending",
        "attempts": 0,
    }


class QuoteRepository:
    def __init__(self, db: AsyncDatabase[Doc], *, sealer: QuoteSealer | None = None) -> None:
        self._quotes = db["quotes"]
        self._notifications = db["staff_notifications"]
        # None only in tests of parts that never store a note.
        self._sealer = sealer

    async def _open(self, doc: Doc | None) -> Doc | None:
        return doc if self._sealer is None else await self._sealer.open_quote(doc)

    async def _open_all(self, docs: list[Doc]) -> list[Doc]:
        return [d for d in [await self._open(doc) for doc in docs] if d is not None]

    async def _sealed(self, tenant: str, quote_id: str, fields: Doc) -> Doc:
        if self._sealer is None or "state" not in fields:
            return fields
        return {**fields, "state": await self._sealer.seal_state(tenant, quote_id, fields["state"])}

    async def ensure_indexes(self) -> None:
        await self._quotes.create_index(
            [("tenant", ASCENDING), ("quote_id", ASCENDING)], unique=True, name="quote_id"
        )
        for side in ("buyer", "seller"):
            await self._quotes.create_index(
                [("tenant", ASCENDING), (f"{side}.user_id", ASCENDING)], name=side
            )
        await self._quotes.create_index(
            [("status", ASCENDING), ("expires_at", ASCENDING)], name="due"
        )
        await self._quotes.create_index([("events.posted", ASCENDING)], name="unposted")
        await self._notifications.create_index(
            [("status", ASCENDING), ("created_at", ASCENDING)], name="pending"
        )

    async def insert(self, doc: Doc) -> bool:
        """Store a new quote; ``False`` if the tenant already has that quote id."""
        stored = await self._sealed(doc["tenant"], doc["quote_id"], doc)
        try:
            await self._quotes.insert_one({**stored})
        except DuplicateKeyError:
            return False
        return True

    async def free_quote_id(self, tenant: str) -> str:
        """A generated quote id ("Q-" and 10 hex digits) the tenant does not use."""
        for _ in range(5):
            candidate = f"Q-{secrets.token_hex(5).upper()}"
            if await self.get(tenant, candidate) is None:
                return candidate
        raise Conflict("could not allocate a quote id; try again")

    async def get(self, tenant: str, quote_id: str) -> Doc | None:
        return await self._open(
            await self._quotes.find_one({"tenant": tenant, "quote_id": quote_id})
        )

    async def by_id(self, doc_id: str) -> Doc | None:
        return await self._open(await self._quotes.find_one({"_id": doc_id}))

    async def compare_and_set(
        self, doc_id: str, version: int, fields: Doc, events: Sequence[Doc]
    ) -> bool:
        """Apply ``fields`` and append ``events`` if the quote is still at
        ``version``; ``False`` if another writer got there first."""
        tenant, _, quote_id = doc_id.partition("|")
        fields = await self._sealed(tenant, quote_id, fields)
        result = await self._quotes.update_one(
            {"_id": doc_id, "version": version},
            {
                "$set": {**fields, "version": version + 1},
                "$push": {"events": {"$each": list(events)}},
            },
        )
        return result.modified_count == 1

    async def mark_posted(self, doc_id: str, n: int) -> None:
        # Events are numbered 1, 2, ... in array order, so n-1 is the index.
        await self._quotes.update_one({"_id": doc_id}, {"$set": {f"events.{n - 1}.posted": True}})

    async def mark_handed_off(self, doc_id: str, order_id: str | None) -> None:
        """The converted quote's document was handed off (to an order, if named)."""
        fields: Doc = {"conversion_doc.handed_off": True}
        if order_id is not None:
            fields |= {"order_id": order_id, "conversion_doc.order_id": order_id}
        await self._quotes.update_one({"_id": doc_id}, {"$set": fields})

    async def not_handed_off(self, after_id: str | None, limit: int) -> list[Doc]:
        """Converted quotes whose hand-off a crash left undone."""
        query: Doc = {"status": QuoteStatus.CONVERTED.value, "conversion_doc.handed_off": False}
        if after_id is not None:
            query["_id"] = {"$gt": after_id}
        cursor = self._quotes.find(query).sort("_id", ASCENDING).limit(limit)
        return await self._open_all(await cursor.to_list(None))

    async def for_user(
        self, tenant: str, user_id: str, status: str | None, limit: int
    ) -> list[Doc]:
        query: Doc = {
            "tenant": tenant,
            "$or": [{"buyer.user_id": user_id}, {"seller.user_id": user_id}],
        }
        if status is not None:
            query["status"] = status
        return await self._list(query, limit)

    async def for_tenant(self, tenant: str, status: str | None, limit: int) -> list[Doc]:
        query: Doc = {"tenant": tenant}
        if status is not None:
            query["status"] = status
        return await self._list(query, limit)

    async def _list(self, query: Doc, limit: int) -> list[Doc]:
        cursor = (
            self._quotes.find(query)
            .sort([("updated_at", DESCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return await self._open_all(await cursor.to_list(None))

    async def due(self, now: datetime, after_id: str | None, limit: int) -> list[Doc]:
        """Open quotes of every tenant whose offer lapsed by ``now``, in ``_id``
        order after ``after_id`` (the job's resumable cursor)."""
        query: Doc = {"status": {"$in": OPEN_STATUSES}, "expires_at": {"$lte": now}}
        if after_id is not None:
            query["_id"] = {"$gt": after_id}
        cursor = self._quotes.find(query).sort("_id", ASCENDING).limit(limit)
        return await self._open_all(await cursor.to_list(None))

    async def unposted(self, after_id: str | None, limit: int) -> list[Doc]:
        """Quotes with an event whose system message is not known to be posted
        (a crash between the write and the post)."""
        query: Doc = {"events.posted": False}
        if after_id is not None:
            query["_id"] = {"$gt": after_id}
        cursor = self._quotes.find(query).sort("_id", ASCENDING).limit(limit)
        return await self._open_all(await cursor.to_list(None))

    async def add_notification(self, doc: Doc) -> bool:
        """Record a pending staff notification once; ``False`` if it exists."""
        try:
            await self._notifications.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True
