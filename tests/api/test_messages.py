"""Message history paging, sending (as the system, a participant, a user),
idempotent resends and read marks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from chat_service.config import Settings
from chat_service.services import Services
from tests.api.conftest import BUYER, SELLER, Api, assert_problem
from tests.fixtures.app import drop_database, make_settings
from tests.fixtures.servers import RealServers

PAGE_MAX = 5


@pytest.fixture
async def settings(real_servers: RealServers) -> AsyncIterator[Settings]:
    """A small page maximum, so the clamp is visible with a dozen messages."""
    settings = make_settings(real_servers, history_page_max=PAGE_MAX)
    yield settings
    await drop_database(settings)


async def _history(api: Api, conv_id: str, **params: int) -> tuple[list[int], bool]:
    response = await api.user(BUYER).get(f"/v1/conversations/{conv_id}/messages", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    return [m["seq"] for m in page["messages"]], page["has_more"]


async def test_history_pages_forwards_and_backwards_by_seq(api: Api) -> None:
    conv_id = await api.open_order()
    for n in range(1, 13):
        await api.post_as_server(conv_id, f"message {n}", client_msg_id=f"m{n}", sender_id=SELLER)

    assert await _history(api, conv_id, after_seq=0, limit=5) == ([1, 2, 3, 4, 5], True)
    assert await _history(api, conv_id, after_seq=5, limit=5) == ([6, 7, 8, 9, 10], True)
    assert await _history(api, conv_id, after_seq=10, limit=5) == ([11, 12], False)
    assert await _history(api, conv_id, after_seq=12) == ([], False)

    assert await _history(api, conv_id, before_seq=13, limit=5) == ([8, 9, 10, 11, 12], True)
    assert await _history(api, conv_id, before_seq=8, limit=5) == ([3, 4, 5, 6, 7], True)
    assert await _history(api, conv_id, before_seq=3, limit=5) == ([1, 2], False)
    assert await _history(api, conv_id, before_seq=1) == ([], False)

    # No cursor: from the start. A limit above the page maximum is clamped to it.
    assert await _history(api, conv_id) == ([1, 2, 3, 4, 5], True)
    assert await _history(api, conv_id, after_seq=2, limit=1000) == ([3, 4, 5, 6, 7], True)
    assert await _history(api, conv_id, after_seq=3, limit=2) == ([4, 5], True)

    response = await api.server.get(f"/v1/conversations/{conv_id}/messages", params={"limit": 2})
    texts = [m["text"] for m in response.json()["messages"]]
    assert texts == ["message 1", "message 2"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"after_seq": 1, "before_seq": 5}, 400, "invalid_request"),
        ({"limit": 0}, 422, "invalid_request"),
        ({"limit": 1001}, 422, "invalid_request"),
        ({"after_seq": -1}, 422, "invalid_request"),
        ({"before_seq": 0}, 422, "invalid_request"),
        ({"after_seq": "1; drop"}, 422, "invalid_request"),
        ({"before_seq": "[$gt]"}, 422, "invalid_request"),
    ],
)
async def test_history_refuses_bad_cursors(
    api: Api, params: dict[str, Any], status: int, code: str
) -> None:
    conv_id = await api.open_order()
    response = await api.user(BUYER).get(f"/v1/conversations/{conv_id}/messages", params=params)
    assert_problem(response, status, code)


async def test_the_backend_sends_system_messages_and_as_participants(api: Api) -> None:
    conv_id = await api.open_order()
    system = await api.post_as_server(conv_id, "Order shipped", client_msg_id="ship-1")
    assert (system["seq"], system["kind"], system["sender_id"]) == (1, "system", "system")
    assert system["text"] == "Order shipped"
    as_seller = await api.post_as_server(
        conv_id, "On its way", client_msg_id="s-1", sender_id=SELLER
    )
    assert (as_seller["seq"], as_seller["kind"], as_seller["sender_id"]) == (2, "text", SELLER)

    response = await api.server.post(
        f"/v1/conversations/{conv_id}/messages",
        json={"client_msg_id": "x-1", "text": "hi", "sender_id": "buyer-9"},
    )
    assert_problem(response, 400, "invalid_request")
    assert await api.db["messages"].count_documents({}) == 2

    seqs, _ = await _history(api, conv_id)
    assert seqs == [1, 2]


async def test_users_send_as_themselves_and_cannot_set_sender_id(api: Api) -> None:
    conv_id = await api.open_order()
    buyer = api.user(BUYER)
    url = f"/v1/conversations/{conv_id}/messages"
    for sender in (SELLER, BUYER, "system"):
        response = await buyer.post(
            url, json={"client_msg_id": "b1", "text": "x", "sender_id": sender}
        )
        assert_problem(response, 400, "invalid_request")
    assert await api.db["messages"].count_documents({}) == 0

    sent = await buyer.post(url, json={"client_msg_id": "b1", "text": "hello"})
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert (message["seq"], message["kind"], message["sender_id"]) == (1, "text", BUYER)
    assert message["conversation_id"] == conv_id
    assert message["client_msg_id"] == "b1"

    outsider = api.user("buyer-9")
    response = await outsider.post(url, json={"client_msg_id": "o1", "text": "let me in"})
    assert_problem(response, 404, "not_found")
    assert await api.db["messages"].count_documents({}) == 1


async def test_a_resend_with_the_same_client_msg_id_stores_nothing_new(
    api: Api, services: Services
) -> None:
    conv_id = await api.open_order()
    url = f"/v1/conversations/{conv_id}/messages"
    buyer = api.user(BUYER)
    first = await buyer.post(url, json={"client_msg_id": "dup-1", "text": "only once"})
    assert first.status_code == 201, first.text
    stored = await services.stores.db["messages"].find({}).to_list(None)

    for text in ("only once", "changed my mind"):
        again = await buyer.post(url, json={"client_msg_id": "dup-1", "text": text})
        assert again.status_code == 200, again.text
        assert again.json()["seq"] == first.json()["seq"]
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["text"] == "only once"
    assert await services.stores.db["messages"].find({}).to_list(None) == stored

    server_first = await api.post_as_server(conv_id, "shipped", client_msg_id="ship-1")
    server_again = await api.server.post(url, json={"client_msg_id": "ship-1", "text": "shipped"})
    assert server_again.status_code == 200
    assert server_again.json()["seq"] == server_first["seq"] == 2

    # The id is the sender's own: the same id from someone else is another message.
    seller = await api.user(SELLER, "seller").post(
        url, json={"client_msg_id": "dup-1", "text": "mine"}
    )
    assert seller.status_code == 201
    assert seller.json()["seq"] == 3
    assert await services.stores.db["messages"].count_documents({}) == 3
    detail = await api.server.get(f"/v1/conversations/{conv_id}")
    assert detail.json()["last_seq"] == 3


async def _unread(api: Api, conv_id: str) -> int:
    listed = await api.user(BUYER).get("/v1/conversations")
    (summary,) = [c for c in listed.json() if c["id"] == conv_id]
    count: int = summary["unread_count"]
    return count


async def test_mark_read_clamps_to_the_last_seq_and_never_goes_back(api: Api) -> None:
    conv_id = await api.open_order()
    for n in range(1, 4):
        await api.post_as_server(conv_id, f"m{n}", client_msg_id=f"m{n}", sender_id=SELLER)
    buyer = api.user(BUYER)
    url = f"/v1/conversations/{conv_id}/read"
    assert await _unread(api, conv_id) == 3

    response = await buyer.post(url, json={"seq": 2})
    assert response.status_code == 200, response.text
    assert response.json() == {"read_seq": 2}
    assert await _unread(api, conv_id) == 1

    assert (await buyer.post(url, json={"seq": 999})).json() == {"read_seq": 3}
    assert await _unread(api, conv_id) == 0
    assert (await buyer.post(url, json={"seq": 1})).json() == {"read_seq": 3}

    detail = (await buyer.get(f"/v1/conversations/{conv_id}")).json()
    marks = {p["user_id"]: p["last_read_seq"] for p in detail["participants"]}
    assert marks == {BUYER: 3, SELLER: 0}

    await api.post_as_server(conv_id, "m4", client_msg_id="m4", sender_id=SELLER)
    assert await _unread(api, conv_id) == 1

    outsider = api.user("buyer-9")
    assert_problem(await outsider.post(url, json={"seq": 1}), 404, "not_found")
    assert await api.db["reads"].count_documents({"user": "buyer-9"}) == 0
