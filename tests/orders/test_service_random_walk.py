"""Random sequences of actions by random actors through the service: every
accepted change is an edge of the machine, every refused one changes nothing,
and history, version and the conversation's system messages stay in step."""

from __future__ import annotations

import random

from chat_service.errors import ChatError
from chat_service.orders.schemas import ShipmentCreate
from chat_service.orders.service import OrderService
from chat_service.orders.states import ALLOWED, OrderStatus
from chat_service.services import Services
from tests.fixtures.app import TenantKit
from tests.orders.conftest import order_create, user
from tests.orders.test_service_orders import system_texts

STATUSES = [status.value for status in OrderStatus]


async def test_random_walks_never_reach_an_illegal_state(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    rng = random.Random(20261125)
    actors = [
        tenant.server,
        user(tenant, "seller-1", "seller"),
        user(tenant, "buyer-1"),
        user(tenant, "stranger"),
    ]
    accepted = refused = 0
    for walk in range(4):
        order_id = f"walk-{walk}"
        await orders.create(tenant.server, order_create(order_id))
        for step in range(25):
            before = await orders.get(tenant.server, order_id)
            actor = rng.choices(actors, weights=[5, 3, 1, 1])[0]
            try:
                if rng.random() < 0.3:
                    sku, quantity = rng.choice([("CHAIR-BLUE", 1), ("CHAIR-BLUE", 2), ("TABLE", 1)])
                    request = ShipmentCreate.model_validate(
                        {"shipment_id": f"s{step}", "items": [{"sku": sku, "quantity": quantity}]}
                    )
                    await orders.add_shipment(actor, order_id, request)
                else:
                    # Mostly statuses the machine allows from here, so walks get far.
                    allowed = sorted(ALLOWED[OrderStatus(before.status)]) or STATUSES
                    target = rng.choice(allowed if rng.random() < 0.7 else STATUSES)
                    await orders.update_status(actor, order_id, target)
            except ChatError:
                after = await orders.get(tenant.server, order_id)
                assert after == before  # refused: nothing changed
                refused += 1
                continue
            accepted += 1
            after = await orders.get(tenant.server, order_id)
            assert after.version == before.version + 1
            assert OrderStatus(after.status) in ALLOWED[OrderStatus(before.status)]
        final = await orders.get(tenant.server, order_id)
        assert [h.version for h in final.history] == list(range(1, final.version + 1))
        shipped = {}
        for shipment in final.shipments:
            for item in shipment.items:
                shipped[item.sku] = shipped.get(item.sku, 0) + item.quantity
        assert shipped.get("CHAIR-BLUE", 0) <= 2 and shipped.get("TABLE", 0) <= 1
        texts = await system_texts(services, tenant, final.conversation_id)
        assert len(texts) == final.version
    assert accepted >= 10 and refused >= 10, (accepted, refused)
