from chat_service.services import Services
from tests.fixtures.app import LiveServer, TenantKit, order_conversation
from tests.fixtures.ws import WsClient


async def test_buyer_and_seller_chat_over_websocket(
    live: LiveServer, live_tenant: TenantKit
) -> None:
    services: Services = live.services
    conv, _ = await services.conversations.open_conversation(
        live_tenant.server, order_conversation()
    )
    buyer = await WsClient.authed(live.ws_url, live_tenant.id, live_tenant.token("buyer-1"))
    seller = await WsClient.authed(
        live.ws_url, live_tenant.id, live_tenant.token("seller-1", "seller")
    )
    for client in (buyer, seller):
        await client.send({"type": "subscribe", "conversation_id": conv.id, "after_seq": 0})
        await client.expect("subscribed")
    await buyer.send(
        {"type": "send", "conversation_id": conv.id, "client_msg_id": "a1", "text": "hi"}
    )
    ack = await buyer.expect("ack")
    assert ack["seq"] == 1
    (message,) = await seller.messages(1)
    assert message["text"] == "hi"
    assert message["sender_id"] == "buyer-1"
    await buyer.close()
    await seller.close()
