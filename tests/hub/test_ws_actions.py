"""Seller quick actions over the live socket and REST: delivered like messages,
refused with stable codes (the connection stays open)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hub.helpers import BUYER, SELLER, Hub, assert_alive, error_of, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")

DELIVERY = {"action": "confirm_delivery_date", "date": "2026-12-01", "note": "before noon"}


def action_frame(conv_id: str, action: object, client_msg_id: str) -> dict[str, Any]:
    return {
        "type": "action",
        "conversation_id": conv_id,
        "client_msg_id": client_msg_id,
        "action": action,
        "ref": client_msg_id,
    }


async def test_seller_action_is_acked_and_delivered_as_a_message(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(buyer, conv)
    await seller.send(action_frame(conv, DELIVERY, "d1"))
    ack = await seller.expect("ack", ref="d1")
    assert (ack["seq"], ack["duplicate"]) == (1, False)
    (message,) = await buyer.messages(1)
    assert (message["kind"], message["sender_id"], message["seq"]) == ("action", SELLER, 1)
    assert message["action"] == DELIVERY
    assert message["text"] == "Confirmed the delivery date: 2026-12-01. Note: before noon"
    await seller.send(action_frame(conv, DELIVERY, "d1"))
    assert (await seller.expect("ack", ref="d1"))["duplicate"] is True
    # A late subscriber catches up from the store with the same payload.
    late = await hub.connect(BUYER)
    await subscribe(late, conv)
    (replayed,) = await late.messages(1)
    assert replayed["action"] == DELIVERY


@pytest.mark.parametrize(
    ("user_id", "action", "code"),
    [
        (BUYER, DELIVERY, "role_not_allowed"),
        (SELLER, {"action": "wire_money"}, "unknown_action"),
        (SELLER, {"action": "confirm_delivery_date", "date": "soon"}, "invalid_action"),
        (SELLER, {"action": "request_photo", "note": "n" * 600}, "action_too_large"),
        (SELLER, "request_photo", "invalid_field"),
    ],
)
async def test_refused_actions_get_stable_codes(
    hub: Hub, user_id: str, action: object, code: str
) -> None:
    conv = await hub.conversation()
    client = await hub.connect(user_id)
    await client.send(action_frame(conv, action, "x1"))
    assert (await error_of(client, "x1"))["code"] == code
    await assert_alive(client)
    assert await hub.message_count() == 0


async def test_rest_actions_for_the_seller_only(hub: Hub) -> None:
    conv = await hub.conversation()
    body = {"client_msg_id": "r1", "action": {"action": "request_photo", "note": "the leg"}}
    path = f"/v1/conversations/{conv}/actions"
    async with hub.live.http(hub.tenant.token(SELLER, "seller")) as seller:
        created = await seller.post(path, json=body)
        assert created.status_code == 201, created.text
        assert created.json()["action"] == {"action": "request_photo", "note": "the leg"}
        assert (await seller.post(path, json=body)).status_code == 200
        bad = await seller.post(path, json={"client_msg_id": "r2", "action": {"action": "?"}})
        assert (bad.status_code, bad.json()["code"]) == (400, "unknown_action")
    async with hub.live.http(hub.tenant.token(BUYER, "buyer")) as buyer:
        refused = await buyer.post(path, json={**body, "client_msg_id": "r3"})
        assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")
        history = (await buyer.get(f"/v1/conversations/{conv}/messages?after_seq=0")).json()
    assert [m["kind"] for m in history["messages"]] == ["action"]
    async with hub.live.http(hub.tenant.creds.server_key) as backend:
        server = await backend.post(path, json={**body, "client_msg_id": "r4"})
        assert (server.status_code, server.json()["code"]) == (403, "user_required")
