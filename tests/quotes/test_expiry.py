"""The expiry job with a manual clock: every tenant, in batches, resumable,
idempotent, one "expired" message per quote."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chat_service.clock import ManualClock
from chat_service.errors import Unavailable
from chat_service.quotes.errors import QuoteExpired
from chat_service.quotes.expiry import ExpiryReport, expire_overdue_quotes
from chat_service.quotes.schemas import AcceptIn, CounterIn
from chat_service.quotes.service import QuoteService
from chat_service.services import Services
from tests.fixtures.app import TenantKit, create_tenant
from tests.quotes.conftest import BUYER, PRICES, SELLER, create_body, offer, user

DAY = timedelta(days=1).total_seconds()


async def offered(quotes: QuoteService, kit: TenantKit, clock: ManualClock, days: int) -> str:
    quote, _ = await quotes.request(user(kit, BUYER), create_body())
    await quotes.respond(user(kit, SELLER, "seller"), quote.id, offer(clock, days=days))
    return quote.id


async def expired_messages(services: Services, kit: TenantKit, quote_id: str) -> int:
    doc = await services.stores.db["quotes"].find_one({"tenant": kit.id, "quote_id": quote_id})
    assert doc is not None
    page = await services.conversations.history(kit.server, doc["conversation_id"], limit=100)
    return sum(m.text == f"Quote #{quote_id} expired." for m in page.messages)


async def test_overdue_quotes_of_every_tenant_expire_in_batches(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    other = await create_tenant(services, "Other shop")
    due = [await offered(quotes, kit, clock, 1) for kit in (tenant, other, tenant, other, tenant)]
    later = await offered(quotes, tenant, clock, 5)
    accepted = await offered(quotes, other, clock, 1)
    await quotes.accept(user(other, BUYER), accepted, AcceptIn(revision=1))
    requested, _ = await quotes.request(user(tenant, BUYER), create_body())
    buyer_countered = await offered(quotes, tenant, clock, 1)
    await quotes.counter(user(tenant, BUYER), buyer_countered, CounterIn(prices=PRICES))

    assert (await expire_overdue_quotes(quotes)).expired == 0  # nothing is due yet
    clock.advance(DAY)
    seen: list[int] = []
    first = await expire_overdue_quotes(
        quotes, batch_size=2, max_batches=2, progress=lambda r: seen.append(r.scanned)
    )
    assert (first.expired, first.batches, first.complete, seen) == (4, 2, False, [2, 4])
    rest = await expire_overdue_quotes(quotes, batch_size=2)
    assert (rest.expired, rest.skipped, rest.complete) == (1, 0, True)
    again = await expire_overdue_quotes(quotes, batch_size=2)
    assert again == ExpiryReport(batches=0)

    statuses = {
        doc["quote_id"]: doc["status"]
        for doc in await services.stores.db["quotes"].find({}).to_list(None)
    }
    assert all(statuses[q] == "expired" for q in due)
    assert statuses[later] == "responded"
    assert statuses[accepted] == "accepted"
    assert statuses[requested.id] == "requested"
    assert statuses[buyer_countered] == "countered"  # the seller owes an answer: no deadline
    for kit, quote_id in zip((tenant, other, tenant, other, tenant), due, strict=True):
        assert await expired_messages(services, kit, quote_id) == 1
    clock.advance(5 * DAY)
    assert (await expire_overdue_quotes(quotes)).expired == 1


async def test_a_quote_expired_by_a_refused_action_is_skipped(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await offered(quotes, tenant, clock, 1)
    clock.advance(DAY)
    stale = await quotes.repository.due(quotes.now(), None, 10)
    with pytest.raises(QuoteExpired):
        await quotes.accept(user(tenant, BUYER), quote_id, AcceptIn(revision=1))
    # The job read the quote before the refusal expired it: its write loses.
    assert not await quotes.expire(stale[0], quotes.now())
    assert (await expire_overdue_quotes(quotes)).expired == 0
    assert await expired_messages(services, tenant, quote_id) == 1


async def test_messages_that_could_not_be_posted_are_posted_once(
    services: Services,
    quotes: QuoteService,
    tenant: TenantKit,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quote, _ = await quotes.request(user(tenant, BUYER), create_body())

    async def store_down(doc: object) -> int:
        raise Unavailable("the store is down")

    with monkeypatch.context() as patch:
        patch.setattr(quotes, "flush", store_down)
        responded = await quotes.respond(user(tenant, SELLER, "seller"), quote.id, offer(clock))
    assert responded.status == "responded"  # the change is stored; its message is deferred
    report = await expire_overdue_quotes(quotes)
    assert report.messages_repaired == 1
    assert (await expire_overdue_quotes(quotes)).messages_repaired == 0
    page = await services.conversations.history(tenant.server, quote.conversation_id, limit=50)
    assert [m.client_msg_id for m in page.messages] == ["quote-e1-request", "quote-e2-respond"]
