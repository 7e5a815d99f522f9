"""Order actions leave audit entries (the chain still verifies), and the
parties' notes are sealed at rest: the raw documents hold no plain text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat_service.clock import ManualClock
from chat_service.errors import IntegrityError
from chat_service.orders.bulk import BulkStatusUpdates, parse_csv
from chat_service.orders.repository import OrderRepository
from chat_service.orders.schemas import ApprovalDecision, BackorderCreate, ShipmentCreate
from chat_service.orders.service import OrderService
from chat_service.quotes.schemas import CounterIn, DeclineIn
from chat_service.services import Services
from tests.fixtures.app import TenantKit
from tests.orders.conftest import order_create, user
from tests.orders.test_service_fulfilment import approval_rules, priced
from tests.orders.test_service_orders import system_texts
from tests.quotes.conftest import BUYER, SELLER, build_quotes, create_body, offer
from tests.quotes.conftest import user as quote_user

SECRET = "leave it with the neighbour at no 12"


async def test_each_order_action_is_audited_and_the_chain_verifies(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    await orders.create(tenant.server, order_create("1042"))
    await orders.update_status(tenant.server, "1042", "processing", update_id="u-1")
    await orders.set_backorder(
        tenant.server,
        "1042",
        BackorderCreate(line_id="b", expected_date=datetime.now(UTC).date() + timedelta(days=9)),
    )
    await orders.add_shipment(
        user(tenant, "seller-1", "seller"),
        "1042",
        ShipmentCreate.model_validate(
            {"shipment_id": "s1", "items": [{"sku": "CHAIR-BLUE", "quantity": 2}]}
        ),
    )
    await approval_rules(tenant, orders)
    await orders.create(tenant.server, priced("big", "2500.00"))
    await orders.decide_approval(
        user(tenant, "ann", "buyer"), "big", ApprovalDecision(decision="approve")
    )

    page = await services.audit.search(tenant.id)
    entries = list(reversed(page.entries))
    assert [(e.action, e.target_id) for e in entries] == [
        ("order.created", "1042"),
        ("order.status_changed", "1042"),
        ("order.backorder_set", "1042"),
        ("order.shipment_added", "1042"),
        ("order.created", "big"),
        ("order.approval_decided", "big"),
    ]
    status = entries[1]
    assert status.actor.type == "server" and status.details == {
        "version": 2,
        "from_status": "placed",
        "to_status": "processing",
        "update_id": "u-1",
    }
    assert (entries[3].actor.id, entries[5].actor.id) == ("seller-1", "ann")
    report = await services.audit.verify(tenant.id)
    assert report.ok and report.entries_checked == 6


async def test_order_notes_are_sealed_at_rest_and_shown_in_the_chat(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    order, _ = await orders.create(tenant.server, order_create("1042"))
    await orders.update_status(tenant.server, "1042", "processing", note=SECRET)
    await orders.set_backorder(
        tenant.server,
        "1042",
        BackorderCreate(
            line_id="b", expected_date=datetime.now(UTC).date() + timedelta(days=9), note=SECRET
        ),
    )
    raw = await services.stores.db["orders"].find_one({"order_id": "1042"})
    assert raw is not None and "neighbour" not in repr(raw)
    assert raw["history"][1]["note"]["key_id"] and raw["backorders"][0]["note"]["key_id"]

    shown = await orders.get(tenant.server, "1042")
    assert shown.history[1].note == SECRET and shown.backorders[0].note == SECRET
    texts = await system_texts(services, tenant, order.conversation_id)
    assert texts[1].endswith(f"Note: {SECRET}")


async def test_quote_notes_and_reasons_are_sealed_at_rest(
    services: Services, tenant: TenantKit, clock: ManualClock
) -> None:
    quotes = build_quotes(services)
    quote, _ = await quotes.request(tenant.server, create_body("Q-5", note=SECRET))
    await quotes.respond(quote_user(tenant, SELLER, "seller"), quote.id, offer(clock))
    await quotes.counter(
        quote_user(tenant, BUYER), quote.id, CounterIn(prices={"1": "11", "2": "290"}, note=SECRET)
    )
    await quotes.decline(quote_user(tenant, SELLER, "seller"), quote.id, DeclineIn(reason=SECRET))

    raw = await services.stores.db["quotes"].find_one({"quote_id": "Q-5"})
    assert raw is not None and "neighbour" not in repr(raw)
    assert raw["state"]["note"]["key_id"] and raw["state"]["reason"]["key_id"]
    shown = await quotes.get(tenant.server, quote.id)
    assert shown.note == SECRET and shown.reason == SECRET
    assert shown.revisions[1].note == SECRET

    # A sealed note moved to another field does not open.
    await services.stores.db["quotes"].update_one(
        {"quote_id": "Q-5"}, {"$set": {"state.note": raw["state"]["reason"]}}
    )
    with pytest.raises(IntegrityError):
        await quotes.get(tenant.server, quote.id)


async def test_a_bulk_upload_is_audited_per_row_and_its_notes_sealed(
    services: Services, tenant: TenantKit, orders: OrderService, bulk: BulkStatusUpdates
) -> None:
    for order_id in ("1", "2", "3"):
        await orders.create(tenant.server, order_create(order_id))
    body = (
        "order_id,status,note\n"
        f"1,processing,{SECRET}\n2,processing,\n3,delivered,\n1,shipped,{SECRET}\n"
    ).encode()
    result = await bulk.apply(tenant.server, "up-1", parse_csv(body))
    assert (result.applied, result.failed) == (3, 1)

    raw = await services.stores.db["orders"].find({}).to_list(None)
    assert "neighbour" not in repr(raw)
    one = await orders.get(tenant.server, "1")
    assert [h.note for h in one.history] == [None, SECRET, SECRET]
    texts = await system_texts(services, tenant, one.conversation_id)
    assert texts[-1].endswith(f"Note: {SECRET}") and len(texts) == 3
    page = await services.audit.search(tenant.id)
    bulk_entries = [e for e in page.entries if e.action == "order.status_changed"]
    assert sorted(str(e.details["update_id"]) for e in bulk_entries) == [
        "bulk:up-1:1",
        "bulk:up-1:2",
        "bulk:up-1:4",
    ]
    assert (await services.audit.verify(tenant.id)).ok


async def test_a_batched_write_skips_an_order_changed_meanwhile(
    services: Services, tenant: TenantKit, orders: OrderService, order_repo: OrderRepository
) -> None:
    await orders.create(tenant.server, order_create("1"))
    stale = (await order_repo.get_many(tenant.id, ["1"]))["1"]
    await orders.update_status(tenant.server, "1", "processing")
    entry = {
        "kind": "status",
        "from_status": "placed",
        "to_status": "cancelled",
        "note": None,
        "text": "x",
        "version": 2,
        "update_id": "bulk:u:1",
    }
    changed = await order_repo.apply_many(tenant.id, [(stale, {"status": "cancelled"}, [entry])])
    assert changed == set()
    assert (await orders.get(tenant.server, "1")).status == "processing"
