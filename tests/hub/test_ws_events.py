"""Events without a seq: typing, read marks and presence."""

from __future__ import annotations

import pytest

from tests.hub.helpers import BUYER, SELLER, Hub, barrier, send_text, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_typing_reaches_the_other_party_but_not_the_typist(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(buyer, conv)
    await subscribe(seller, conv)
    await barrier(hub, conv, buyer, seller)  # past the presence announcements
    await buyer.send({"type": "typing", "conversation_id": conv, "state": "start"})
    typing = await seller.expect("typing")
    assert typing == {"type": "typing", "conversation_id": conv, "user_id": BUYER, "state": "start"}
    await buyer.send({"type": "typing", "conversation_id": conv, "state": "stop"})
    assert (await seller.expect("typing"))["state"] == "stop"
    assert await barrier(hub, conv, buyer, seller) == [[], []]
    assert await hub.message_count() == 0


async def test_read_is_acked_and_told_to_the_other_party(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(buyer, conv)
    await subscribe(seller, conv)
    await send_text(buyer, conv, "one", "c1")
    await send_text(buyer, conv, "two", "c2")
    await seller.send({"type": "read", "conversation_id": conv, "seq": 2, "ref": "r"})
    ack = await seller.expect("ack", ref="r")
    assert (ack["conversation_id"], ack["read_seq"]) == (conv, 2)
    read = await buyer.expect("read")
    assert read == {"type": "read", "conversation_id": conv, "user_id": SELLER, "seq": 2}
    # Read marks never go back, nor past the end of the log.
    await seller.send({"type": "read", "conversation_id": conv, "seq": 1, "ref": "back"})
    assert (await seller.expect("ack", ref="back"))["read_seq"] == 2
    await seller.send({"type": "read", "conversation_id": conv, "seq": 999, "ref": "far"})
    assert (await seller.expect("ack", ref="far"))["read_seq"] == 2
    # A later subscriber learns the mark from the subscribed frame.
    again = await hub.connect(BUYER)
    assert (await subscribe(again, conv))["read"] == {SELLER: 2}


async def test_subscribed_reports_presence_and_away_follows_disconnect(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    assert (await subscribe(buyer, conv))["presence"] == {SELLER: "away"}
    seller = await hub.connect(SELLER)
    assert (await subscribe(seller, conv))["presence"] == {BUYER: "online"}
    online = await buyer.expect("presence", user_id=SELLER)
    assert (online["conversation_id"], online["status"]) == (conv, "online")
    await seller.close()
    away = await buyer.expect("presence", user_id=SELLER)
    assert (away["conversation_id"], away["status"]) == (conv, "away")
    other = await hub.connect(BUYER)
    assert (await subscribe(other, conv))["presence"] == {SELLER: "away"}


async def test_away_only_when_the_last_connection_of_a_user_closes(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    await subscribe(buyer, conv)
    phone, laptop = await hub.connect(SELLER), await hub.connect(SELLER)
    await subscribe(phone, conv)
    await subscribe(laptop, conv)
    await phone.close()
    assert [f for f in await buyer.nothing_more() if f.get("status") == "away"] == []
    await laptop.close()
    away = await buyer.expect("presence", user_id=SELLER, status="away")
    assert away["conversation_id"] == conv


async def test_unsubscribe_stops_delivery(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(seller, conv)
    await send_text(buyer, conv, "one", "c1")
    assert [m["seq"] for m in await seller.messages(1)] == [1]
    await seller.send({"type": "unsubscribe", "conversation_id": conv, "ref": "u"})
    assert (await seller.expect("unsubscribed", ref="u"))["conversation_id"] == conv
    seller.backlog.clear()  # its own presence, announced when it subscribed
    await send_text(buyer, conv, "two", "c2")
    await buyer.send({"type": "typing", "conversation_id": conv, "state": "start"})
    assert await seller.nothing_more() == []
