"""Outbox and dispatcher against the real store and a real local receiver."""

from __future__ import annotations

import json
from datetime import timedelta

from bson import Binary

from chat_service.webhooks.delivery import backoff_seconds
from chat_service.webhooks.schemas import WebhookPut
from chat_service.webhooks.signing import verify_signature
from tests.fixtures.app import TenantKit, create_tenant
from tests.orders.conftest import order_create
from tests.webhooks.conftest import LIMITS, Hooks, build_hooks
from tests.webhooks.receiver import Receiver


async def deliveries(hooks: Hooks, kit: TenantKit) -> list[dict]:  # type: ignore[type-arg]
    log = await hooks.webhooks.deliveries(kit.server, limit=200)
    return [d.model_dump() for d in log.deliveries]


async def test_order_status_change_is_delivered_signed(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    secret = await hooks.configure(tenant, receiver.url, events=["order.status_changed"])
    await hooks.orders.create(tenant.server, order_create("1042"))
    await hooks.orders.update_status(tenant.server, "1042", "processing")
    assert await hooks.dispatcher.deliver_due() == 1  # order.created is not wanted
    [request] = receiver.requests
    headers = request.headers
    assert headers["x-chat-event"] == "order.status_changed"
    assert headers["content-type"] == "application/json"
    now = int(hooks.clock.now().timestamp())
    assert verify_signature(secret, headers["x-chat-signature"], request.body, now=now)
    assert not verify_signature("whsec_other", headers["x-chat-signature"], request.body, now=now)
    event = json.loads(request.body)
    assert event["id"] == headers["x-chat-delivery"] and event["type"] == "order.status_changed"
    assert event["data"]["order_id"] == "1042"
    assert (event["data"]["from_status"], event["data"]["to_status"]) == ("placed", "processing")
    [logged] = await deliveries(hooks, tenant)
    assert logged["status"] == "delivered" and logged["attempts"] == 1
    assert logged["last_status_code"] == 200 and logged["event_id"] == event["id"]
    assert await hooks.dispatcher.deliver_due() == 0  # nothing is sent twice
    stored = await hooks.webhooks.repository.get_delivery(f"{tenant.id}|{event['id']}")
    assert stored is not None and stored["payload"] is None  # kept no longer than needed


async def test_failures_are_retried_with_backoff_then_succeed(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(tenant, receiver.url, events=["order.created"])
    receiver.answers = [500, 503]
    await hooks.orders.create(tenant.server, order_create("7"))
    assert await hooks.dispatcher.deliver_due() == 1
    [logged] = await deliveries(hooks, tenant)
    assert logged["status"] == "pending" and logged["attempts"] == 1
    assert logged["last_status_code"] == 500 and logged["last_error"] == "HTTP 500"
    wait = (logged["next_attempt_at"] - hooks.clock.now()).total_seconds()
    assert LIMITS.base_seconds / 2 <= wait <= LIMITS.base_seconds
    assert await hooks.dispatcher.deliver_due() == 0  # not due yet
    hooks.clock.advance(wait)
    assert await hooks.dispatcher.deliver_due() == 1
    [logged] = await deliveries(hooks, tenant)
    second = (logged["next_attempt_at"] - hooks.clock.now()).total_seconds()
    assert LIMITS.base_seconds <= second <= 2 * LIMITS.base_seconds  # doubled
    hooks.clock.advance(second)
    assert await hooks.dispatcher.deliver_due() == 1
    [logged] = await deliveries(hooks, tenant)
    assert logged["status"] == "delivered" and logged["attempts"] == 3
    assert logged["last_error"] is None and logged["delivered_at"] is not None
    assert len(receiver.requests) == 3
    ids = {r.headers["x-chat-delivery"] for r in receiver.requests}
    assert len(ids) == 1  # the same event id on every attempt


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    import random

    rng = random.Random(1)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        wait = backoff_seconds(attempts, LIMITS, rng)
        assert ceiling / 2 <= wait <= ceiling


async def test_permanent_failure_after_max_attempts(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(tenant, receiver.url, events=["order.created"])
    receiver.default = 500
    await hooks.orders.create(tenant.server, order_create("9"))
    for _ in range(LIMITS.max_attempts):
        assert await hooks.dispatcher.deliver_due() == 1
        hooks.clock.advance(LIMITS.max_backoff_seconds)
    assert await hooks.dispatcher.deliver_due() == 0
    [logged] = await deliveries(hooks, tenant)
    assert logged["status"] == "failed" and logged["attempts"] == LIMITS.max_attempts
    assert logged["last_status_code"] == 500 and logged["last_error"] == "HTTP 500"
    assert logged["next_attempt_at"] is None
    failed = await hooks.webhooks.deliveries(tenant.server, status="failed")
    assert len(failed.deliveries) == 1
    assert not (await hooks.webhooks.deliveries(tenant.server, status="pending")).deliveries


async def test_timeouts_and_redirects_are_failures(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(tenant, receiver.url, events=["order.created"])
    receiver.answers = ["hang", "redirect"]
    await hooks.orders.create(tenant.server, order_create("11"))
    assert await hooks.dispatcher.deliver_due() == 1
    [logged] = await deliveries(hooks, tenant)
    assert logged["last_error"] == "timeout" and logged["last_status_code"] is None
    hooks.clock.advance(LIMITS.max_backoff_seconds)
    await hooks.dispatcher.deliver_due()
    [logged] = await deliveries(hooks, tenant)
    assert logged["last_status_code"] == 302 and logged["status"] == "pending"
    assert [r.path for r in receiver.requests] == ["/hook", "/hook"]  # not followed


async def test_one_alert_after_repeated_failures_and_reset_on_success(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(
        tenant, receiver.url, events=["order.created"], alert_email="ops@shop.test"
    )
    receiver.default = 500
    for n in range(5):
        await hooks.orders.create(tenant.server, order_create(f"a{n}"))
    assert await hooks.dispatcher.deliver_due() == 5  # five failures in a row
    assert len(hooks.alerts.sent) == 1
    to, subject, text = hooks.alerts.sent[0]
    assert to == "ops@shop.test" and "failing" in subject
    assert "127.0.0.1" in text and "HTTP 500" in text
    config = await hooks.webhooks.get(tenant.server)
    assert config.consecutive_failures == 5 and config.alert_sent_at is not None
    hooks.clock.advance(LIMITS.max_backoff_seconds)
    await hooks.dispatcher.deliver_due()
    assert len(hooks.alerts.sent) == 1  # once per streak
    receiver.default = 200
    hooks.clock.advance(LIMITS.max_backoff_seconds)
    await hooks.dispatcher.deliver_due()
    config = await hooks.webhooks.get(tenant.server)
    assert config.consecutive_failures == 0 and config.alert_sent_at is None
    receiver.default = 500
    for n in range(3):
        await hooks.orders.create(tenant.server, order_create(f"b{n}"))
    await hooks.dispatcher.deliver_due()
    assert len(hooks.alerts.sent) == 2  # a new streak alerts again


async def test_an_alert_that_cannot_be_sent_is_tried_again(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(
        tenant, receiver.url, events=["order.created"], alert_email="ops@shop.test"
    )
    receiver.default = 500
    hooks.alerts.fail_next = True
    for n in range(3):
        await hooks.orders.create(tenant.server, order_create(f"c{n}"))
    await hooks.dispatcher.deliver_due()
    assert hooks.alerts.sent == []
    hooks.clock.advance(LIMITS.max_backoff_seconds)
    await hooks.dispatcher.deliver_due()
    assert len(hooks.alerts.sent) == 1


async def test_the_same_event_is_recorded_once(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(tenant, receiver.url)
    assert await hooks.outbox.record(tenant.id, "order.created", {"order_id": "1"}, "e-1")
    assert not await hooks.outbox.record(tenant.id, "order.created", {"order_id": "1"}, "e-1")
    await hooks.orders.create(tenant.server, order_create("5"))
    await hooks.orders.create(tenant.server, order_create("5"))  # a retried create
    await hooks.orders.update_status(tenant.server, "5", "processing", update_id="u1")
    await hooks.orders.update_status(tenant.server, "5", "processing", update_id="u1")
    types = sorted(d["event_type"] for d in await deliveries(hooks, tenant))
    assert types.count("order.created") == 2  # e-1 and order 5
    assert types.count("order.status_changed") == 1


async def test_nothing_is_recorded_without_a_wanting_webhook(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    assert not await hooks.outbox.record(tenant.id, "order.created", {}, "x")
    await hooks.configure(tenant, receiver.url, events=["quote.requested"])
    assert not await hooks.outbox.record(tenant.id, "order.created", {}, "y")
    await hooks.webhooks.put(
        tenant.server, WebhookPut(url=receiver.url, events=["order.created"], enabled=False)
    )
    assert not await hooks.outbox.record(tenant.id, "order.created", {}, "z")
    assert await deliveries(hooks, tenant) == []


async def test_message_created_never_carries_the_text(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver, services: object
) -> None:
    await hooks.configure(tenant, receiver.url, events=["message.created"])
    order, _ = await hooks.orders.create(tenant.server, order_create("77"))
    secret_words = "the blue chair arrived scratched, call me on 555 0100"
    sent = await hooks.orders._conversations.send(
        tenant.server,
        order.conversation_id,
        client_msg_id="m1",
        text=secret_words,
        as_user="buyer-1",
    )
    stored = await hooks.webhooks.repository._deliveries.find({}).to_list(None)
    assert len(stored) == 2  # the order's system message and the buyer's
    assert all("scratched" not in repr(doc) for doc in stored)
    await hooks.dispatcher.deliver_due()
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert all(b"scratched" not in r.body and b"555" not in r.body for r in receiver.requests)
    [mine] = [b["data"] for b in bodies if b["data"]["sender_id"] == "buyer-1"]
    assert mine["message_id"] == sent.message.id and mine["seq"] == sent.message.seq
    assert mine["kind"] == "text" and mine["subject_id"] == "77"
    assert "text" not in mine


async def test_quote_events_are_delivered(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    from tests.quotes.conftest import create_body, offer

    await hooks.configure(tenant, receiver.url, events=["quote.requested", "quote.responded"])
    quote, _ = await hooks.quotes.request(tenant.server, create_body("q1"))
    await hooks.quotes.respond(tenant.server, "q1", offer(hooks.clock))  # type: ignore[arg-type]
    await hooks.dispatcher.deliver_due()
    types = sorted(r.headers["x-chat-event"] for r in receiver.requests)
    assert types == ["quote.requested", "quote.responded"]
    data = [json.loads(r.body)["data"] for r in receiver.requests]
    assert {d["quote_id"] for d in data} == {quote.id}


async def test_production_refuses_a_private_address_at_delivery(
    services: object, clock: object, tenant: TenantKit, receiver: Receiver
) -> None:
    hooks = build_hooks(services, clock, environment="production")  # type: ignore[arg-type]
    # Stored while the service ran as "test"; production refuses to call it.
    dev = build_hooks(services, clock)  # type: ignore[arg-type]
    await dev.configure(tenant, receiver.url)
    await hooks.outbox.record(tenant.id, "order.created", {"order_id": "1"}, "p-1")
    await hooks.dispatcher.deliver_due()
    [logged] = await deliveries(hooks, tenant)
    assert logged["last_error"].startswith("refused:") and logged["status"] == "pending"
    assert receiver.requests == []


async def test_secrets_and_alert_address_are_sealed_at_rest(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    secret = await hooks.configure(tenant, receiver.url, alert_email="ops@shop.test")
    doc = await hooks.webhooks.repository.get_config(tenant.id)
    assert doc is not None
    assert isinstance(doc["secret"]["blob"], bytes | Binary)
    assert secret.encode() not in bytes(doc["secret"]["blob"])
    assert b"ops@shop.test" not in bytes(doc["alert_email"]["blob"])
    assert "ops@shop.test" not in repr(doc) and secret not in repr(doc)


async def test_rotation_signs_with_both_secrets_during_the_grace(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    old = await hooks.configure(tenant, receiver.url)
    new = (await hooks.webhooks.rotate_secret(tenant.server)).secret
    assert new != old
    await hooks.outbox.record(tenant.id, "order.created", {}, "r-1")
    await hooks.dispatcher.deliver_due()
    header, body = receiver.requests[0].headers["x-chat-signature"], receiver.requests[0].body
    now = int(hooks.clock.now().timestamp())
    assert verify_signature(new, header, body, now=now)
    assert verify_signature(old, header, body, now=now)
    hooks.clock.advance(timedelta(days=2).total_seconds())
    await hooks.outbox.record(tenant.id, "order.created", {}, "r-2")
    await hooks.dispatcher.deliver_due()
    header, body = receiver.requests[1].headers["x-chat-signature"], receiver.requests[1].body
    now = int(hooks.clock.now().timestamp())
    assert verify_signature(new, header, body, now=now)
    assert not verify_signature(old, header, body, now=now)


async def test_another_tenant_sees_none_of_the_deliveries(
    hooks: Hooks, services: object, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(tenant, receiver.url)
    await hooks.outbox.record(tenant.id, "order.created", {"order_id": "1"}, "t-1")
    other = await create_tenant(services)  # type: ignore[arg-type]
    assert (await hooks.webhooks.deliveries(other.server)).deliveries == []
    assert len((await hooks.webhooks.deliveries(tenant.server)).deliveries) == 1


async def test_deliver_one_now(hooks: Hooks, tenant: TenantKit, receiver: Receiver) -> None:
    await hooks.configure(tenant, receiver.url)
    await hooks.outbox.record(tenant.id, "order.created", {"order_id": "1"}, "d-1")
    done = await hooks.dispatcher.deliver(f"{tenant.id}|d-1")
    assert done is not None and done["status"] == "delivered"
    assert await hooks.dispatcher.deliver(f"{tenant.id}|d-1") == done | {"claim_id": None}
    assert len(receiver.requests) == 1
