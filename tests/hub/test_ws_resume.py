"""Resume edge cases: a claimed position past the end, resubscribing, several
connections of one user, and presence that stays within its tenant."""

from __future__ import annotations

import pytest

from tests.fixtures.app import create_tenant, order_conversation
from tests.fixtures.ws import WsClient
from tests.hub.helpers import BUYER, SELLER, Hub, barrier, send_text, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_after_seq_past_the_end_does_not_skip_future_messages(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    for i in (1, 2, 3):
        await send_text(buyer, conv, f"m{i}", f"c{i}")
    subscribed = await subscribe(seller, conv, after_seq=999)
    assert subscribed["last_seq"] == 3
    await send_text(buyer, conv, "m4", "c4")
    (message,) = await seller.messages(1)
    assert (message["seq"], message["text"]) == (4, "m4")


async def test_resubscribing_starts_over_from_the_new_position(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    for i in (1, 2, 3):
        await send_text(buyer, conv, f"m{i}", f"c{i}")
    await subscribe(seller, conv)
    assert [m["seq"] for m in await seller.messages(3)] == [1, 2, 3]
    await subscribe(seller, conv, after_seq=1)
    assert [m["seq"] for m in await seller.messages(2)] == [2, 3]
    await send_text(buyer, conv, "m4", "c4")
    assert [m["seq"] for m in await seller.messages(1)] == [4]
    (seen,) = await barrier(hub, conv, seller)
    assert [f for f in seen if f["type"] == "message"] == []
    assert hub.services.rooms.room_count == 1


async def test_every_connection_of_a_user_gets_every_message(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    devices: list[WsClient] = [await hub.connect(SELLER) for _ in range(3)]
    for device in devices:
        await subscribe(device, conv)
    for i in (1, 2):
        await send_text(buyer, conv, f"m{i}", f"c{i}")
    for device in devices:
        assert [m["seq"] for m in await device.messages(2)] == [1, 2]


async def test_presence_does_not_cross_tenants(hub: Hub) -> None:
    other = await create_tenant(hub.services, "Other shop")
    other_conv, _ = await hub.services.conversations.open_conversation(
        other.server, order_conversation("1042")
    )
    # The same user id is online in the other marketplace only.
    twin = await WsClient.authed(hub.live.ws_url, other.id, other.token(SELLER, "seller"))
    hub.clients.append(twin)
    await subscribe(twin, other_conv.id)
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    assert (await subscribe(buyer, conv))["presence"] == {SELLER: "away"}
