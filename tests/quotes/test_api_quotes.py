"""The quotes HTTP API on a live server: problem details, money as text,
authorisation per side and per tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from chat_service.clock import ManualClock
from chat_service.config import Settings
from tests.api.conftest import assert_problem
from tests.fixtures.app import (
    LiveServer,
    TenantKit,
    create_tenant,
    start_live_server,
    stop_live_server,
)
from tests.quotes.conftest import BUYER, SELLER

LINES = [
    {"line_id": "1", "sku": "CHAIR", "name": "Chair", "quantity": 40, "options": {"colour": "oak"}},
    {"line_id": "2", "sku": "DESK", "name": "Desk", "quantity": 2},
]
PRICES = {"1": "12.00", "2": "300"}


@pytest.fixture
async def live(settings: Settings, clock: ManualClock) -> AsyncIterator[LiveServer]:
    """The app as ``create_app`` builds it, with a small send budget."""
    server, task, live = await start_live_server(
        settings.model_copy(update={"send_rate_per_minute": 12}), clock
    )
    yield live
    await stop_live_server(server, task)


@pytest.fixture
async def shop(live: LiveServer) -> TenantKit:
    return await create_tenant(live.services)


def until(clock: ManualClock, delta: timedelta = timedelta(days=7)) -> str:
    return (clock.now() + delta).isoformat()


async def requested(live: LiveServer, shop: TenantKit) -> dict[str, Any]:
    async with live.http(shop.token(BUYER, "buyer")) as buyer:
        response = await buyer.post(
            "/v1/quotes",
            json={
                "seller": {"user_id": SELLER, "display_name": "Seller"},
                "currency": "USD",
                "lines": LINES,
            },
        )
    assert response.status_code == 201, response.text
    quote: dict[str, Any] = response.json()
    return quote


async def test_quote_round_trip_over_http(
    live: LiveServer, shop: TenantKit, clock: ManualClock
) -> None:
    quote = await requested(live, shop)
    qid = quote["id"]
    assert quote["status"] == "requested" and quote["lines"][0]["options"] == {"colour": "oak"}
    async with (
        live.http(shop.token(BUYER, "buyer")) as buyer,
        live.http(shop.token(SELLER, "seller")) as seller,
        live.http(shop.creds.server_key) as backend,
    ):
        body = {"prices": PRICES, "valid_until": until(clock)}
        response = await seller.post(f"/v1/quotes/{qid}/respond", json=body)
        assert response.status_code == 200, response.text
        revision = response.json()["revisions"][0]
        assert revision["prices"] == {"1": "12.00", "2": "300.00"}
        assert revision["subtotal"] == "1080.00"
        assert_problem(
            await seller.post(f"/v1/quotes/{qid}/accept", json={"revision": 1}),
            403,
            "role_not_allowed",
        )
        response = await buyer.post(f"/v1/quotes/{qid}/accept", json={"revision": 1})
        assert response.json()["status"] == "accepted"
        convert = {"kind": "sales_order", "payment_terms": "ach"}
        assert_problem(
            await buyer.post(f"/v1/quotes/{qid}/convert", json=convert), 403, "server_required"
        )
        response = await backend.post(f"/v1/quotes/{qid}/convert", json=convert)
        assert response.status_code == 200, response.text
        conversion = response.json()["conversion"]
        assert conversion["document_id"].startswith("SO-")
        assert (conversion["payment_terms"], conversion["subtotal"]) == ("ach", "1080.00")
        history = (await seller.get(f"/v1/quotes/{qid}/history")).json()
        assert [e["action"] for e in history["events"]] == [
            "request",
            "respond",
            "accept",
            "convert",
        ]
        mine = (await buyer.get("/v1/quotes")).json()
        assert [q["id"] for q in mine] == [qid]
        assert (await seller.get("/v1/quotes", params={"status": "converted"})).json()[0]["id"]
        conv = quote["conversation_id"]
        page = (await buyer.get(f"/v1/conversations/{conv}/messages")).json()
        assert [m["client_msg_id"] for m in page["messages"]] == [
            "quote-e1-request",
            "quote-e2-respond",
            "quote-e3-accept",
            "quote-e4-convert",
            f"quote-{qid}-order",
        ]
        # The sales order was handed off to the orders service, linked both ways.
        assert conversion["handed_off"] and conversion["order_id"] == conversion["document_id"]
        order = (await buyer.get(f"/v1/orders/{conversion['order_id']}")).json()
        assert (order["quote_id"], order["payment_terms"]) == (qid, "ach")
        assert order["subtotal"] == "1080.00" and order["conversation_id"] != conv


async def test_backend_creates_with_its_own_id_and_resends(
    live: LiveServer, shop: TenantKit
) -> None:
    body = {
        "quote_id": "Q-7",
        "buyer": {"user_id": BUYER, "display_name": "Buyer", "email": "b@mail.test"},
        "seller": {"user_id": SELLER, "display_name": "Seller"},
        "currency": "JPY",
        "lines": LINES,
    }
    async with live.http(shop.creds.server_key) as backend:
        first = await backend.post("/v1/quotes", json=body)
        again = await backend.post("/v1/quotes", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == "Q-7"
    assert await live.services.stores.db["staff_notifications"].count_documents({}) == 1


async def test_others_get_not_found(live: LiveServer, shop: TenantKit) -> None:
    quote = await requested(live, shop)
    other = await create_tenant(live.services, "Other shop")
    async with (
        live.http(shop.token("nosy", "buyer")) as nosy,
        live.http(other.creds.server_key) as foreign,
        live.http(other.token(BUYER, "buyer")) as namesake,
    ):
        for client in (nosy, foreign, namesake):
            assert_problem(await client.get(f"/v1/quotes/{quote['id']}"), 404, "not_found")
            response = await client.post(f"/v1/quotes/{quote['id']}/withdraw", json={})
            assert_problem(response, 404, "not_found")
        assert (await nosy.get("/v1/quotes")).json() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"prices": {"1": 12.5, "2": "300"}}, 422, "invalid_request"),
        ({"prices": {"1": {"$gt": ""}, "2": "300"}}, 422, "invalid_request"),
        ({"prices": {"1": "12.005", "2": "300"}}, 400, "invalid_amount"),
        ({"prices": PRICES, "currency": "EUR"}, 400, "mixed_currencies"),
        ({"prices": PRICES, "valid_until": "2030-01-01T00:00:00"}, 422, "invalid_request"),
        ({"prices": PRICES, "extra": 1}, 422, "invalid_request"),
    ],
)
async def test_bad_responses(
    live: LiveServer,
    shop: TenantKit,
    clock: ManualClock,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    quote = await requested(live, shop)
    async with live.http(shop.token(SELLER, "seller")) as seller:
        response = await seller.post(
            f"/v1/quotes/{quote['id']}/respond", json={"valid_until": until(clock), **body}
        )
    assert_problem(response, status, code)
    stored = await live.services.stores.db["quotes"].find_one({"quote_id": quote["id"]})
    assert stored is not None and stored["version"] == 1 and stored["status"] == "requested"


async def test_expired_offer_over_http(
    live: LiveServer, shop: TenantKit, clock: ManualClock
) -> None:
    quote = await requested(live, shop)
    async with (
        live.http(shop.token(BUYER, "buyer")) as buyer,
        live.http(shop.token(SELLER, "seller")) as seller,
    ):
        # Minutes, not days: the user tokens (15 minutes) must outlive the offer.
        body = {"prices": PRICES, "valid_until": until(clock, timedelta(minutes=5))}
        assert (await seller.post(f"/v1/quotes/{quote['id']}/respond", json=body)).is_success
        clock.advance(timedelta(minutes=5).total_seconds())
        response = await buyer.post(f"/v1/quotes/{quote['id']}/accept", json={"revision": 1})
        assert_problem(response, 410, "quote_expired")
        assert (await buyer.get(f"/v1/quotes/{quote['id']}")).json()["status"] == "expired"


async def test_users_changes_share_the_message_budget(live: LiveServer, shop: TenantKit) -> None:
    for _ in range(12):
        await requested(live, shop)
    async with live.http(shop.token(BUYER, "buyer")) as buyer:
        response = await buyer.post(
            "/v1/quotes",
            json={
                "seller": {"user_id": SELLER, "display_name": "S"},
                "currency": "USD",
                "lines": LINES,
            },
        )
    assert_problem(response, 429, "rate_limited")
    assert await live.services.stores.db["quotes"].count_documents({}) == 12
    assert await live.services.stores.db["staff_notifications"].count_documents({}) == 12


async def test_the_backend_sets_the_staff_address(live: LiveServer, shop: TenantKit) -> None:
    async with (
        live.http(shop.creds.server_key) as backend,
        live.http(shop.token(BUYER, "buyer")) as buyer,
    ):
        assert (await backend.get("/v1/quotes/staff-email")).json() == {"staff_email": None}
        body = {"staff_email": "quotes@shop.test"}
        assert (await backend.put("/v1/quotes/staff-email", json=body)).json() == body
        assert (await backend.get("/v1/quotes/staff-email")).json() == body
        assert_problem(await buyer.put("/v1/quotes/staff-email", json=body), 403, "server_required")
        bad = {"staff_email": "a@b.test\r\nBcc: x@evil.test"}
        assert (await backend.put("/v1/quotes/staff-email", json=bad)).status_code == 422
        cleared = await backend.put("/v1/quotes/staff-email", json={"staff_email": None})
        assert cleared.json() == {"staff_email": None}
