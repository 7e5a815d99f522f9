"""Handing a converted quote off: a sales order becomes a real order.

A quote converted to a **sales order** creates an order in the orders
service (through the :class:`OrderMaker` interface given at wiring time, so
the quotes domain never builds an ``OrderService``): same buyer and seller,
the lines at the accepted revision's prices, the currency, and the payment
terms. The order's id is the conversion's ``document_id``, so a repeated
hand-off (a retry, the repair pass) finds the same order instead of making a
second. The order names the quote (``quote_id``), the quote the order
(``order_id``), and the quote's conversation gets a system message naming
the order; the order opens its own conversation as every order does.

An **invoice** keeps only the document record on the quote; it is marked
handed off all the same. A crash before the mark is finished by the next
``convert`` call or by the expiry job's repair pass.
"""

from __future__ import annotations

from typing import Any, Protocol

from chat_service.auth.principals import ServerPrincipal
from chat_service.conversations.service import ConversationService
from chat_service.orders.schemas import BuyerIn, LineIn, OrderCreate, OrderPublic, PartyIn
from chat_service.orders.service import QuoteLink
from chat_service.quotes.models import ConversionKind
from chat_service.quotes.repository import QuoteRepository

__all__ = ["OrderMaker", "QuoteHandoff", "order_request"]

Doc = dict[str, Any]


class OrderMaker(Protocol):
    async def create(
        self, server: ServerPrincipal, request: OrderCreate, *, quote: QuoteLink | None = None
    ) -> tuple[OrderPublic, bool]: ...


def order_request(doc: Doc) -> OrderCreate:
    """The order a converted quote ``doc`` becomes."""
    conversion = doc["conversion_doc"]
    return OrderCreate(
        order_id=conversion["document_id"],
        currency=conversion["currency"],
        buyer=BuyerIn(**doc["buyer"]),
        seller=PartyIn(**doc["seller"]),
        lines=[
            LineIn(
                line_id=line["line_id"],
                sku=line["sku"],
                name=line["name"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
            )
            for line in conversion["lines"]
        ],
    )


class QuoteHandoff:
    def __init__(
        self,
        *,
        repository: QuoteRepository,
        conversations: ConversationService,
        orders: OrderMaker | None,
    ) -> None:
        self._repo = repository
        self._conversations = conversations
        self._orders = orders

    async def hand_off(self, doc: Doc) -> bool:
        """Finish ``doc``'s hand-off if it is converted and not yet handed off;
        ``True`` if this call finished it. Safe to repeat."""
        conversion = doc.get("conversion_doc")
        terms = (doc["state"].get("conversion") or {}).get("payment_terms")
        if not conversion or conversion.get("handed_off") or terms is None:
            return False
        kind = ConversionKind(doc["state"]["conversion"]["kind"])
        order_id = None
        if kind is ConversionKind.SALES_ORDER:
            if self._orders is None:
                return False  # no orders service wired (tests of quotes alone)
            server = ServerPrincipal(tenant=doc["tenant"])
            order, _ = await self._orders.create(
                server, order_request(doc), quote=QuoteLink(doc["quote_id"], terms)
            )
            order_id = order.order_id
            await self._conversations.send(
                server,
                doc["conversation_id"],
                client_msg_id=f"quote-{doc['quote_id']}-order",
                text=f"Quote #{doc['quote_id']}: order #{order_id} was created from it.",
            )
        await self._repo.mark_handed_off(doc["_id"], order_id)
        return True
