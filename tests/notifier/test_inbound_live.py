"""End to end: a reply by email reaches the buyer's open WebSocket, live."""

from __future__ import annotations

import pytest

from chat_service.clock import Clock, SystemClock
from tests.fixtures.app import LiveServer, TenantKit, order_conversation
from tests.fixtures.ws import WsClient
from tests.notifier.inbound_corpus import OUTLOOK, REPLY
from tests.notifier.inbound_kit import reply_email, running_inbound


@pytest.fixture
def clock() -> Clock:
    return SystemClock()  # a live server with heartbeats runs on real time


async def test_a_reply_by_email_reaches_the_buyer_live(
    live: LiveServer, live_tenant: TenantKit
) -> None:
    services = live.services
    conv, _ = await services.conversations.open_conversation(
        live_tenant.server, order_conversation("1042")
    )
    buyer = await WsClient.authed(live.ws_url, live_tenant.id, live_tenant.token("buyer-1"))
    try:
        await buyer.send({"type": "subscribe", "conversation_id": conv.id, "after_seq": 0})
        await buyer.expect("subscribed", conversation_id=conv.id)
        async with running_inbound(services) as inbound:
            to = await inbound.address(live_tenant.id, conv.id)
            email = reply_email(OUTLOOK, sender="Seller One <Seller-1@mail.test>")
            code, _ = await inbound.deliver(email, to, mail_from="seller-1@mail.test")
        assert code == 250
        frame = await buyer.expect("message")
        message = frame["message"]
        assert message["sender_id"] == "seller-1"
        assert message["text"] == REPLY
        assert message["conversation_id"] == conv.id
        assert message["via"] == "email"
    finally:
        await buyer.close()
