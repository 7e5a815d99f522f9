"""The quote service against the real store: request, negotiation, conversion,
system messages, staff notifications and optimistic concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from chat_service.clock import ManualClock
from chat_service.errors import Conflict
from chat_service.quotes.schemas import (
    AcceptIn,
    ConvertIn,
    CounterIn,
    DeclineIn,
    PartyIn,
    WithdrawIn,
)
from chat_service.quotes.service import QuoteService
from chat_service.services import Services
from tests.fixtures.app import TenantKit
from tests.quotes.conftest import BUYER, SELLER, create_body, offer, user


async def messages(services: Services, kit: TenantKit, conv_id: str) -> list[tuple[str, str]]:
    page = await services.conversations.history(kit.server, conv_id, after_seq=0, limit=100)
    return [(m.client_msg_id, m.text or "") for m in page.messages if m.kind == "system"]


async def test_buyer_requests_a_quote(
    services: Services, quotes: QuoteService, tenant: TenantKit
) -> None:
    quote, created = await quotes.request(user(tenant, BUYER), create_body())
    assert created and quote.id.startswith("Q-") and quote.status == "requested"
    assert quote.buyer.user_id == BUYER and quote.seller.user_id == SELLER
    assert quote.lines[0].options == {"colour": "oak", "freight destination": "Denver, CO"}
    conv = await services.conversations.get_conversation(tenant.server, quote.conversation_id)
    assert (conv.subject_type, conv.subject_id) == ("quote", quote.id)
    assert {(p.user_id, p.role) for p in conv.participants} == {
        (BUYER, "buyer"),
        (SELLER, "seller"),
    }
    assert await messages(services, tenant, conv.id) == [
        ("quote-e1-request", f"Quote #{quote.id} requested: 2 line item(s), priced in USD.")
    ]
    notes = await services.stores.db["staff_notifications"].find({}).to_list(None)
    assert len(notes) == 1
    assert notes[0]["tenant"] == tenant.id and notes[0]["quote_id"] == quote.id
    assert notes[0]["kind"] == "quote.requested" and notes[0]["status"] == "pending"
    assert notes[0]["created_at"] is not None


async def test_backend_resend_with_its_own_id_changes_nothing(
    services: Services, quotes: QuoteService, tenant: TenantKit
) -> None:
    first, created = await quotes.request(tenant.server, create_body("1042"))
    again, created_again = await quotes.request(tenant.server, create_body("1042"))
    assert created and not created_again and first.id == again.id == "1042"
    assert again.conversation_id == first.conversation_id
    assert await services.stores.db["quotes"].count_documents({}) == 1
    assert await services.stores.db["staff_notifications"].count_documents({}) == 1
    assert len(await messages(services, tenant, first.conversation_id)) == 1
    other = create_body("1042", buyer=PartyIn(user_id="buyer-2", display_name="B2"))
    with pytest.raises(Conflict) as info:
        await quotes.request(tenant.server, other)
    assert info.value.code == "quote_exists"


async def test_negotiation_to_conversion(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    buyer, seller = user(tenant, BUYER), user(tenant, SELLER, "seller")
    quote, _ = await quotes.request(buyer, create_body())
    quote = await quotes.respond(seller, quote.id, offer(clock))
    assert quote.status == "responded" and quote.revisions[0].subtotal == "1080.00"
    assert quote.expires_at == clock.now() + timedelta(days=7)
    quote = await quotes.counter(buyer, quote.id, CounterIn(prices={"1": "11", "2": "280.00"}))
    assert quote.status == "countered" and quote.revisions[1].prices == {
        "1": "11.00",
        "2": "280.00",
    }
    until = clock.now() + timedelta(days=3)
    quote = await quotes.counter(
        seller, quote.id, CounterIn(prices={"1": "11.50", "2": "290"}, valid_until=until)
    )
    quote = await quotes.accept(buyer, quote.id, AcceptIn(revision=3))
    assert quote.status == "accepted" and quote.accepted_revision == 3
    body = ConvertIn(kind="invoice", payment_terms="purchase_order", reference="PO-77")
    quote = await quotes.convert(tenant.server, quote.id, body)
    conversion = quote.conversion
    assert quote.status == "converted" and conversion is not None
    assert (
        conversion.document_id.startswith("INV-") and conversion.payment_terms == "purchase_order"
    )
    assert conversion.subtotal == "1040.00" and conversion.reference == "PO-77"
    assert [(line.line_id, line.unit_price, line.total) for line in conversion.lines] == [
        ("1", "11.50", "460.00"),
        ("2", "290.00", "580.00"),
    ]
    texts = await messages(services, tenant, quote.conversation_id)
    assert [cid for cid, _ in texts] == [
        "quote-e1-request",
        "quote-e2-respond",
        "quote-e3-counter",
        "quote-e4-counter",
        "quote-e5-accept",
        "quote-e6-convert",
    ]
    assert "the seller offered 1080.00 USD (revision 1)" in texts[1][1]
    assert texts[4][1] == f"Quote #{quote.id}: the buyer accepted revision 3 (1040.00 USD)."
    assert (
        f"an invoice {conversion.document_id} (1040.00 USD; payment: purchase order)"
        in (texts[5][1])
    )
    history = await quotes.history(seller, quote.id)
    assert [(e.n, e.action, e.by) for e in history.events] == [
        (1, "request", "buyer"),
        (2, "respond", "seller"),
        (3, "counter", "buyer"),
        (4, "counter", "seller"),
        (5, "accept", "buyer"),
        (6, "convert", "server"),
    ]
    assert [r.number for r in history.revisions] == [1, 2, 3]
    stored = await services.stores.db["quotes"].find_one({"quote_id": quote.id})
    assert stored is not None and stored["version"] == 6
    assert stored["conversion_doc"]["lines"][0]["unit_price"] == "11.50"
    assert Decimal(stored["state"]["revisions"][2]["prices"][0][1]) == Decimal("11.50")


async def test_decline_and_withdraw(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    buyer, seller = user(tenant, BUYER), user(tenant, SELLER, "seller")
    first, _ = await quotes.request(buyer, create_body())
    declined = await quotes.decline(seller, first.id, DeclineIn(reason="out of stock"))
    assert (declined.status, declined.closed_by, declined.reason) == (
        "declined",
        "seller",
        "out of stock",
    )
    second, _ = await quotes.request(buyer, create_body())
    await quotes.respond(tenant.server, second.id, offer(clock))
    withdrawn = await quotes.withdraw(buyer, second.id, WithdrawIn())
    assert withdrawn.status == "withdrawn"
    texts = await messages(services, tenant, second.conversation_id)
    assert texts[-1] == ("quote-e3-withdraw", f"Quote #{second.id} was withdrawn by the buyer.")
    mine = await quotes.list_quotes(buyer)
    assert {q.id for q in mine} == {first.id, second.id}
    assert [q.id for q in await quotes.list_quotes(seller, status="declined")] == [first.id]  # type: ignore[arg-type]
    assert await quotes.list_quotes(user(tenant, "someone-else")) == []


async def test_two_concurrent_actions_never_both_apply(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    buyer, seller = user(tenant, BUYER), user(tenant, SELLER, "seller")
    quote, _ = await quotes.request(buyer, create_body())
    await quotes.respond(seller, quote.id, offer(clock))
    results = await asyncio.gather(
        quotes.accept(buyer, quote.id, AcceptIn(revision=1)),
        quotes.decline(seller, quote.id, DeclineIn()),
        quotes.counter(
            seller,
            quote.id,
            CounterIn(prices={"1": "1", "2": "2"}, valid_until=clock.now() + timedelta(days=3)),
        ),
        return_exceptions=True,
    )
    applied = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(applied) == 1, results
    assert all(isinstance(r, Conflict) for r in refused), refused
    stored = await services.stores.db["quotes"].find_one({"quote_id": quote.id})
    assert stored is not None and stored["version"] == 3 and len(stored["events"]) == 3
    assert len(await messages(services, tenant, quote.conversation_id)) == 3


async def test_stale_expected_version_is_refused(
    quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote, _ = await quotes.request(user(tenant, BUYER), create_body())
    seller = user(tenant, SELLER, "seller")
    body = offer(clock)
    body.expected_version = quote.version
    responded = await quotes.respond(seller, quote.id, body)
    assert responded.version == quote.version + 1
    with pytest.raises(Conflict) as info:
        await quotes.respond(seller, quote.id, body)
    assert info.value.code == "quote_changed"


async def test_a_lost_post_is_repaired_once(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote, _ = await quotes.request(user(tenant, BUYER), create_body())
    await quotes.respond(user(tenant, SELLER, "seller"), quote.id, offer(clock))
    db = services.stores.db
    # As if the process died after the write, before (or while) posting.
    await db["quotes"].update_one({"quote_id": quote.id}, {"$set": {"events.1.posted": False}})
    stored = await db["quotes"].find_one({"quote_id": quote.id})
    assert stored is not None
    assert await quotes.flush(stored) == 0  # posted before: the same message, not a copy
    assert len(await messages(services, tenant, quote.conversation_id)) == 2
