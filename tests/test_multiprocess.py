"""Two ``chat-service serve`` processes sharing one store and one Redis.

The buyer is connected to process A, the seller to process B: messages, typing
and read receipts cross processes through Redis. B is then killed (SIGKILL)
while the buyer keeps writing; after B restarts the seller resumes from its
last seen ``seq`` and gets exactly what it missed, in order, then live traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from chat_service.config import Settings
from chat_service.embedded.servers import free_port
from chat_service.services import Services
from tests.fixtures.app import TenantKit, order_conversation
from tests.fixtures.processes import ServeProcess
from tests.fixtures.ws import WsClient

BUYER, SELLER = "buyer-1", "seller-1"


async def _send(client: WsClient, conv_id: str, client_msg_id: str, text: str) -> int:
    await client.send(
        {"type": "send", "conversation_id": conv_id, "client_msg_id": client_msg_id, "text": text}
    )
    ack = await client.expect("ack", client_msg_id=client_msg_id)
    assert ack["duplicate"] is False
    seq: int = ack["seq"]
    return seq


async def _subscribe(client: WsClient, conv_id: str, after_seq: int) -> dict[str, Any]:
    await client.send({"type": "subscribe", "conversation_id": conv_id, "after_seq": after_seq})
    return await client.expect("subscribed", conversation_id=conv_id)


def _message_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == "message"]


async def test_two_processes_chat_and_a_killed_process_loses_nothing(
    settings: Settings, services: Services, tenant: TenantKit, tmp_path: Path
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    a = ServeProcess("a", settings, free_port(), tmp_path)
    b = ServeProcess("b", settings, free_port(), tmp_path)
    clients: list[WsClient] = []
    try:
        a.start()
        b.start()
        await asyncio.gather(a.wait_ready(), b.wait_ready())

        buyer = await WsClient.authed(a.ws_url, tenant.id, tenant.token(BUYER))
        seller = await WsClient.authed(b.ws_url, tenant.id, tenant.token(SELLER, "seller"))
        clients += [buyer, seller]
        await _subscribe(buyer, conv.id, 0)
        await _subscribe(seller, conv.id, 0)

        # Both ways, across processes.
        assert await _send(buyer, conv.id, "b1", "are the chairs in stock?") == 1
        (got,) = await seller.messages(1)
        assert (got["seq"], got["sender_id"], got["text"]) == (1, BUYER, "are the chairs in stock?")
        assert await _send(seller, conv.id, "s1", "yes, two left") == 2
        own, reply = await buyer.messages(2)
        assert (own["seq"], reply["seq"], reply["text"]) == (1, 2, "yes, two left")
        assert (await seller.messages(1))[0]["seq"] == 2  # its own message, once

        # Typing, both ways.
        await seller.send({"type": "typing", "conversation_id": conv.id, "state": "start"})
        typing = await buyer.expect("typing", user_id=SELLER)
        assert typing["state"] == "start"
        await buyer.send({"type": "typing", "conversation_id": conv.id, "state": "stop"})
        typing = await seller.expect("typing", user_id=BUYER)
        assert typing["state"] == "stop"

        # Read receipts, both ways.
        await seller.send({"type": "read", "conversation_id": conv.id, "seq": 1})
        assert (await seller.expect("ack", read_seq=1))["conversation_id"] == conv.id
        receipt = await buyer.expect("read", user_id=SELLER)
        assert receipt["seq"] == 1
        await buyer.send({"type": "read", "conversation_id": conv.id, "seq": 2})
        receipt = await seller.expect("read", user_id=BUYER)
        assert receipt["seq"] == 2
        seller_last_seen = 2

        # B crashes; the buyer keeps writing on A.
        b.kill()
        with contextlib.suppress(Exception):
            await seller.close()
        missed = [await _send(buyer, conv.id, f"b{n}", f"while B was down {n}") for n in (2, 3, 4)]
        assert missed == [3, 4, 5]

        b.start()
        await b.wait_ready()
        seller = await WsClient.authed(b.ws_url, tenant.id, tenant.token(SELLER, "seller"))
        clients.append(seller)
        subscribed = await _subscribe(seller, conv.id, seller_last_seen)
        assert subscribed["last_seq"] == 5
        assert subscribed["read"] == {SELLER: 1, BUYER: 2}
        caught_up = await seller.messages(3)
        assert [(m["seq"], m["text"]) for m in caught_up] == [
            (3, "while B was down 2"),
            (4, "while B was down 3"),
            (5, "while B was down 4"),
        ]

        # Then live again, in both directions.
        assert await _send(buyer, conv.id, "b5", "welcome back") == 6
        (live,) = await seller.messages(1)
        assert (live["seq"], live["text"]) == (6, "welcome back")
        assert await _send(seller, conv.id, "s2", "thanks") == 7
        # The buyer (never disconnected) saw its own and the seller's, once each.
        assert [m["seq"] for m in await buyer.messages(5)] == [3, 4, 5, 6, 7]

        # No duplicates anywhere, and the store holds exactly what was acknowledged.
        assert [m["message"]["seq"] for m in _message_frames(await seller.nothing_more())] == [7]
        assert _message_frames(await buyer.nothing_more()) == []
        stored = await services.stores.db["messages"].find({"conv": conv.id}).to_list(None)
        assert sorted(d["seq"] for d in stored) == [1, 2, 3, 4, 5, 6, 7]
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()
        a.kill()
        b.kill()
