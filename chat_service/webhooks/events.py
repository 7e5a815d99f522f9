"""What each event says: pure builders from the stored order, quote or message.

Payloads carry ids and business fields only. ``message.created`` never
carries the message text (it is encrypted at rest and may be masked or
redacted per policy): the marketplace fetches it through the API with the
ids given. Event ids are derived from the change itself (order and version,
quote and history entry, message id), so recording the same change again is
a no-op in the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from chat_service.conversations.schemas import MessagePublic

__all__ = ["Event", "message_event", "order_event", "quote_event"]

Doc = dict[str, Any]

_ORDER_KINDS = {
    "created": "order.created",
    "status": "order.status_changed",
    "shipment": "order.shipment_added",
    "backorder": "order.backorder_set",
    "approval": "order.approval_decided",
}
_QUOTE_ACTIONS = {
    "request": "quote.requested",
    "respond": "quote.responded",
    "counter": "quote.countered",
    "accept": "quote.accepted",
    "decline": "quote.declined",
    "withdraw": "quote.withdrawn",
    "expire": "quote.expired",
    "convert": "quote.converted",
}


class Event(NamedTuple):
    """In the argument order of ``WebhookOutbox.record(tenant, *event)``."""

    event_type: str
    payload: Doc
    event_id: str


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def order_event(doc: Doc, entry: Doc) -> Event | None:
    """The event of one order history entry (``None`` for unknown kinds)."""
    event_type = _ORDER_KINDS.get(entry.get("kind", ""))
    if event_type is None:
        return None
    payload: Doc = {
        "order_id": doc["order_id"],
        "conversation_id": doc["conversation_id"],
        "version": entry["version"],
        "from_status": entry.get("from_status"),
        "to_status": entry.get("to_status"),
        "actor": entry.get("actor"),
        "at": _iso(entry.get("at")),
    }
    if entry["kind"] == "created":
        payload |= {"currency": doc.get("currency"), "buyer_id": doc["buyer"]["user_id"]}
        payload["seller_id"] = doc["seller"]["user_id"]
    update_id = entry.get("update_id") or ""
    if entry["kind"] == "shipment":
        shipment_id = update_id.removeprefix("shipment:")
        for shipment in doc.get("shipments", []):
            if shipment.get("shipment_id") == shipment_id:
                payload["shipment"] = {
                    "shipment_id": shipment_id,
                    "carrier": shipment.get("carrier"),
                    "tracking_number": shipment.get("tracking_number"),
                    "items": [
                        {
                            "line_id": i.get("line_id"),
                            "sku": i.get("sku"),
                            "quantity": i.get("quantity"),
                        }
                        for i in shipment.get("items", [])
                    ],
                }
    if entry["kind"] == "backorder":
        payload["backorders"] = [
            {
                "line_id": b.get("line_id"),
                "quantity": b.get("quantity"),
                "expected_date": str(b.get("expected_date")),
            }
            for b in doc.get("backorders", [])
        ]
    if entry["kind"] == "approval":
        payload["decision"] = update_id.removeprefix("approval:") or None
    return Event(event_type, payload, f"order.{doc['_id']}.v{entry['version']}")


def quote_event(doc: Doc, event: Doc) -> Event | None:
    """The event of one quote history entry (``None`` for unknown actions)."""
    event_type = _QUOTE_ACTIONS.get(event.get("action", ""))
    if event_type is None:
        return None
    payload: Doc = {
        "quote_id": doc["quote_id"],
        "conversation_id": doc["conversation_id"],
        "event": event["n"],
        "by": event.get("by"),
        "user_id": event.get("user_id"),
        "revision": event.get("revision"),
        "at": _iso(event.get("at")),
        "buyer_id": doc["buyer"]["user_id"],
        "seller_id": doc["seller"]["user_id"],
    }
    conversion = doc.get("conversion_doc")
    if event_type == "quote.converted" and conversion:
        payload["conversion"] = {
            "document_id": conversion.get("document_id"),
            "currency": conversion.get("currency"),
            "subtotal": conversion.get("subtotal"),
        }
    return Event(event_type, payload, f"quote.{doc['quote_id']}.e{event['n']}")


def message_event(conv: Doc, message: MessagePublic) -> Event | None:
    """``message.created`` for a new text, system or action message; no text, ever."""
    if message.kind not in ("text", "system", "action"):
        return None
    payload: Doc = {
        "message_id": message.id,
        "conversation_id": message.conversation_id,
        "subject_type": conv.get("subject_type"),
        "subject_id": conv.get("subject_id"),
        "seq": message.seq,
        "sender_id": message.sender_id,
        "kind": message.kind,
        "attachments": len(message.attachments),
        "created_at": _iso(message.created_at),
    }
    return Event("message.created", payload, f"message.{message.id}")
