"""The orders service layer: create, read and change orders (status, shipments,
back-orders, approvals); who may do what is :mod:`chat_service.orders.rules`.

Each change is one write conditional on the order's version, retried after a
lost race, then posted to the conversation as a system message with a
``client_msg_id`` derived from order and version: a retry never posts twice,
and a crash before the post is repaired by the next write or retry
(:mod:`chat_service.orders.journal`). Each stored change is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from chat_service.audit import AuditLog
from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.clock import Clock
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.conversations.service import ConversationService
from chat_service.errors import Conflict, NotFound
from chat_service.orders.approvals import ApprovalRule, check_rules, decide_approval
from chat_service.orders.approvals import required_approver as find_rule
from chat_service.orders.errors import NotAnApprover
from chat_service.orders.fulfilment import (
    Shipment,
    ShipmentItem,
    add_shipment,
    reconcile_backorders,
    remaining_quantities,
    set_backorder,
)
from chat_service.orders.journal import OrderJournal
from chat_service.orders.money import Money, check_currency, order_totals
from chat_service.orders.repository import (
    OrderRepository,
    backorder_doc,
    backorders_of,
    lines_of,
    order_doc,
    rule_doc,
    rule_of,
    shipment_doc,
    shipments_of,
)
from chat_service.orders.rules import (
    BACKORDER_OPEN,
    Actor,
    actor_label,
    check_fulfiller,
    count_text,
    find_line,
    fingerprint,
    history_entry,
    may_see,
    order_lines,
    status_change,
    valid_external_id,
)
from chat_service.orders.schemas import (
    ApprovalDecision,
    ApprovalRuleIn,
    ApprovalRulesPublic,
    ApprovalRulesPut,
    BackorderCreate,
    OrderCreate,
    OrderPublic,
    ShipmentCreate,
    order_public,
)
from chat_service.orders.states import OrderStatus, parse_status, transition
from chat_service.webhooks.service import WebhookOutbox

__all__ = ["Actor", "OrderService", "QuoteLink"]

Doc = dict[str, Any]
Decision = Callable[[Doc], tuple[Doc, Doc]]

_S = OrderStatus
# Lost races on one order before giving up with ``order_busy``.
MAX_ATTEMPTS: Final = 20
MAX_SYSTEM_TEXT: Final = 2000


@dataclass(frozen=True)
class QuoteLink:
    """The quote an order is made from, and the payment terms agreed there."""

    quote_id: str
    payment_terms: str


class OrderService:
    def __init__(
        self,
        *,
        repository: OrderRepository,
        conversations: ConversationService,
        clock: Clock,
        max_message_chars: int = 4000,
        outbox: WebhookOutbox | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._repo = repository
        self._conversations = conversations
        self._clock = clock
        self.journal = OrderJournal(
            repository=repository,
            conversations=conversations,
            max_text=min(max_message_chars, MAX_SYSTEM_TEXT),
            outbox=outbox,
            audit=audit,
        )

    # -- creating and reading ------------------------------------------------

    async def create(
        self, server: ServerPrincipal, request: OrderCreate, *, quote: QuoteLink | None = None
    ) -> tuple[OrderPublic, bool]:
        """Create an order and open its conversation; the same ``order_id``
        again returns the existing order (created=False) if the content is
        the same, else 409 ``order_exists``. ``quote``: the order is a
        converted quote's (see :mod:`chat_service.quotes.handoff`)."""
        currency = check_currency(request.currency)
        lines = order_lines(request, currency)
        totals = order_totals(lines)
        content = fingerprint(request, lines)
        existing = await self._repo.get(server.tenant, request.order_id)
        if existing is not None:
            return await self._same_order(existing, content), False
        rule = await self._approval_rule(server.tenant, request.buyer.org_id, totals.money)
        conversation, _ = await self._conversations.open_conversation(
            server,
            ConversationCreate(
                subject_type="order",
                subject_id=request.order_id,
                title=f"Order #{request.order_id}",
                participants=[
                    ParticipantIn(
                        role=role, **party.model_dump(include={"user_id", "display_name", "email"})
                    )
                    for role, party in (("buyer", request.buyer), ("seller", request.seller))
                ],
            ),
        )
        status = _S.PLACED if rule is None else _S.AWAITING_APPROVAL
        items = sum(line.quantity for line in lines)
        text = (
            f"Order #{request.order_id} placed: {count_text(items)}, {currency} {totals.subtotal}"
        )
        if rule is not None:
            text += f"; it waits for approval (orders of {rule.minimum} or more)"
        doc = order_doc(
            tenant=server.tenant,
            request=request,
            fingerprint=content,
            conversation_id=conversation.id,
            status=status,
            lines=lines,
            rule=rule,
            text=text,
            now=self._clock.now(),
        )
        if quote is not None:
            doc |= {"quote_id": quote.quote_id, "payment_terms": quote.payment_terms}
        stored, created = await self._repo.insert_or_get(doc)
        if not created:
            return await self._same_order(stored, content), False
        await self.journal.audit(server, stored, stored["history"][0])
        await self.journal.announce(stored)
        return order_public(stored), True

    async def get(self, actor: Actor, order_id: str) -> OrderPublic:
        return order_public(await self._visible(actor, order_id))

    async def list_orders(
        self, actor: Actor, *, role: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[OrderPublic]:
        """The backend sees every order of its tenant; a user those where they
        are buyer, seller or approver (``role`` narrows it to one)."""
        wanted = None if status is None else parse_status(status).value
        limit = max(1, min(limit, 200))
        user_id = None if isinstance(actor, ServerPrincipal) else actor.user_id
        roles = [role] if role else ["buyer", "seller", "approver"]
        docs = await self._repo.find(
            actor.tenant, user_id=user_id, roles=roles, status=wanted, limit=limit
        )
        return [order_public(doc) for doc in docs]

    # -- changes -------------------------------------------------------------

    async def update_status(
        self,
        actor: Actor,
        order_id: str,
        status: str,
        *,
        note: str | None = None,
        update_id: str | None = None,
    ) -> tuple[OrderPublic, bool]:
        """Move the order to ``status``; returns (order, changed). A repeated
        ``update_id`` changes nothing and returns the order as it is."""
        target = parse_status(status)

        def decide(doc: Doc) -> tuple[Doc, Doc]:
            return status_change(actor, doc, target, note)

        return await self._change(actor, order_id, decide, update_id)

    async def add_shipment(
        self, actor: Actor, order_id: str, request: ShipmentCreate
    ) -> tuple[OrderPublic, bool]:
        """Record a shipment (seller or backend); the order becomes
        ``partially_shipped`` or ``shipped``. A shipment id is recorded once:
        sending it again returns the order unchanged."""

        def decide(doc: Doc) -> tuple[Doc, Doc]:
            check_fulfiller(actor, doc)
            current = parse_status(doc["status"])
            shipment = Shipment(
                request.shipment_id,
                tuple(ShipmentItem(i.quantity, i.line_id, i.sku) for i in request.items),
                request.carrier,
                request.tracking_number,
            )
            outcome = add_shipment(lines_of(doc), shipments_of(doc), shipment)
            target = transition(current, outcome.status)
            backorders = reconcile_backorders(backorders_of(doc), outcome.remaining)
            new = outcome.shipment
            carried = ", ".join(f"{i.quantity} x {i.sku}" for i in new.items)
            via = f" with {new.carrier}" if new.carrier else ""
            tracking = f" (tracking {new.tracking_number})" if new.tracking_number else ""
            text = (
                f"Order #{doc['order_id']}: shipment {new.shipment_id} sent{via}{tracking}: "
                f"{carried}; the order is now {target.value}"
            )
            fields: Doc = {
                "status": target.value,
                "shipments": [*doc["shipments"], shipment_doc(new, self._clock.now())],
                "backorders": [backorder_doc(b) for b in backorders],
            }
            return fields, history_entry("shipment", current, target, None, text)

        return await self._change(actor, order_id, decide, f"shipment:{request.shipment_id}")

    async def set_backorder(
        self, actor: Actor, order_id: str, request: BackorderCreate
    ) -> OrderPublic:
        """Mark some still-unshipped quantity of a line as late (seller or
        backend); replaces an earlier back-order of the line. Status unchanged."""

        def decide(doc: Doc) -> tuple[Doc, Doc]:
            check_fulfiller(actor, doc)
            current = parse_status(doc["status"])
            if current not in BACKORDER_OPEN:
                raise Conflict(
                    f"an order that is {current.value} takes no back-orders", code="order_closed"
                )
            lines = lines_of(doc)
            line = find_line(lines, request.line_id, request.sku)
            remaining = remaining_quantities(lines, shipments_of(doc))[line.line_id]
            backorder = set_backorder(
                line,
                request.expected_date,
                today=self._clock.now().date(),
                remaining=remaining,
                quantity=request.quantity,
                note=request.note,
            )
            kept = [b for b in doc["backorders"] if b["line_id"] != line.line_id]
            text = (
                f"Order #{doc['order_id']}: {backorder.quantity} x {line.sku} back-ordered, "
                f"expected {backorder.expected_date.isoformat()}"
            )
            fields = {"backorders": [*kept, backorder_doc(backorder)]}
            return fields, history_entry("backorder", current, current, request.note, text)

        order, _ = await self._change(actor, order_id, decide, None)
        return order

    async def decide_approval(
        self, user: UserPrincipal, order_id: str, request: ApprovalDecision
    ) -> tuple[OrderPublic, bool]:
        """An approver of the order's rule approves or rejects it."""
        approve = request.decision == "approve"

        def decide(doc: Doc) -> tuple[Doc, Doc]:
            if not doc.get("approval"):
                raise NotAnApprover("this order needs no approval")
            current = parse_status(doc["status"])
            target = decide_approval(
                current, rule_of(doc["approval"]), user.user_id, approve=approve
            )
            verb = "approved" if approve else "rejected"
            text = f"Order #{doc['order_id']} {verb} by {user.name}"
            fields = {
                "status": target.value,
                "approval.decided_by": user.user_id,
                "approval.decision": request.decision,
            }
            return fields, history_entry("approval", current, target, request.note, text)

        return await self._change(user, order_id, decide, f"approval:{request.decision}")

    # -- approval rules ------------------------------------------------------

    async def put_approval_rules(
        self, server: ServerPrincipal, org_id: str, request: ApprovalRulesPut
    ) -> ApprovalRulesPublic:
        """Replace a buyer organisation's rules; orders already placed keep the
        rule they were placed under."""
        if not valid_external_id(org_id):
            raise NotFound("buyer organisation not found")
        checked = check_rules(
            ApprovalRule(r.rule_id, Money.parse(r.minimum, r.currency), frozenset(r.approver_ids))
            for r in request.rules
        )
        docs = [rule_doc(r) for r in checked]
        stored = await self._repo.put_rules(server.tenant, org_id, docs, self._clock.now())
        return ApprovalRulesPublic(
            org_id=org_id,
            rules=[ApprovalRuleIn(**d) for d in docs],
            updated_at=stored["updated_at"],
        )

    async def get_approval_rules(self, server: ServerPrincipal, org_id: str) -> ApprovalRulesPublic:
        if not valid_external_id(org_id):
            raise NotFound("buyer organisation not found")
        stored = await self._repo.get_rules(server.tenant, org_id)
        if stored is None:
            return ApprovalRulesPublic(org_id=org_id, rules=[], updated_at=None)
        return ApprovalRulesPublic(
            org_id=org_id,
            rules=[ApprovalRuleIn(**d) for d in stored["rules"]],
            updated_at=stored["updated_at"],
        )

    # -- internals -----------------------------------------------------------

    async def _approval_rule(
        self, tenant: str, org_id: str | None, total: Money
    ) -> ApprovalRule | None:
        if org_id is None:
            return None
        stored = await self._repo.get_rules(tenant, org_id)
        if stored is None:
            return None
        return find_rule([rule_of(d) for d in stored["rules"]], total)

    async def _same_order(self, existing: Doc, fingerprint: str) -> OrderPublic:
        if existing["fingerprint"] != fingerprint:
            raise Conflict(
                f"order {existing['order_id']!r} exists with different content", code="order_exists"
            )
        await self.journal.announce(existing)  # finishes a create that crashed before posting
        return order_public(existing)

    async def _change(
        self, actor: Actor, order_id: str, decide: Decision, update_id: str | None
    ) -> tuple[OrderPublic, bool]:
        for _ in range(MAX_ATTEMPTS):
            doc = await self._visible(actor, order_id)
            if update_id is not None and any(
                h.get("update_id") == update_id for h in doc["history"]
            ):
                await self.journal.announce(doc)
                return order_public(doc), False
            fields, entry = decide(doc)
            now = self._clock.now()
            entry.update(at=now, actor=actor_label(actor, doc), update_id=update_id)
            updated = await self._repo.apply_change(
                doc["tenant"], doc["_id"], doc["version"], {**fields, "updated_at": now}, entry
            )
            if updated is not None:
                await self.journal.audit(actor, updated, updated["history"][-1])
                await self.journal.announce(updated)
                return order_public(updated), True
        raise Conflict("the order is changing too fast; try again", code="order_busy")

    async def _visible(self, actor: Actor, order_id: str) -> Doc:
        if not valid_external_id(order_id):
            raise NotFound("order not found")
        doc = await self._repo.get(actor.tenant, order_id)
        if doc is None or not may_see(actor, doc):
            raise NotFound("order not found")
        return doc
