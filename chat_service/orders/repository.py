"""Orders, buyer organisations' approval rules and bulk uploads in MongoDB.

Collections::

    orders        {_id, tenant, order_id, fingerprint, conversation_id, status, version,
                   announced, currency, subtotal, buyer{}, seller{}, lines[], shipments[],
                   backorders[], approval{} | None, history[], created_at, updated_at}
    buyer_orgs    {_id: "<tenant>|<org_id>", tenant, org_id, rules[], updated_at}
    order_uploads {_id: "<tenant>|<upload_id>", tenant, upload_id, fingerprint, state,
                   result | None, created_at, finished_at}

Every change of an order is one conditional update on ``(_id, version)`` that
also appends to ``history`` and increments ``version``: two writers that read
the same version cannot both win, so no change is ever lost (the loser
re-reads and re-decides). ``announced`` is the highest version whose system
message was posted; a crash between the update and the post is repaired by
the next write or retry. Amounts are stored as decimal strings, exactly.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chat_service.errors import Conflict
from chat_service.ids import new_id
from chat_service.orders.approvals import ApprovalRule
from chat_service.orders.fulfilment import Backorder, Shipment, ShipmentItem
from chat_service.orders.lines import OrderLine
from chat_service.orders.money import Money, order_totals
from chat_service.orders.schemas import OrderCreate
from chat_service.orders.states import OrderStatus

__all__ = [
    "OrderRepository",
    "backorder_doc",
    "backorders_of",
    "line_doc",
    "lines_of",
    "order_doc",
    "rule_doc",
    "rule_of",
    "shipment_doc",
    "shipments_of",
]

Doc = dict[str, Any]
# Filters the service may ask for when listing: fixed field names only.
LIST_FIELDS = {
    "buyer": "buyer.user_id",
    "seller": "seller.user_id",
    "approver": "approval.approver_ids",
}


class OrderRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._orders = db["orders"]
        self._orgs = db["buyer_orgs"]
        self._uploads = db["order_uploads"]

    async def ensure_indexes(self) -> None:
        await self._orders.create_index(
            [("tenant", ASCENDING), ("order_id", ASCENDING)], unique=True, name="order_id"
        )
        for role, field in LIST_FIELDS.items():
            await self._orders.create_index(
                [("tenant", ASCENDING), (field, ASCENDING), ("created_at", DESCENDING)], name=role
            )
        await self._orders.create_index(
            [("tenant", ASCENDING), ("created_at", DESCENDING)], name="recent"
        )

    # -- orders --------------------------------------------------------------

    async def insert_or_get(self, doc: Doc) -> tuple[Doc, bool]:
        """Store a new order; if one with the same marketplace id exists, return it."""
        try:
            await self._orders.insert_one(doc)
            return doc, True
        except DuplicateKeyError:
            existing = await self.get(doc["tenant"], doc["order_id"])
            if existing is None:
                raise Conflict("the order was created and removed concurrently") from None
            return existing, False

    async def get(self, tenant: str, order_id: str) -> Doc | None:
        return await self._orders.find_one({"tenant": tenant, "order_id": order_id})

    async def apply_change(
        self, doc_id: str, expected_version: int, fields: Doc, entry: Doc
    ) -> Doc | None:
        """Set ``fields``, append ``entry`` to the history and bump the version,
        only if the order is still at ``expected_version``; the updated order,
        or ``None`` when another writer got there first."""
        return await self._orders.find_one_and_update(
            {"_id": doc_id, "version": expected_version},
            {
                "$set": {**fields, "version": expected_version + 1},
                "$push": {"history": {**entry, "version": expected_version + 1}},
            },
            return_document=ReturnDocument.AFTER,
        )

    async def mark_announced(self, doc_id: str, version: int) -> None:
        await self._orders.update_one({"_id": doc_id}, {"$max": {"announced": version}})

    async def find(
        self,
        tenant: str,
        *,
        user_id: str | None,
        roles: list[str],
        status: str | None,
        limit: int,
    ) -> list[Doc]:
        """Orders of ``tenant``, newest first; with ``user_id``, only those where
        the user has one of ``roles`` (keys of ``LIST_FIELDS``)."""
        query: Doc = {"tenant": tenant}
        if user_id is not None:
            query["$or"] = [{LIST_FIELDS[role]: user_id} for role in roles]
        if status is not None:
            query["status"] = status
        cursor = self._orders.find(query).sort([("created_at", DESCENDING)]).limit(limit)
        return await cursor.to_list(None)

    # -- approval rules ------------------------------------------------------

    async def put_rules(self, tenant: str, org_id: str, rules: list[Doc], now: datetime) -> Doc:
        doc = {"tenant": tenant, "org_id": org_id, "rules": rules, "updated_at": now}
        await self._orgs.replace_one({"_id": f"{tenant}|{org_id}"}, doc, upsert=True)
        return doc

    async def get_rules(self, tenant: str, org_id: str) -> Doc | None:
        return await self._orgs.find_one({"_id": f"{tenant}|{org_id}", "tenant": tenant})

    # -- bulk uploads --------------------------------------------------------

    async def start_upload(
        self, tenant: str, upload_id: str, fingerprint: str, now: datetime
    ) -> tuple[Doc, bool]:
        """Record that an upload began; if it exists, return it (created=False)."""
        doc = {
            "_id": f"{tenant}|{upload_id}",
            "tenant": tenant,
            "upload_id": upload_id,
            "fingerprint": fingerprint,
            "state": "running",
            "result": None,
            "created_at": now,
            "finished_at": None,
        }
        try:
            await self._uploads.insert_one(doc)
            return doc, True
        except DuplicateKeyError:
            existing = await self._uploads.find_one({"_id": doc["_id"], "tenant": tenant})
            if existing is None:
                raise Conflict("the upload was recorded and removed concurrently") from None
            return existing, False

    async def finish_upload(self, tenant: str, upload_id: str, result: Doc, now: datetime) -> None:
        await self._uploads.update_one(
            {"_id": f"{tenant}|{upload_id}", "tenant": tenant},
            {"$set": {"state": "done", "result": result, "finished_at": now}},
        )


# -- the stored shape of the domain's objects (amounts as decimal strings) ----


def lines_of(doc: Doc) -> tuple[OrderLine, ...]:
    return tuple(
        OrderLine(
            ln["line_id"],
            ln["sku"],
            ln["name"],
            ln["quantity"],
            Money.parse(ln["unit_price"], doc["currency"]),
        )
        for ln in doc["lines"]
    )


def line_doc(line: OrderLine) -> Doc:
    return {
        "line_id": line.line_id,
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": str(line.unit_price.amount),
    }


def shipments_of(doc: Doc) -> tuple[Shipment, ...]:
    return tuple(
        Shipment(
            s["shipment_id"],
            tuple(ShipmentItem(i["quantity"], i["line_id"], i["sku"]) for i in s["items"]),
            s["carrier"],
            s["tracking_number"],
        )
        for s in doc["shipments"]
    )


def shipment_doc(shipment: Shipment, at: datetime) -> Doc:
    return {
        "shipment_id": shipment.shipment_id,
        "items": [
            {"line_id": i.line_id, "sku": i.sku, "quantity": i.quantity} for i in shipment.items
        ],
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "at": at,
    }


def backorders_of(doc: Doc) -> tuple[Backorder, ...]:
    return tuple(
        Backorder(b["line_id"], b["quantity"], date.fromisoformat(b["expected_date"]), b["note"])
        for b in doc["backorders"]
    )


def backorder_doc(backorder: Backorder) -> Doc:
    return {
        "line_id": backorder.line_id,
        "quantity": backorder.quantity,
        "expected_date": backorder.expected_date.isoformat(),
        "note": backorder.note,
    }


def rule_of(doc: Doc) -> ApprovalRule:
    return ApprovalRule(
        doc["rule_id"], Money.parse(doc["minimum"], doc["currency"]), frozenset(doc["approver_ids"])
    )


def rule_doc(rule: ApprovalRule) -> Doc:
    return {
        "rule_id": rule.rule_id,
        "minimum": str(rule.minimum.amount),
        "currency": rule.minimum.currency,
        "approver_ids": sorted(rule.approver_ids),
    }


def order_doc(
    *,
    tenant: str,
    request: OrderCreate,
    fingerprint: str,
    conversation_id: str,
    status: OrderStatus,
    lines: tuple[OrderLine, ...],
    rule: ApprovalRule | None,
    text: str,
    now: datetime,
) -> Doc:
    """A new order at version 1, its creation the first history entry."""
    totals = order_totals(lines)
    created = {"version": 1, "at": now, "actor": "marketplace", "kind": "created"}
    return {
        "_id": new_id("o"),
        "tenant": tenant,
        "order_id": request.order_id,
        "fingerprint": fingerprint,
        "conversation_id": conversation_id,
        "status": status.value,
        "version": 1,
        "announced": 0,
        "currency": totals.currency,
        "subtotal": str(totals.subtotal),
        "buyer": request.buyer.model_dump(include={"user_id", "display_name", "org_id"}),
        "seller": request.seller.model_dump(include={"user_id", "display_name"}),
        "lines": [line_doc(ln) for ln in lines],
        "shipments": [],
        "backorders": [],
        "approval": rule and {**rule_doc(rule), "decided_by": None, "decision": None},
        "history": [
            created
            | {"from_status": None, "to_status": status.value, "update_id": None, "text": text}
        ],
        "created_at": now,
        "updated_at": now,
    }
