"""Shipments, back-orders and B2B approvals through the orders service."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chat_service.errors import Forbidden, NotFound
from chat_service.orders.errors import (
    ApprovalCurrencyMismatch,
    IllegalTransition,
    InvalidApprovalRules,
    InvalidBackorder,
    InvalidQuantity,
    InvalidShipment,
    NotAnApprover,
    QuantityExceedsRemaining,
    UnknownLine,
    UnknownSku,
)
from chat_service.orders.schemas import (
    ApprovalDecision,
    ApprovalRulesPut,
    BackorderCreate,
    OrderCreate,
    ShipmentCreate,
)
from chat_service.orders.service import OrderService
from chat_service.services import Services
from tests.fixtures.app import TenantKit
from tests.orders.conftest import order_create, user
from tests.orders.test_service_orders import system_texts


def shipment(shipment_id: str, *items: tuple[str, int], **extra: object) -> ShipmentCreate:
    return ShipmentCreate.model_validate(
        {
            "shipment_id": shipment_id,
            "items": [{"sku": s, "quantity": q} for s, q in items],
            **extra,
        }
    )


async def processing(tenant: TenantKit, orders: OrderService, order_id: str = "1042") -> None:
    await orders.create(tenant.server, order_create(order_id))
    await orders.update_status(tenant.server, order_id, "processing")


async def test_split_shipments_move_the_order_and_show_in_the_chat(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    await processing(tenant, orders)
    seller = user(tenant, "seller-1", "seller")
    first, created = await orders.add_shipment(
        seller, "1042", shipment("S1", ("CHAIR-BLUE", 1), carrier="UPS", tracking_number="1Z999")
    )
    assert created and first.status == "partially_shipped"
    again, created = await orders.add_shipment(seller, "1042", shipment("S1", ("CHAIR-BLUE", 1)))
    assert not created and again.version == first.version
    done, _ = await orders.add_shipment(
        seller, "1042", shipment("S2", ("CHAIR-BLUE", 1), ("TABLE", 1))
    )
    assert done.status == "shipped"
    assert [s.shipment_id for s in done.shipments] == ["S1", "S2"]
    texts = await system_texts(services, tenant, done.conversation_id)
    assert "shipment S1 sent with UPS (tracking 1Z999): 1 x CHAIR-BLUE" in texts[-2]
    assert texts[-1].endswith("the order is now shipped")


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ((("NO-SUCH-SKU", 1),), UnknownSku),
        ((("CHAIR-BLUE", 3),), QuantityExceedsRemaining),
        ((("CHAIR-BLUE", 1), ("CHAIR-BLUE", 1)), InvalidShipment),
    ],
)
async def test_bad_shipments_change_nothing(
    tenant: TenantKit, orders: OrderService, items: tuple, error: type
) -> None:
    await processing(tenant, orders)
    with pytest.raises(error):
        await orders.add_shipment(tenant.server, "1042", shipment("S1", *items))
    order = await orders.get(tenant.server, "1042")
    assert order.shipments == [] and order.version == 2


async def test_shipment_quantities_and_lines_are_checked(
    tenant: TenantKit, orders: OrderService
) -> None:
    await processing(tenant, orders)
    for quantity in (0, -1):
        with pytest.raises(InvalidQuantity):
            await orders.add_shipment(tenant.server, "1042", shipment("S1", ("TABLE", quantity)))
    with pytest.raises(UnknownLine):
        await orders.add_shipment(
            tenant.server,
            "1042",
            ShipmentCreate.model_validate(
                {"shipment_id": "S1", "items": [{"line_id": "zz", "quantity": 1}]}
            ),
        )


async def test_shipping_a_placed_order_is_an_illegal_transition(
    tenant: TenantKit, orders: OrderService
) -> None:
    await orders.create(tenant.server, order_create())
    with pytest.raises(IllegalTransition):
        await orders.add_shipment(tenant.server, "1042", shipment("S1", ("TABLE", 1)))
    assert (await orders.get(tenant.server, "1042")).shipments == []


async def test_buyers_cannot_record_fulfilment(tenant: TenantKit, orders: OrderService) -> None:
    await processing(tenant, orders)
    with pytest.raises(Forbidden):
        await orders.add_shipment(user(tenant, "buyer-1"), "1042", shipment("S1", ("TABLE", 1)))


async def test_backorders_are_kept_and_shrink_with_shipments(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    await processing(tenant, orders)
    expected = services.clock.now().date() + timedelta(days=30)
    order = await orders.set_backorder(
        user(tenant, "seller-1", "seller"),
        "1042",
        BackorderCreate(sku="CHAIR-BLUE", expected_date=expected, note="supplier delay"),
    )
    assert [(b.line_id, b.quantity, b.expected_date) for b in order.backorders] == [
        ("a", 2, expected)
    ]
    assert order.status == "processing"
    texts = await system_texts(services, tenant, order.conversation_id)
    assert f"2 x CHAIR-BLUE back-ordered, expected {expected.isoformat()}" in texts[-1]
    shipped, _ = await orders.add_shipment(tenant.server, "1042", shipment("S1", ("CHAIR-BLUE", 1)))
    assert [(b.line_id, b.quantity) for b in shipped.backorders] == [("a", 1)]


async def test_bad_backorders_are_refused(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    await processing(tenant, orders)
    today = services.clock.now().date()
    with pytest.raises(InvalidBackorder):
        await orders.set_backorder(
            tenant.server,
            "1042",
            BackorderCreate(sku="TABLE", expected_date=today - timedelta(days=1)),
        )
    with pytest.raises(QuantityExceedsRemaining):
        await orders.set_backorder(
            tenant.server, "1042", BackorderCreate(sku="TABLE", quantity=5, expected_date=today)
        )
    with pytest.raises(UnknownSku):
        await orders.set_backorder(
            tenant.server, "1042", BackorderCreate(sku="GHOST", expected_date=today)
        )
    assert (await orders.get(tenant.server, "1042")).backorders == []


async def approval_rules(tenant: TenantKit, orders: OrderService) -> None:
    await orders.put_approval_rules(
        tenant.server,
        "acme",
        ApprovalRulesPut.model_validate(
            {
                "rules": [
                    {
                        "rule_id": "r2k",
                        "minimum": "2000.00",
                        "currency": "USD",
                        "approver_ids": ["ann"],
                    },
                    {
                        "rule_id": "r5k",
                        "minimum": "5000.00",
                        "currency": "USD",
                        "approver_ids": ["di"],
                    },
                ]
            }
        ),
    )


def priced(order_id: str, price: str, currency: str = "USD") -> OrderCreate:
    return order_create(
        order_id,
        currency=currency,
        buyer={"user_id": "buyer-1", "display_name": "Bea", "org_id": "acme"},
        lines=[{"sku": "DESK", "name": "Desk", "quantity": 1, "unit_price": price}],
    )


async def test_approval_thresholds_and_decisions(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    await approval_rules(tenant, orders)
    small, _ = await orders.create(tenant.server, priced("s", "1999.99"))
    assert small.status == "placed" and small.approval is None
    big, _ = await orders.create(tenant.server, priced("b", "2000.00"))
    assert big.status == "awaiting_approval" and big.approval is not None
    assert big.approval.approver_ids == ["ann"]
    ann, di = user(tenant, "ann"), user(tenant, "di")
    assert (await orders.get(ann, "b")).order_id == "b"  # an approver sees the order
    with pytest.raises(NotFound):
        await orders.get(di, "b")  # a higher threshold's approver does not
    with pytest.raises(Forbidden):
        await orders.update_status(ann, "b", "approved")  # approvals go through decide_approval
    with pytest.raises(NotAnApprover):
        await orders.decide_approval(
            user(tenant, "buyer-1"), "b", ApprovalDecision(decision="approve")
        )
    approved, changed = await orders.decide_approval(ann, "b", ApprovalDecision(decision="approve"))
    assert changed and approved.status == "approved"
    assert approved.approval is not None and approved.approval.decided_by == "ann"
    again, changed = await orders.decide_approval(ann, "b", ApprovalDecision(decision="approve"))
    assert not changed and again.version == approved.version
    with pytest.raises(IllegalTransition):
        await orders.decide_approval(ann, "b", ApprovalDecision(decision="reject"))
    texts = await system_texts(services, tenant, approved.conversation_id)
    assert "waits for approval (orders of 2000.00 USD or more)" in texts[0]
    assert texts[-1] == "Order #b approved by Ann"
    await orders.create(tenant.server, priced("h", "7000.00"))
    rejected, _ = await orders.decide_approval(
        di, "h", ApprovalDecision(decision="reject", note="too much")
    )
    assert rejected.status == "rejected"


async def test_approval_rules_are_validated(tenant: TenantKit, orders: OrderService) -> None:
    await approval_rules(tenant, orders)
    with pytest.raises(ApprovalCurrencyMismatch):
        await orders.create(tenant.server, priced("eu", "10.00", "EUR"))
    same = {"minimum": "10.00", "currency": "USD", "approver_ids": ["a"]}
    with pytest.raises(InvalidApprovalRules):
        await orders.put_approval_rules(
            tenant.server,
            "acme",
            ApprovalRulesPut.model_validate(
                {"rules": [{"rule_id": "x", **same}, {"rule_id": "y", **same}]}
            ),
        )
    rules = await orders.get_approval_rules(tenant.server, "acme")
    assert [r.rule_id for r in rules.rules] == ["r2k", "r5k"]
