"""Each kind of order change becomes its event with its business fields; two
dispatchers at once never send an event twice."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from chat_service.orders.schemas import BackorderCreate, ShipmentCreate
from tests.fixtures.app import TenantKit
from tests.orders.conftest import order_create
from tests.webhooks.conftest import Hooks
from tests.webhooks.receiver import Receiver


async def test_shipments_and_backorders_carry_their_details(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(
        tenant, receiver.url, events=["order.shipment_added", "order.backorder_set"]
    )
    server = tenant.server
    await hooks.orders.create(server, order_create("55"))
    await hooks.orders.update_status(server, "55", "processing")
    expected = hooks.clock.now().date() + timedelta(days=20)
    await hooks.orders.set_backorder(
        server, "55", BackorderCreate(sku="CHAIR-BLUE", expected_date=expected)
    )
    shipment = ShipmentCreate.model_validate(
        {
            "shipment_id": "S1",
            "items": [{"sku": "TABLE", "quantity": 1}],
            "carrier": "UPS",
            "tracking_number": "1Z999",
        }
    )
    await hooks.orders.add_shipment(server, "55", shipment)
    await hooks.orders.add_shipment(server, "55", shipment)  # a resend records nothing
    assert await hooks.dispatcher.deliver_due() == 2
    events = {r.headers["x-chat-event"]: json.loads(r.body)["data"] for r in receiver.requests}
    backorder = events["order.backorder_set"]["backorders"]
    assert backorder == [{"line_id": "a", "quantity": 2, "expected_date": expected.isoformat()}]
    sent = events["order.shipment_added"]
    assert sent["shipment"]["carrier"] == "UPS" and sent["shipment"]["tracking_number"] == "1Z999"
    assert sent["shipment"]["items"] == [{"line_id": "b", "sku": "TABLE", "quantity": 1}]
    assert sent["to_status"] == "partially_shipped"


async def test_two_dispatchers_at_once_send_each_event_once(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(tenant, receiver.url)
    for n in range(12):
        await hooks.outbox.record(tenant.id, "order.created", {"n": n}, f"race-{n}")
    other = type(hooks.dispatcher)(hooks.webhooks, hooks.clock)
    counts = await asyncio.gather(hooks.dispatcher.deliver_due(), other.deliver_due())
    assert sum(counts) == 12
    ids = [r.headers["x-chat-delivery"] for r in receiver.requests]
    assert sorted(ids) == sorted(f"race-{n}" for n in range(12))
