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
Notes (history and back-orders) are sealed by a :class:`NoteSealer` on the
way in and opened on the way out, so callers only ever see plain text.
An order made from a quote names it (``quote_id``, ``payment_terms``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chat_service.errors import Conflict
from chat_service.ids import new_id
from chat_service.orders.approvals import ApprovalRule
from chat_service.orders.fulfilment import Backorder, Shipment, ShipmentItem
from chat_service.orders.lines import OrderLine
from chat_service.orders.money import Money, order_totals
from chat_service.orders.schemas import OrderCreate
from chat_service.orders.sealing import NoteSealer
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
    def __init__(self, db: AsyncDatabase[Doc], *, sealer: NoteSealer | None = None) -> None:
        self._orders = db["orders"]
        self._orgs = db["buyer_orgs"]
        self._uploads = db["order_uploads"]
        # None only where no note is ever written (tests of other parts).
        self._sealer = sealer

    async def _open(self, doc: Doc | None) -> Doc | None:
        return doc if self._sealer is None else await self._sealer.open_order(doc)

    async def _sealed(self, tenant: str, doc_id: str, fields: Doc, entry: Doc) -> tuple[Doc, Doc]:
        if self._sealer is None:
            return fields, entry
        if "backorders" in fields:
            fields = {
                **fields,
                "backorders": await self._sealer.seal_backorders(
                    tenant, doc_id, fields["backorders"]
                ),
            }
        return fields, await self._sealer.seal_entry(tenant, doc_id, entry)

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
        return await self._open(
            await self._orders.find_one({"tenant": tenant, "order_id": order_id})
        )

    async def get_many(self, tenant: str, order_ids: list[str]) -> dict[str, Doc]:
        """The tenant's orders with these marketplace ids, by id (one query)."""
        cursor = self._orders.find({"tenant": tenant, "order_id": {"$in": order_ids}})
        found: dict[str, Doc] = {}
        for doc in await cursor.to_list(None):
            opened = await self._open(doc)
            assert opened is not None
            found[opened["order_id"]] = opened
        return found

    async def apply_change(
        self, tenant: str, doc_id: str, expected_version: int, fields: Doc, entry: Doc
    ) -> Doc | None:
        """Set ``fields``, append ``entry`` to the history and bump the version,
        only if the order is still at ``expected_version``; the updated order,
        or ``None`` when another writer got there first."""
        fields, entry = await self._sealed(
            tenant, doc_id, fields, {**entry, "version": expected_version + 1}
        )
        return await self._open(
            await self._orders.find_one_and_update(
                {"_id": doc_id, "tenant": tenant, "version": expected_version},
                {
                    "$set": {**fields, "version": expected_version + 1},
                    "$push": {"history": entry},
                },
                return_document=ReturnDocument.AFTER,
            )
        )

    async def apply_many(self, tenant: str, changes: list[tuple[Doc, Doc, list[Doc]]]) -> set[str]:
        """Several :meth:`apply_change` in one ``bulk_write``: each change is
        ``(order, fields, entries)`` with ``entries`` the history entries to
        append (versions and distinct ``update_id`` set, consecutive after the
        order's). Each update is
        conditional on the order's version; returns the ``_id`` of the orders
        changed (an order another writer changed meanwhile is left out whole)."""
        if not changes:
            return set()
        ops = []
        for doc, fields, entries in changes:
            sealed_entries = []
            for entry in entries:
                _, sealed = await self._sealed(tenant, doc["_id"], {}, entry)
                sealed_entries.append(sealed)
            ops.append(
                UpdateOne(
                    {"_id": doc["_id"], "tenant": tenant, "version": doc["version"]},
                    {
                        "$set": {**fields, "version": entries[-1]["version"]},
                        "$push": {"history": {"$each": sealed_entries}},
                    },
                )
            )
        result = await self._orders.bulk_write(ops, ordered=False)
        ids = [doc["_id"] for doc, _, _ in changes]
        if result.matched_count == len(ops):
            return set(ids)
        # Some lost a race: ours are the orders that now hold our first entry.
        marks = {doc["_id"]: entries[0]["update_id"] for doc, _, entries in changes}
        cursor = self._orders.find({"_id": {"$in": ids}}, {"history.update_id": 1})
        return {
            found["_id"]
            for found in await cursor.to_list(None)
            if marks[found["_id"]] in {h.get("update_id") for h in found["history"]}
        }

    async def mark_announced(self, doc_id: str, version: int) -> None:
        await self._orders.update_one({"_id": doc_id}, {"$max": {"announced": version}})

    async def mark_many_announced(self, versions: dict[str, int]) -> None:
        """:meth:`mark_announced` for many orders: one update per distinct version."""
        by_version: dict[int, list[str]] = {}
        for doc_id, version in versions.items():
            by_version.setdefault(version, []).append(doc_id)
        if by_version:
            await self._orders.bulk_write(
                [
                    UpdateMany({"_id": {"$in": ids}}, {"$max": {"announced": version}})
                    for version, ids in by_version.items()
                ],
                ordered=False,
            )

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
        return [d for d in [await self._open(doc) for doc in await cursor.to_list(None)] if d]

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
