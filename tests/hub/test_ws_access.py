"""A participant reaches only their own conversations, on every frame: a
foreign id, an id that does not exist and another tenant's id all get the
same ``not_found``, and nothing is stored or delivered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chat_service.ids import new_id
from tests.fixtures.app import create_tenant, order_conversation
from tests.hub.helpers import BUYER, Hub, barrier, error_of, send_text, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")

Frame = Callable[[str], dict[str, Any]]

FRAMES: dict[str, Frame] = {
    "subscribe": lambda c: {"type": "subscribe", "conversation_id": c, "after_seq": 0},
    "send": lambda c: {"type": "send", "conversation_id": c, "client_msg_id": "x", "text": "hi"},
    "edit": lambda c: {
        "type": "edit",
        "conversation_id": c,
        "client_msg_id": "e",
        "seq": 1,
        "text": "x",
    },
    "delete": lambda c: {"type": "delete", "conversation_id": c, "client_msg_id": "d", "seq": 1},
    "typing": lambda c: {"type": "typing", "conversation_id": c, "state": "start"},
    "read": lambda c: {"type": "read", "conversation_id": c, "seq": 1},
}


async def others_conversation(hub: Hub) -> str:
    """A conversation of two other users, with one message in it."""
    conv = await hub.conversation("2001", "buyer-2", "seller-2")
    await hub.services.conversations.send(
        hub.tenant.server, conv, client_msg_id="s1", text="private", as_user="buyer-2"
    )
    return conv


async def refused_everywhere(hub: Hub, conv_id: str, client_frame: Frame) -> dict[str, Any]:
    intruder = await hub.connect(BUYER)
    stored = await hub.message_count()
    await intruder.send({**client_frame(conv_id), "ref": "r"})
    error = await error_of(intruder, "r")
    assert error["code"] == "not_found"
    assert await hub.message_count() == stored
    # The next frame answers a ping: nothing was subscribed, acked or sent.
    await intruder.send({"type": "ping", "ref": "after"})
    assert await intruder.recv() == {"type": "pong", "ref": "after"}
    return error


@pytest.mark.parametrize("kind", sorted(FRAMES))
async def test_foreign_and_missing_conversations_look_the_same(hub: Hub, kind: str) -> None:
    await hub.conversation()  # the intruder's own conversation exists
    foreign = await others_conversation(hub)
    observer = await hub.connect("seller-2")
    await subscribe(observer, foreign, after_seq=1)
    await barrier(hub, foreign, observer)
    seen_foreign = await refused_everywhere(hub, foreign, FRAMES[kind])
    seen_missing = await refused_everywhere(hub, new_id("c"), FRAMES[kind])
    assert seen_foreign == seen_missing
    # The owners of the conversation noticed nothing: no typing, read or message.
    assert await barrier(hub, foreign, observer) == [[]]
    page = await hub.services.conversations.history(hub.tenant.server, foreign)
    assert [(m.seq, m.text, m.deleted) for m in page.messages] == [(1, "private", False)]


@pytest.mark.parametrize("kind", sorted(FRAMES))
async def test_conversation_of_another_tenant_is_not_found(hub: Hub, kind: str) -> None:
    other = await create_tenant(hub.services, "Other shop")
    # Same user ids, same order number, different marketplace.
    conv, _ = await hub.services.conversations.open_conversation(
        other.server, order_conversation("1042")
    )
    await hub.services.conversations.send(
        other.server, conv.id, client_msg_id="s1", text="other shop", as_user=BUYER
    )
    await refused_everywhere(hub, conv.id, FRAMES[kind])


async def test_participation_is_checked_on_every_frame(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    await subscribe(buyer, conv)
    await send_text(buyer, conv, "before", "b1")
    # The buyer is taken off the conversation while still subscribed.
    await hub.services.stores.db["conversations"].update_one(
        {"_id": conv}, {"$pull": {"participants": {"user_id": BUYER}}}
    )
    # Access checks may answer from a short memory of the conversation; a
    # participant change drops it (here the change bypassed the service, so by hand).
    hub.services.conversations.forget_cached(conv)
    stored = await hub.message_count()
    for kind in ("send", "typing", "read", "subscribe"):
        await buyer.send({**FRAMES[kind](conv), "ref": kind})
        assert (await buyer.expect("error", ref=kind))["code"] == "not_found"
    assert await hub.message_count() == stored


async def test_unsubscribe_of_a_foreign_conversation_reveals_nothing(hub: Hub) -> None:
    foreign = await others_conversation(hub)
    missing = new_id("c")
    buyer = await hub.connect(BUYER)
    answers = []
    for conv in (foreign, missing):
        await buyer.send({"type": "unsubscribe", "conversation_id": conv, "ref": "u"})
        answer = await buyer.expect("unsubscribed", ref="u")
        answers.append({k: v for k, v in answer.items() if k != "conversation_id"})
    assert answers[0] == answers[1]
    assert hub.services.rooms.room_count == 0
