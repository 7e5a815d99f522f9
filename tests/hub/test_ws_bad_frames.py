"""Bad frames after authentication: each gets an error frame with a stable code
(echoing ``ref`` where the frame had a readable one), the socket stays usable,
nothing is stored, and other connections notice nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.ws import WsClient
from tests.hub.helpers import (
    BUYER,
    SELLER,
    Hub,
    assert_alive,
    barrier,
    close_of,
    error_of,
    subscribe,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")

CONV = "{conv}"  # replaced by the test's own conversation id
LIMIT = 16 * 1024  # the default ws_max_frame_bytes


def send(**fields: Any) -> dict[str, Any]:
    frame = {"type": "send", "conversation_id": CONV, "client_msg_id": "b1", "text": "hi"}
    return {**frame, **fields, "ref": "r"}


# (raw frame, expected code, expected ref)
CASES: dict[str, tuple[str | dict[str, Any], str, str | None]] = {
    # Not JSON, or not a JSON object.
    "malformed_json": ("{not json", "bad_json", None),
    "empty_frame": ("", "bad_json", None),
    "trailing_comma": ('{"type": "ping",}', "bad_json", None),
    "lone_surrogate": ('{"type": "send", "text": "\\ud800"}', "bad_json", None),
    "array": ("[1, 2]", "bad_frame", None),
    "string": ('"ping"', "bad_frame", None),
    "number": ("42", "bad_frame", None),
    "null": ("null", "bad_frame", None),
    # Unknown or missing type.
    "unknown_type": ({"type": "shout", "ref": "r"}, "unknown_type", "r"),
    "missing_type": ({"ref": "r"}, "unknown_type", "r"),
    "type_case": ({"type": "PING", "ref": "r"}, "unknown_type", "r"),
    "type_null": ({"type": None, "ref": "r"}, "unknown_type", "r"),
    "type_list": ({"type": ["ping"], "ref": "r"}, "unknown_type", "r"),
    "type_operator": ({"type": {"$ne": None}, "ref": "r"}, "unknown_type", "r"),
    # Wrong field types (strict: no coercion).
    "conv_id_int": (send(conversation_id=123), "invalid_field", "r"),
    "conv_id_uppercase": (send(conversation_id="C_0123456789ABCDEF"), "invalid_field", "r"),
    "conv_id_regex": (send(conversation_id="c_0123.*"), "invalid_field", "r"),
    "conv_id_list": (send(conversation_id=[CONV]), "invalid_field", "r"),
    "after_seq_string": (
        {"type": "subscribe", "conversation_id": CONV, "after_seq": "3", "ref": "r"},
        "invalid_field",
        "r",
    ),
    "after_seq_float": (
        {"type": "subscribe", "conversation_id": CONV, "after_seq": 1.5, "ref": "r"},
        "invalid_field",
        "r",
    ),
    "after_seq_bool": (
        {"type": "subscribe", "conversation_id": CONV, "after_seq": True, "ref": "r"},
        "invalid_field",
        "r",
    ),
    "after_seq_negative": (
        {"type": "subscribe", "conversation_id": CONV, "after_seq": -1, "ref": "r"},
        "invalid_field",
        "r",
    ),
    "after_seq_huge": (
        {"type": "subscribe", "conversation_id": CONV, "after_seq": 2**64, "ref": "r"},
        "invalid_field",
        "r",
    ),
    "text_int": (send(text=42), "invalid_field", "r"),
    "text_null": (send(text=None), "invalid_field", "r"),
    "client_msg_id_space": (send(client_msg_id="a b"), "invalid_field", "r"),
    "client_msg_id_nul": (send(client_msg_id="a\x00"), "invalid_field", "r"),
    "client_msg_id_too_long": (send(client_msg_id="a" * 65), "invalid_field", "r"),
    "typing_state": (
        {"type": "typing", "conversation_id": CONV, "state": "maybe", "ref": "r"},
        "invalid_field",
        "r",
    ),
    "read_seq_string": (
        {"type": "read", "conversation_id": CONV, "seq": "1", "ref": "r"},
        "invalid_field",
        "r",
    ),
    "ref_int": ({"type": "ping", "ref": 42}, "invalid_field", None),
    "ref_too_long": ({"type": "ping", "ref": "x" * 65}, "invalid_field", "x" * 64),
    # Extra fields.
    "extra_field": ({"type": "ping", "ref": "r", "debug": True}, "invalid_field", "r"),
    "sender_spoofing": (send(sender_id=SELLER), "invalid_field", "r"),
    "seq_on_send": (send(seq=7), "invalid_field", "r"),
    "tenant_on_subscribe": (
        {"type": "subscribe", "conversation_id": CONV, "tenant": "t_0", "ref": "r"},
        "invalid_field",
        "r",
    ),
    # Operator objects where strings or integers belong.
    "conv_id_ne": (send(conversation_id={"$ne": None}), "invalid_field", "r"),
    "conv_id_gt": (
        {"type": "subscribe", "conversation_id": {"$gt": ""}, "ref": "r"},
        "invalid_field",
        "r",
    ),
    "after_seq_gt": (
        {"type": "subscribe", "conversation_id": CONV, "after_seq": {"$gt": 0}, "ref": "r"},
        "invalid_field",
        "r",
    ),
    "client_msg_id_operator": (send(client_msg_id={"$gt": ""}), "invalid_field", "r"),
    "text_regex": (send(text={"$regex": "."}), "invalid_field", "r"),
    "edit_seq_operator": (
        {
            "type": "edit",
            "conversation_id": CONV,
            "client_msg_id": "e",
            "seq": {"$gte": 0},
            "text": "x",
            "ref": "r",
        },
        "invalid_field",
        "r",
    ),
    "delete_seq_operator": (
        {
            "type": "delete",
            "conversation_id": CONV,
            "client_msg_id": "d",
            "seq": {"$in": [1]},
            "ref": "r",
        },
        "invalid_field",
        "r",
    ),
    "read_seq_operator": (
        {"type": "read", "conversation_id": CONV, "seq": {"$gt": 0}, "ref": "r"},
        "invalid_field",
        "r",
    ),
    # Text content rules (the service's, after the frame parsed).
    "empty_text": (send(text=""), "invalid_field", "r"),
    "blank_text": (send(text=" \n\t "), "invalid_text", "r"),
    "nul_in_text": (send(text="hello\x00world"), "invalid_text", "r"),
    "text_over_max_chars": (send(text="x" * 4001), "message_too_long", "r"),
    "edit_text_over_max_chars": (
        {
            "type": "edit",
            "conversation_id": CONV,
            "client_msg_id": "e",
            "seq": 1,
            "text": "x" * 4001,
            "ref": "r",
        },
        "message_too_long",
        "r",
    ),
}


def render(frame: str | dict[str, Any], conv: str) -> str:
    raw = frame if isinstance(frame, str) else json.dumps(frame)
    return raw.replace(CONV, conv)


async def setup(hub: Hub) -> tuple[str, WsClient, WsClient, int]:
    """A conversation with one message; the buyer misbehaves, the seller watches."""
    conv = await hub.conversation()
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await hub.services.conversations.send(
        hub.tenant.server, conv, client_msg_id="first", text="first", as_user=BUYER
    )
    await subscribe(seller, conv, after_seq=1)
    await subscribe(buyer, conv, after_seq=1)
    await barrier(hub, conv, seller, buyer)  # past the presence announcements
    return conv, buyer, seller, await hub.message_count()


async def unaffected(hub: Hub, conv: str, buyer: WsClient, seller: WsClient, stored: int) -> None:
    await assert_alive(buyer)
    await assert_alive(seller)
    assert await hub.message_count() == stored
    assert await barrier(hub, conv, seller, buyer) == [[], []]


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_frame_is_rejected_with_a_stable_code(hub: Hub, case: str) -> None:
    frame, code, ref = CASES[case]
    conv, buyer, seller, stored = await setup(hub)
    await buyer.send_raw(render(frame, conv))
    error = await error_of(buyer)
    assert error["code"] == code, error
    assert error.get("ref") == ref
    assert isinstance(error["detail"], str)
    await unaffected(hub, conv, buyer, seller, stored)
    page = await hub.services.conversations.history(hub.tenant.server, conv)
    assert [(m.seq, m.text) for m in page.messages] == [(1, "first")]


async def test_binary_frame_is_refused(hub: Hub) -> None:
    conv, buyer, seller, stored = await setup(hub)
    frame = {"type": "send", "conversation_id": conv, "client_msg_id": "b", "text": "hi"}
    await buyer.send_raw(json.dumps(frame).encode())
    assert (await error_of(buyer))["code"] == "binary_not_supported"
    await unaffected(hub, conv, buyer, seller, stored)


def padded_send(conv: str, size: int, char: str = "x") -> str:
    """A send frame of ``size`` UTF-8 bytes (rounded up to a whole ``char``)."""
    head = json.dumps({"type": "send", "conversation_id": conv, "client_msg_id": "big", "text": ""})
    width = len(char.encode())
    filler = -(-(size - len(head.encode())) // width)
    raw = head[:-3] + json.dumps(char * filler, ensure_ascii=False) + "}"
    assert size <= len(raw.encode()) < size + width
    return raw


async def test_frame_at_the_limit_is_parsed(hub: Hub) -> None:
    conv, buyer, seller, stored = await setup(hub)
    await buyer.send_raw(padded_send(conv, LIMIT))
    # Parsed and handed to the service, which refuses the long text.
    assert (await error_of(buyer))["code"] == "message_too_long"
    await unaffected(hub, conv, buyer, seller, stored)


async def test_frame_just_over_the_limit_is_refused_and_socket_stays(hub: Hub) -> None:
    conv, buyer, seller, stored = await setup(hub)
    await buyer.send_raw(padded_send(conv, LIMIT + 1))
    assert (await error_of(buyer))["code"] == "frame_too_large"
    await unaffected(hub, conv, buyer, seller, stored)


async def test_limit_counts_utf8_bytes_not_characters(hub: Hub) -> None:
    conv, buyer, seller, stored = await setup(hub)
    raw = padded_send(conv, LIMIT + 2, char="é")  # fewer characters than bytes
    assert len(raw) <= LIMIT
    await buyer.send_raw(raw)
    assert (await error_of(buyer))["code"] == "frame_too_large"
    await unaffected(hub, conv, buyer, seller, stored)


async def test_frame_far_over_the_limit_closes_with_1009(hub: Hub) -> None:
    conv, buyer, seller, stored = await setup(hub)
    await buyer.send_raw(padded_send(conv, LIMIT * 5))
    code, frames = await close_of(buyer)
    assert code == 1009
    assert [f for f in frames if f["type"] != "presence"] == []
    await hub.until(lambda: hub.services.rooms.connection_count == 1)
    away = await seller.expect("presence", user_id=BUYER, status="away")
    assert away["conversation_id"] == conv
    await assert_alive(seller)
    assert await hub.message_count() == stored
