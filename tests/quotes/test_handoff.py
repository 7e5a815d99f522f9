"""A converted quote handed off to the orders service: one real order for a
sales order, linked both ways, never two; an invoice only marked. Audited."""

from __future__ import annotations

import pytest

from chat_service.clock import ManualClock
from chat_service.errors import ChatError
from chat_service.quotes.expiry import expire_overdue_quotes
from chat_service.quotes.schemas import AcceptIn, ConvertIn
from chat_service.quotes.service import QuoteService
from chat_service.services import Services
from tests.fixtures.app import TenantKit
from tests.quotes.conftest import BUYER, SELLER, create_body, offer, user


async def accepted_quote(quotes: QuoteService, tenant: TenantKit, clock: ManualClock) -> str:
    quote, _ = await quotes.request(tenant.server, create_body("Q-9"))
    await quotes.respond(user(tenant, SELLER, "seller"), quote.id, offer(clock))
    await quotes.accept(user(tenant, BUYER), quote.id, AcceptIn(revision=1))
    return quote.id


async def system_ids(services: Services, tenant: TenantKit, conv_id: str) -> list[str]:
    page = await services.conversations.history(tenant.server, conv_id, after_seq=0, limit=100)
    return [m.client_msg_id or "" for m in page.messages if m.kind == "system"]


async def test_a_sales_order_becomes_one_linked_order(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await accepted_quote(quotes, tenant, clock)
    body = ConvertIn(kind="sales_order", payment_terms="purchase_order")
    quote = await quotes.convert(tenant.server, quote_id, body)

    conversion = quote.conversion
    assert conversion is not None and conversion.handed_off
    order = await services.orders.get(tenant.server, conversion.document_id)
    assert conversion.order_id == order.order_id
    assert (order.quote_id, order.payment_terms, order.currency) == (
        quote_id,
        "purchase_order",
        "USD",
    )
    assert (order.buyer.user_id, order.seller.user_id) == (BUYER, SELLER)
    assert [(ln.line_id, ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("1", "CHAIR", 40, "12.00"),
        ("2", "DESK", 2, "300.00"),
    ]
    assert order.subtotal == conversion.subtotal == "1080.00"
    # The order has its own conversation; the quote's names the order.
    assert order.conversation_id != quote.conversation_id
    ids = await system_ids(services, tenant, quote.conversation_id)
    assert ids[-1] == f"quote-{quote_id}-order"
    page = await services.conversations.history(
        tenant.server, quote.conversation_id, after_seq=0, limit=100
    )
    assert f"order #{order.order_id}" in (page.messages[-1].text or "")
    stored = await services.stores.db["quotes"].find_one({"quote_id": quote_id})
    assert stored is not None and stored["order_id"] == order.order_id

    # Converting again is refused and makes no second order.
    with pytest.raises(ChatError):
        await quotes.convert(tenant.server, quote_id, body)
    assert await services.stores.db["orders"].count_documents({"quote_id": quote_id}) == 1


async def test_a_hand_off_cut_short_is_finished_once(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await accepted_quote(quotes, tenant, clock)
    await quotes.convert(
        tenant.server, quote_id, ConvertIn(kind="sales_order", payment_terms="card")
    )
    # As if the process died after the order was made, before the quote was marked.
    await services.stores.db["quotes"].update_one(
        {"quote_id": quote_id}, {"$set": {"conversion_doc.handed_off": False}}
    )
    [pending] = await quotes.repository.not_handed_off(None, 10)
    assert await quotes.handoff.hand_off(pending)
    with pytest.raises(ChatError):  # a retried convert finishes nothing more
        await quotes.convert(
            tenant.server, quote_id, ConvertIn(kind="sales_order", payment_terms="card")
        )
    assert await services.stores.db["orders"].count_documents({"quote_id": quote_id}) == 1
    stored = await quotes.get(tenant.server, quote_id)
    assert stored.conversion is not None and stored.conversion.handed_off
    ids = await system_ids(services, tenant, stored.conversation_id)
    assert ids.count(f"quote-{quote_id}-order") == 1


async def test_an_invoice_is_marked_handed_off_without_an_order(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await accepted_quote(quotes, tenant, clock)
    quote = await quotes.convert(
        tenant.server, quote_id, ConvertIn(kind="invoice", payment_terms="ach")
    )
    assert quote.conversion is not None and quote.conversion.handed_off
    assert quote.conversion.order_id is None
    assert await services.stores.db["orders"].count_documents({}) == 0


async def test_quote_and_order_actions_are_audited_and_the_chain_holds(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await accepted_quote(quotes, tenant, clock)
    await quotes.convert(
        tenant.server, quote_id, ConvertIn(kind="sales_order", payment_terms="ach")
    )
    page = await services.audit.search(tenant.id)
    actions = [(e.action, e.target_id) for e in reversed(page.entries)]
    order_id = f"SO-{actions[-1][1].removeprefix('SO-')}"
    assert actions == [
        ("quote.requested", quote_id),
        ("quote.responded", quote_id),
        ("quote.accepted", quote_id),
        ("quote.converted", quote_id),
        ("order.created", order_id),
    ]
    converted = page.entries[1]
    assert converted.actor.type == "server" and converted.details["revision"] == 1
    assert page.entries[0].details["quote_id"] == quote_id
    responded = page.entries[3]
    assert (responded.actor.id, responded.details["status"]) == (SELLER, "responded")
    report = await services.audit.verify(tenant.id)
    assert report.ok and report.entries_checked == 5


async def test_the_expiry_job_finishes_a_hand_off_cut_short(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await accepted_quote(quotes, tenant, clock)
    await quotes.convert(tenant.server, quote_id, ConvertIn(kind="invoice", payment_terms="ach"))
    await services.stores.db["quotes"].update_one(
        {"quote_id": quote_id}, {"$set": {"conversion_doc.handed_off": False}}
    )
    report = await expire_overdue_quotes(quotes)
    assert report.handoffs_repaired == 1
    assert (await expire_overdue_quotes(quotes)).handoffs_repaired == 0
