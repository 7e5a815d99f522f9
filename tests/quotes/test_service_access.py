"""Who may see and do what, and bad input: each refused with its stable code
and nothing stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from chat_service.clock import ManualClock
from chat_service.errors import ChatError
from chat_service.quotes.schemas import (
    AcceptIn,
    ConvertIn,
    CounterIn,
    DeclineIn,
    PartyIn,
    QuoteCreate,
    QuoteLineIn,
    RespondIn,
    WithdrawIn,
)
from chat_service.quotes.service import QuoteService
from chat_service.services import Services
from tests.fixtures.app import TenantKit, create_tenant
from tests.quotes.conftest import BUYER, PRICES, SELLER, create_body, offer, user


async def state_of(services: Services) -> list[dict[str, Any]]:
    db = services.stores.db
    found = []
    for name in ("quotes", "messages", "staff_notifications", "conversations"):
        found.extend(await db[name].find({}).sort("_id", 1).to_list(None))
    return found


async def refused(services: Services, call: Any, status: int, code: str) -> None:
    before = await state_of(services)
    with pytest.raises(ChatError) as info:
        await call
    assert (info.value.status, info.value.code) == (status, code), info.value.detail
    assert await state_of(services) == before


async def responded(quotes: QuoteService, kit: TenantKit, clock: ManualClock) -> str:
    quote, _ = await quotes.request(user(kit, BUYER), create_body())
    await quotes.respond(user(kit, SELLER, "seller"), quote.id, offer(clock))
    return quote.id


async def test_strangers_and_other_tenants_get_not_found(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await responded(quotes, tenant, clock)
    other = await create_tenant(services, "Other shop")
    for actor in (user(tenant, "nosy"), user(tenant, "staff-1", "staff"), other.server):
        await refused(services, quotes.get(actor, quote_id), 404, "not_found")
        await refused(services, quotes.history(actor, quote_id), 404, "not_found")
        await refused(
            services, quotes.accept(actor, quote_id, AcceptIn(revision=1)), 404, "not_found"
        )
    # The same buyer id in another marketplace is another person.
    await refused(services, quotes.get(user(other, BUYER), quote_id), 404, "not_found")
    await refused(services, quotes.get(tenant.server, "no such id!"), 404, "not_found")
    assert (await quotes.get(tenant.server, quote_id)).id == quote_id


async def test_wrong_side_for_each_action(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    buyer, seller = user(tenant, BUYER), user(tenant, SELLER, "seller")
    quote, _ = await quotes.request(buyer, create_body())
    await refused(services, quotes.respond(buyer, quote.id, offer(clock)), 403, "role_not_allowed")
    await quotes.respond(seller, quote.id, offer(clock))
    cases = [
        quotes.accept(seller, quote.id, AcceptIn(revision=1)),
        quotes.withdraw(seller, quote.id, WithdrawIn()),
        quotes.counter(buyer, quote.id, CounterIn(prices=PRICES, on_behalf_of="seller")),
    ]
    for call in cases:
        await refused(services, call, 403, "role_not_allowed")
    for actor in (buyer, seller):
        body = ConvertIn(kind="sales_order", payment_terms="card")
        await refused(services, quotes.convert(actor, quote.id, body), 403, "role_not_allowed")
    await refused(
        services, quotes.decline(tenant.server, quote.id, DeclineIn()), 400, "on_behalf_of_required"
    )
    as_seller = user(tenant, "seller-9", "seller")
    await refused(services, quotes.request(as_seller, create_body()), 403, "role_not_allowed")
    for_someone_else = create_body(buyer=PartyIn(user_id="buyer-2", display_name="B"))
    await refused(services, quotes.request(buyer, for_someone_else), 403, "role_not_allowed")
    await refused(services, quotes.request(buyer, create_body("my-own-id")), 400, "invalid_request")
    no_buyer = create_body("1042", buyer=None)
    await refused(services, quotes.request(tenant.server, no_buyer), 400, "buyer_required")


async def test_accepting_a_superseded_or_unknown_revision(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await responded(quotes, tenant, clock)
    buyer, seller = user(tenant, BUYER), user(tenant, SELLER, "seller")
    await quotes.respond(seller, quote_id, offer(clock, prices={"1": "10", "2": "250"}))
    await refused(
        services, quotes.accept(buyer, quote_id, AcceptIn(revision=1)), 409, "revision_superseded"
    )
    await refused(
        services, quotes.accept(buyer, quote_id, AcceptIn(revision=9)), 404, "unknown_revision"
    )
    await quotes.counter(buyer, quote_id, CounterIn(prices=PRICES))
    await refused(
        services,
        quotes.accept(buyer, quote_id, AcceptIn(revision=3)),
        409,
        "cannot_accept_own_revision",
    )


async def test_an_overdue_offer_is_refused_before_the_job_runs(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote_id = await responded(quotes, tenant, clock)
    buyer = user(tenant, BUYER)
    clock.advance(timedelta(days=7).total_seconds())
    assert (await quotes.get(buyer, quote_id)).status == "expired"
    for _ in range(2):
        with pytest.raises(ChatError) as info:
            await quotes.accept(buyer, quote_id, AcceptIn(revision=2))
        assert (info.value.status, info.value.code) == (410, "quote_expired")
    quote = await quotes.get(buyer, quote_id)
    page = await services.conversations.history(tenant.server, quote.conversation_id, limit=50)
    texts = [m.text for m in page.messages]
    # The refusal expired it for good and said so, once.
    assert texts.count(f"Quote #{quote_id} expired.") == 1
    stored = await services.stores.db["quotes"].find_one({"quote_id": quote_id})
    assert stored is not None and stored["status"] == "expired"


@pytest.mark.parametrize(
    ("prices", "currency", "code"),
    [
        ({"1": "12.001", "2": "300"}, None, "invalid_amount"),
        ({"1": "-1.00", "2": "300"}, None, "invalid_amount"),
        ({"1": "1e3", "2": "300"}, None, "invalid_amount"),
        ({"1": "12.00"}, None, "missing_price"),
        ({"1": "1", "2": "2", "3": "3"}, None, "unknown_line"),
        (PRICES, "EUR", "mixed_currencies"),
        (PRICES, "XXX", "unsupported_currency"),
    ],
)
async def test_bad_prices(
    services: Services,
    quotes: QuoteService,
    tenant: TenantKit,
    clock: ManualClock,
    prices: dict[str, str],
    currency: str | None,
    code: str,
) -> None:
    quote, _ = await quotes.request(user(tenant, BUYER), create_body())
    body = RespondIn(prices=prices, valid_until=clock.now() + timedelta(days=1), currency=currency)
    await refused(
        services, quotes.respond(user(tenant, SELLER, "seller"), quote.id, body), 400, code
    )


async def test_offers_need_a_future_valid_until(
    services: Services, quotes: QuoteService, tenant: TenantKit, clock: ManualClock
) -> None:
    quote, _ = await quotes.request(user(tenant, BUYER), create_body())
    seller = user(tenant, SELLER, "seller")
    for days in (0, -1, 400):
        body = offer(clock, days=days)
        await refused(services, quotes.respond(seller, quote.id, body), 400, "invalid_valid_until")


def line(**changes: Any) -> QuoteLineIn:
    values: dict[str, Any] = {"line_id": "1", "sku": "CHAIR", "name": "Chair", "quantity": 1}
    values.update(changes)
    return QuoteLineIn(**values)


@pytest.mark.parametrize(
    ("lines", "currency", "code"),
    [
        ([line(quantity=0)], "USD", "invalid_quantity"),
        ([line(quantity=-3)], "USD", "invalid_quantity"),
        ([line(options={f"k{i}": "v" for i in range(21)})], "USD", "invalid_options"),
        ([line(options={"colour": "x" * 501})], "USD", "invalid_options"),
        ([line(options={"k" * 65: "v"})], "USD", "invalid_options"),
        ([line(options={"Colour": "a", "colour": "b"})], "USD", "invalid_options"),
        ([line(options={"colour": "oak\x00"})], "USD", "invalid_options"),
        ([line(), line()], "USD", "invalid_line_item"),
        ([line(sku="$gt")], "USD", "invalid_line_item"),
        ([line()], "ZZZ", "unsupported_currency"),
    ],
)
async def test_bad_requests(
    services: Services,
    quotes: QuoteService,
    tenant: TenantKit,
    lines: list[QuoteLineIn],
    currency: str,
    code: str,
) -> None:
    body = create_body(lines=lines, currency=currency)
    await refused(services, quotes.request(user(tenant, BUYER), body), 400, code)


@pytest.mark.parametrize(
    "payload",
    [
        {"quantity": 1.5},
        {"quantity": "2"},
        {"sku": {"$gt": ""}},
        {"name": {"$ne": None}},
        {"options": {"colour": {"$where": "1"}}},
    ],
)
def test_wrong_types_and_operator_objects_are_refused_by_the_shapes(
    payload: dict[str, Any],
) -> None:
    raw = {"line_id": "1", "sku": "CHAIR", "name": "Chair", "quantity": 1, **payload}
    with pytest.raises(ValidationError):
        QuoteLineIn.model_validate(raw)


def test_money_is_text_never_a_float() -> None:
    with pytest.raises(ValidationError):
        RespondIn.model_validate({"prices": {"1": 12.5}, "valid_until": "2030-01-01T00:00:00Z"})
    with pytest.raises(ValidationError):
        RespondIn.model_validate({"prices": {"1": "12"}, "valid_until": "2030-01-01T00:00:00"})
    with pytest.raises(ValidationError):
        QuoteCreate.model_validate(
            {
                "seller": {"user_id": {"$gt": ""}, "display_name": "S"},
                "currency": "USD",
                "lines": [{"line_id": "1", "sku": "A", "name": "A", "quantity": 1}],
            }
        )
