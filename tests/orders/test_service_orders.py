"""The orders service against the real store: creation, idempotency, money and
line errors, status changes by role, optimistic concurrency, history and the
conversation's system messages, tenancy."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from chat_service.errors import Conflict, Forbidden, NotFound
from chat_service.orders.errors import (
    IllegalTransition,
    InvalidAmount,
    InvalidQuantity,
    MixedCurrencies,
    UnknownStatus,
    UnsupportedCurrency,
)
from chat_service.orders.schemas import OrderCreate, ShipmentCreate
from chat_service.orders.service import OrderService
from chat_service.services import Services
from tests.fixtures.app import TenantKit, create_tenant
from tests.orders.conftest import order_body, order_create, user


async def system_texts(services: Services, kit: TenantKit, conv_id: str) -> list[str]:
    page = await services.conversations.history(kit.server, conv_id, limit=100)
    return [m.text or "" for m in page.messages if m.kind == "system"]


async def test_create_opens_the_conversation_and_posts_the_order(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    order, created = await orders.create(tenant.server, order_create("1042"))
    assert created
    assert order.status == "placed" and order.version == 1
    assert order.subtotal == "240.00" and order.currency == "USD"
    assert [line.total for line in order.lines] == ["200.00", "40.00"]
    conv = await services.conversations.get_conversation(tenant.server, order.conversation_id)
    assert (conv.subject_type, conv.subject_id) == ("order", "1042")
    assert {p.user_id for p in conv.participants} == {"buyer-1", "seller-1"}
    assert await system_texts(services, tenant, conv.id) == [
        "Order #1042 placed: 3 items, USD 240.00"
    ]
    stored = await services.stores.db["orders"].find_one({"order_id": "1042"})
    assert stored is not None and "bea@mail.test" not in str(stored)


async def test_create_is_idempotent_by_order_id(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    first, _ = await orders.create(tenant.server, order_create("7"))
    again, created = await orders.create(tenant.server, order_create("7"))
    assert not created and again.conversation_id == first.conversation_id
    assert len(await system_texts(services, tenant, first.conversation_id)) == 1
    changed = order_body("7")
    changed["lines"][0]["quantity"] = 3
    with pytest.raises(Conflict) as refused:
        await orders.create(tenant.server, OrderCreate.model_validate(changed))
    assert refused.value.code == "order_exists"
    assert await services.stores.db["orders"].count_documents({"order_id": "7"}) == 1


async def test_concurrent_creates_make_one_order(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    results = await asyncio.gather(
        *(orders.create(tenant.server, order_create("9")) for _ in range(5))
    )
    assert sum(created for _, created in results) == 1
    assert len({o.conversation_id for o, _ in results}) == 1
    assert await services.stores.db["orders"].count_documents({"order_id": "9"}) == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"unit_price": "12.345"}, InvalidAmount),
        ({"unit_price": "-1.00"}, InvalidAmount),
        ({"unit_price": "1e3"}, InvalidAmount),
        ({"quantity": 0}, InvalidQuantity),
        ({"quantity": -2}, InvalidQuantity),
        ({"currency": "EUR"}, MixedCurrencies),
    ],
)
async def test_bad_lines_are_refused_and_nothing_is_stored(
    services: Services, tenant: TenantKit, orders: OrderService, change: dict, error: type
) -> None:
    body = order_body("bad")
    body["lines"][1].update(change)
    with pytest.raises(error):
        await orders.create(tenant.server, OrderCreate.model_validate(body))
    assert await services.stores.db["orders"].count_documents({}) == 0
    assert await services.stores.db["conversations"].count_documents({}) == 0


async def test_yen_has_no_decimals_and_unknown_currencies_are_refused(
    tenant: TenantKit, orders: OrderService
) -> None:
    body = order_body("jp", currency="JPY")
    for line in body["lines"]:
        line["unit_price"] = "1500"
    order, _ = await orders.create(tenant.server, OrderCreate.model_validate(body))
    assert order.subtotal == "4500"
    body["lines"][0]["unit_price"] = "1500.5"
    with pytest.raises(InvalidAmount, match="JPY"):
        await orders.create(tenant.server, OrderCreate.model_validate({**body, "order_id": "jp2"}))
    with pytest.raises(UnsupportedCurrency):
        await orders.create(tenant.server, order_create("x", currency="XYZ"))


@pytest.mark.parametrize(
    "bad",
    [
        {"unit_price": 12.5},
        {"unit_price": 12},
        {"quantity": "2"},
        {"quantity": True},
        {"sku": {"$ne": None}},
    ],
)
def test_schema_refuses_numbers_for_money_and_operator_objects(bad: dict) -> None:
    body = order_body()
    body["lines"][0].update(bad)
    with pytest.raises(ValidationError) as refused:
        OrderCreate.model_validate(body)
    if "unit_price" in bad:
        assert "JSON strings" in str(refused.value)


def test_schema_refuses_operator_objects_as_ids() -> None:
    with pytest.raises(ValidationError):
        OrderCreate.model_validate(order_body({"$gt": ""}))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        OrderCreate.model_validate(order_body("$where"))


async def test_status_changes_follow_the_machine_and_are_announced(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    order, _ = await orders.create(tenant.server, order_create())
    order, changed = await orders.update_status(tenant.server, "1042", "processing", note="packing")
    assert changed and order.status == "processing" and order.version == 2
    with pytest.raises(IllegalTransition) as refused:
        await orders.update_status(tenant.server, "1042", "delivered")
    assert refused.value.code == "illegal_transition" and "shipped" in refused.value.detail
    with pytest.raises(UnknownStatus):
        await orders.update_status(tenant.server, "1042", "teleported")
    after = await orders.get(tenant.server, "1042")
    assert after.status == "processing" and after.version == 2
    assert [(h.kind, h.from_status, h.to_status) for h in after.history] == [
        ("created", None, "placed"),
        ("status", "placed", "processing"),
    ]
    assert after.history[1].note == "packing" and after.history[1].actor == "marketplace"
    texts = await system_texts(services, tenant, order.conversation_id)
    assert texts[-1] == "Order #1042: placed → processing. Note: packing"


async def test_update_id_makes_a_retry_change_nothing(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    order, _ = await orders.create(tenant.server, order_create())
    for _ in range(3):
        again, _ = await orders.update_status(tenant.server, "1042", "processing", update_id="u1")
    assert again.version == 2
    assert len(await system_texts(services, tenant, order.conversation_id)) == 2


async def test_a_lost_post_is_repaired_by_the_next_write(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    order, _ = await orders.create(tenant.server, order_create())
    # As if the process died between the order update and the system message.
    await services.stores.db["orders"].update_one(
        {"order_id": "1042"},
        {
            "$set": {"status": "processing", "version": 2},
            "$push": {
                "history": {
                    "version": 2,
                    "at": order.created_at,
                    "actor": "marketplace",
                    "kind": "status",
                    "from_status": "placed",
                    "to_status": "processing",
                    "note": None,
                    "update_id": "lost",
                    "text": "Order #1042: placed → processing",
                }
            },
        },
    )
    await orders.update_status(tenant.server, "1042", "processing", update_id="lost")
    texts = await system_texts(services, tenant, order.conversation_id)
    assert texts[-1] == "Order #1042: placed → processing" and len(texts) == 2


async def test_roles_may_set_only_their_statuses(tenant: TenantKit, orders: OrderService) -> None:
    await orders.create(tenant.server, order_create("1"))
    await orders.create(tenant.server, order_create("2"))
    seller, buyer = user(tenant, "seller-1", "seller"), user(tenant, "buyer-1")
    with pytest.raises(Forbidden) as refused:
        await orders.update_status(buyer, "1", "processing")
    assert refused.value.code == "status_not_allowed"
    order, _ = await orders.update_status(seller, "1", "processing")
    assert order.history[-1].actor == "seller:seller-1"
    with pytest.raises(Forbidden):
        await orders.update_status(buyer, "1", "cancelled")  # too late for the buyer
    with pytest.raises(Forbidden):
        await orders.update_status(seller, "1", "refunded")
    cancelled, _ = await orders.update_status(buyer, "2", "cancelled", note="changed my mind")
    assert cancelled.status == "cancelled"
    with pytest.raises(NotFound):
        await orders.update_status(user(tenant, "stranger"), "1", "cancelled")


async def test_visibility_and_tenancy(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    await orders.create(tenant.server, order_create("1"))
    await orders.create(
        tenant.server,
        order_create("2", buyer={"user_id": "buyer-2", "display_name": "B2"}),
    )
    assert (await orders.get(user(tenant, "buyer-1"), "1")).order_id == "1"
    for hidden in ("2", "nope", "$ne", "x" * 100):
        with pytest.raises(NotFound):
            await orders.get(user(tenant, "buyer-1"), hidden)
    mine = await orders.list_orders(user(tenant, "buyer-1"))
    assert [o.order_id for o in mine] == ["1"]
    assert {
        o.order_id for o in await orders.list_orders(user(tenant, "seller-1"), role="seller")
    } == {"1", "2"}
    assert await orders.list_orders(user(tenant, "seller-1"), role="buyer") == []
    assert len(await orders.list_orders(tenant.server)) == 2
    other = await create_tenant(services, "Other shop")
    with pytest.raises(NotFound):
        await orders.get(other.server, "1")
    with pytest.raises(NotFound):
        await orders.update_status(other.server, "1", "cancelled")
    assert await orders.list_orders(other.server) == []
    assert (await orders.get(tenant.server, "1")).status == "placed"


async def test_concurrent_changes_are_never_lost(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    body = order_body("big")
    body["lines"] = [
        {
            "line_id": f"l{i}",
            "sku": f"SKU-{i}",
            "name": f"Item {i}",
            "quantity": 1,
            "unit_price": "1.00",
        }
        for i in range(8)
    ]
    await orders.create(tenant.server, OrderCreate.model_validate(body))
    await orders.update_status(tenant.server, "big", "processing")
    shipments = [
        ShipmentCreate(shipment_id=f"s{i}", items=[{"line_id": f"l{i}", "quantity": 1}])  # type: ignore[list-item]
        for i in range(8)
    ]
    await asyncio.gather(*(orders.add_shipment(tenant.server, "big", s) for s in shipments))
    order = await orders.get(tenant.server, "big")
    assert len(order.shipments) == 8 and order.status == "shipped"
    assert order.version == 2 + 8 == len(order.history)
    assert [h.version for h in order.history] == list(range(1, 11))
    texts = await system_texts(services, tenant, order.conversation_id)
    assert len(texts) == 10
