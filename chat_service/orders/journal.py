"""What follows an order change once it is stored: the system message in the
order's conversation, the webhook event and the audit entry.

Messages are posted for every history entry newer than ``announced``, with a
``client_msg_id`` derived from order and version, so a retry or a repair pass
never posts twice. The note of a change (opened by the repository) is added
to its message here: the stored ``text`` never holds it. Audit entries name
ids, statuses and versions only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Final

from chat_service.audit import AuditActor, AuditLog
from chat_service.audit.service import PlannedEntry
from chat_service.auth.principals import ServerPrincipal
from chat_service.conversations.service import ConversationService
from chat_service.orders.repository import OrderRepository
from chat_service.orders.rules import Actor
from chat_service.webhooks.events import order_event
from chat_service.webhooks.service import WebhookOutbox

__all__ = ["AUDIT_ACTIONS", "OrderJournal", "message_text"]

Doc = dict[str, Any]
AUDIT_ACTIONS: Final = {
    "created": "order.created",
    "status": "order.status_changed",
    "shipment": "order.shipment_added",
    "backorder": "order.backorder_set",
    "approval": "order.approval_decided",
}
# Concurrent posts of a bulk upload; the message writer group-commits them.
ANNOUNCE_CONCURRENCY: Final = 64


def message_text(entry: Doc, limit: int) -> str:
    text = str(entry["text"])
    if entry.get("note"):
        text = f"{text}. Note: {entry['note']}"
    return text[:limit]


class OrderJournal:
    def __init__(
        self,
        *,
        repository: OrderRepository,
        conversations: ConversationService,
        max_text: int,
        outbox: WebhookOutbox | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._repo = repository
        self._conversations = conversations
        self._max_text = max_text
        self._outbox = outbox
        self._audit = audit

    async def announce(self, doc: Doc, *, mark: bool = True) -> int:
        """Post the system message of every change not yet announced, oldest
        first; returns the version announced through (0: nothing to do)."""
        done = doc.get("announced", 0)
        pending = [h for h in doc["history"] if h["version"] > done]
        if not pending:
            return 0
        server = ServerPrincipal(tenant=doc["tenant"])
        for entry in pending:
            # Recorded before the post, so the same repair pass redoes both.
            if self._outbox is not None and (event := order_event(doc, entry)):
                await self._outbox.record(doc["tenant"], *event)
            await self._conversations.send(
                server,
                doc["conversation_id"],
                client_msg_id=f"order-{doc['_id']}-v{entry['version']}",
                text=message_text(entry, self._max_text),
            )
        if mark:
            await self._repo.mark_announced(doc["_id"], pending[-1]["version"])
        return int(pending[-1]["version"])

    async def announce_many(self, docs: list[Doc]) -> None:
        """:meth:`announce` for many orders at once, marked in one write."""
        gate = asyncio.Semaphore(ANNOUNCE_CONCURRENCY)
        through: dict[str, int] = {}

        async def one(doc: Doc) -> None:
            async with gate:
                version = await self.announce(doc, mark=False)
                if version:
                    through[doc["_id"]] = version

        await asyncio.gather(*(one(doc) for doc in docs))
        await self._repo.mark_many_announced(through)

    async def audit(self, actor: Actor, doc: Doc, entry: Doc) -> None:
        if self._audit is not None:
            await self._audit.record_many(doc["tenant"], [_planned(actor, doc, entry)])

    async def audit_many(self, tenant: str, changes: Sequence[tuple[Actor, Doc, Doc]]) -> None:
        if self._audit is not None and changes:
            await self._audit.record_many(tenant, [_planned(*change) for change in changes])


def _planned(actor: Actor, doc: Doc, entry: Doc) -> PlannedEntry:
    details: Doc = {
        "version": entry["version"],
        "from_status": entry.get("from_status"),
        "to_status": entry.get("to_status"),
    }
    if entry.get("update_id"):
        details["update_id"] = entry["update_id"]
    if doc.get("quote_id"):
        details["quote_id"] = doc["quote_id"]
    return PlannedEntry(
        actor=AuditActor.of(actor),
        action=AUDIT_ACTIONS[entry["kind"]],  # type: ignore[arg-type]
        target_type="order",
        target_id=doc["order_id"],
        details=details,
    )
