"""Sending, resuming, resending, editing and deleting over the live socket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.hub.helpers import (
    BUYER,
    SELLER,
    Hub,
    barrier,
    delete_frame,
    edit_frame,
    error_of,
    send_text,
    subscribe,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


def no_messages(seen: list[list[dict[str, Any]]]) -> bool:
    return all(f["type"] != "message" for frames in seen for f in frames)


async def seed(hub: Hub, conv_id: str, count: int) -> None:
    """Messages stored while the subscriber is away."""
    for i in range(1, count + 1):
        await hub.services.conversations.send(
            hub.tenant.server, conv_id, client_msg_id=f"seed-{i}", text=f"m{i}", as_user=BUYER
        )


async def test_send_is_acked_with_seq_and_delivered(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(seller, conv)
    ack = await send_text(buyer, conv, "is it still available?", "c1")
    assert ack["seq"] == 1
    assert ack["duplicate"] is False
    assert ack["conversation_id"] == conv
    assert ack["client_msg_id"] == "c1"
    (message,) = await seller.messages(1)
    assert message["id"] == ack["message_id"]
    assert (message["seq"], message["kind"], message["sender_id"]) == (1, "text", BUYER)
    assert message["text"] == "is it still available?"
    assert (await send_text(buyer, conv, "hello?", "c2"))["seq"] == 2


async def test_resume_after_seq_gets_missed_then_live_without_gaps_or_duplicates(
    hub: Hub,
) -> None:
    conv = await hub.conversation()
    await seed(hub, conv, 5)
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    subscribed = await subscribe(seller, conv, after_seq=2)
    assert subscribed["last_seq"] == 5
    missed = await seller.messages(3)
    assert [(m["seq"], m["text"]) for m in missed] == [(3, "m3"), (4, "m4"), (5, "m5")]
    for i in (6, 7):
        assert (await send_text(buyer, conv, f"m{i}", f"live-{i}"))["seq"] == i
    live = await seller.messages(2)
    assert [m["seq"] for m in live] == [6, 7]
    assert no_messages(await barrier(hub, conv, seller))


async def test_resume_at_the_end_gets_only_live_messages(hub: Hub) -> None:
    conv = await hub.conversation()
    await seed(hub, conv, 3)
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    assert (await subscribe(seller, conv, after_seq=3))["last_seq"] == 3
    await send_text(buyer, conv, "new", "n1")
    assert [m["seq"] for m in await seller.messages(1)] == [4]
    assert no_messages(await barrier(hub, conv, seller))


async def test_subscribing_while_messages_flow_loses_and_repeats_nothing(hub: Hub) -> None:
    conv = await hub.conversation()
    await seed(hub, conv, 20)
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)

    async def keep_sending() -> None:
        for i in range(21, 61):
            await send_text(buyer, conv, f"m{i}", f"live-{i}")

    sender = asyncio.create_task(keep_sending())
    await asyncio.sleep(0)
    await subscribe(seller, conv, after_seq=5)
    await sender
    received = await seller.messages(55)
    assert [m["seq"] for m in received] == list(range(6, 61))
    assert [m["text"] for m in received] == [f"m{i}" for i in range(6, 61)]
    assert no_messages(await barrier(hub, conv, seller))


async def test_resend_with_same_client_msg_id_is_acked_as_duplicate(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(seller, conv)
    first = await send_text(buyer, conv, "40 units at $12?", "quote-1")
    stored = await hub.message_count()
    again = await send_text(buyer, conv, "40 units at $12?", "quote-1")
    assert again["duplicate"] is True
    assert (again["seq"], again["message_id"]) == (first["seq"], first["message_id"])
    # Even with other text, the client message id decides: the original stands.
    changed = await send_text(buyer, conv, "different", "quote-1")
    assert (changed["seq"], changed["duplicate"]) == (first["seq"], True)
    assert await hub.message_count() == stored == 1
    assert [m["seq"] for m in await seller.messages(1)] == [1]
    assert no_messages(await barrier(hub, conv, seller))


async def test_same_client_msg_id_from_two_users_are_two_messages(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    a = await send_text(buyer, conv, "from buyer", "x1")
    b = await send_text(seller, conv, "from seller", "x1")
    assert (a["seq"], b["seq"]) == (1, 2)
    assert not a["duplicate"] and not b["duplicate"]


async def test_edit_and_delete_by_the_author_are_logged_entries(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(seller, conv)
    original = await send_text(buyer, conv, "wrong colour", "o1")
    await buyer.send(edit_frame(conv, 1, "wrong colour: blue, not red", "e1"))
    edit_ack = await buyer.expect("ack", ref="e1")
    assert (edit_ack["seq"], edit_ack["duplicate"]) == (2, False)
    await buyer.send(delete_frame(conv, 1, "d1"))
    delete_ack = await buyer.expect("ack", ref="d1")
    assert delete_ack["seq"] == 3
    # A retried edit or delete is recognised by its client_msg_id.
    stored = await hub.message_count()
    await buyer.send(edit_frame(conv, 1, "wrong colour: blue, not red", "e1"))
    assert (await buyer.expect("ack", ref="e1"))["duplicate"] is True
    await buyer.send(delete_frame(conv, 1, "d1"))
    again = await buyer.expect("ack", ref="d1")
    assert (again["seq"], again["duplicate"]) == (3, True)
    assert await hub.message_count() == stored == 3
    sent, edit, delete = await seller.messages(3)
    assert sent["id"] == original["message_id"]
    assert (edit["kind"], edit["target_seq"], edit["text"]) == (
        "edit",
        1,
        "wrong colour: blue, not red",
    )
    assert (delete["kind"], delete["target_seq"], delete["text"]) == ("delete", 1, None)
    # The original is now a tombstone, and a late subscriber sees the same log.
    late = await hub.connect(SELLER)
    await subscribe(late, conv)
    replay = await late.messages(3)
    assert [(m["seq"], m["kind"]) for m in replay] == [(1, "text"), (2, "edit"), (3, "delete")]
    assert replay[0]["deleted"] is True
    # Deleting scrubs the text everywhere, including the edit entry.
    assert (replay[0]["text"], replay[1]["text"]) == (None, None)
    stored = await hub.services.stores.db["messages"].find({"conv": conv}).to_list(None)
    assert [d["text"] for d in sorted(stored, key=lambda d: d["seq"])] == [None, None, None]


async def test_only_the_author_may_edit_or_delete(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await send_text(buyer, conv, "mine", "o1")
    stored = await hub.message_count()
    await seller.send(edit_frame(conv, 1, "hijacked", "e1"))
    assert (await error_of(seller, "e1"))["code"] == "not_author"
    await seller.send(delete_frame(conv, 1, "d1"))
    assert (await error_of(seller, "d1"))["code"] == "not_author"
    assert await hub.message_count() == stored
    page = await hub.services.conversations.history(hub.tenant.server, conv)
    assert [(m.text, m.deleted) for m in page.messages] == [("mine", False)]


async def test_edit_of_missing_or_deleted_message_is_refused(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    await send_text(buyer, conv, "soon gone", "o1")
    await buyer.send(edit_frame(conv, 99, "x", "e0"))
    assert (await error_of(buyer, "e0"))["code"] == "not_found"
    await buyer.send(delete_frame(conv, 1, "d1"))
    await buyer.expect("ack", ref="d1")
    await buyer.send(edit_frame(conv, 1, "back", "e1"))
    assert (await error_of(buyer, "e1"))["code"] == "message_deleted"
    # Editing an edit entry (not a text message) is not possible either.
    await buyer.send(edit_frame(conv, 2, "x", "e2"))
    assert (await error_of(buyer, "e2"))["code"] == "not_found"
    assert await hub.message_count() == 2


async def test_second_auth_frame_does_not_change_identity(hub: Hub) -> None:
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    await buyer.send({"type": "auth", "token": hub.tenant.token(SELLER, "seller")})
    assert (await error_of(buyer))["code"] == "already_authenticated"
    await send_text(buyer, conv, "who am I", "w1")
    page = await hub.services.conversations.history(hub.tenant.server, conv)
    assert [m.sender_id for m in page.messages] == [BUYER]
