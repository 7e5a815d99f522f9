"""Listing conversations and reading one: participants only, "not found" alike."""

from __future__ import annotations

from tests.api.conftest import BUYER, SELLER, Api, assert_problem
from tests.fixtures.app import create_tenant


async def test_list_shows_the_callers_conversations_with_unread_counts_and_preview(
    api: Api,
) -> None:
    chairs = await api.open_order("1", (BUYER, "buyer"), (SELLER, "seller"))
    table = await api.open_order("2", (BUYER, "buyer"), ("seller-2", "seller"))
    elsewhere = await api.open_order("3", ("buyer-9", "buyer"), (SELLER, "seller"))
    await api.post_as_server(chairs, "chairs ship monday", client_msg_id="s1", sender_id=SELLER)
    await api.post_as_server(chairs, "tracking added", client_msg_id="s2", sender_id=SELLER)
    buyer = api.user(BUYER)
    sent = await buyer.post(
        f"/v1/conversations/{table}/messages", json={"client_msg_id": "b1", "text": "is it oak?"}
    )
    assert sent.status_code == 201, sent.text

    response = await buyer.get("/v1/conversations")
    assert response.status_code == 200, response.text
    listed = {c["id"]: c for c in response.json()}
    assert set(listed) == {chairs, table}  # not "elsewhere": the buyer is not in it
    assert listed[chairs]["unread_count"] == 2
    assert listed[chairs]["last_message"]["text"] == "tracking added"
    assert listed[chairs]["last_message"]["sender_id"] == SELLER
    # The buyer's own message is the preview but is not unread for the buyer.
    assert listed[table]["unread_count"] == 0
    assert listed[table]["last_message"]["text"] == "is it oak?"

    seller2 = await api.user("seller-2", "seller").get("/v1/conversations")
    (only,) = seller2.json()
    assert only["id"] == table
    assert only["unread_count"] == 1

    seller = await api.user(SELLER, "seller").get("/v1/conversations")
    by_id = {c["id"]: c for c in seller.json()}
    assert set(by_id) == {chairs, elsewhere}
    assert by_id[chairs]["unread_count"] == 0

    limited = await buyer.get("/v1/conversations", params={"limit": 1})
    assert len(limited.json()) == 1
    assert_problem(
        await buyer.get("/v1/conversations", params={"limit": 0}), 422, "invalid_request"
    )
    assert_problem(
        await buyer.get("/v1/conversations", params={"limit": 201}), 422, "invalid_request"
    )


async def test_a_conversation_without_messages_has_no_preview(api: Api) -> None:
    conv_id = await api.open_order()
    (summary,) = (await api.user(BUYER).get("/v1/conversations")).json()
    assert summary["id"] == conv_id
    assert summary["unread_count"] == 0
    assert summary["last_message"] is None


async def test_detail_for_participants_and_the_tenants_backend(api: Api) -> None:
    conv_id = await api.open_order()
    await api.post_as_server(conv_id, "hello", client_msg_id="s1", sender_id=SELLER)
    read = await api.user(BUYER).post(f"/v1/conversations/{conv_id}/read", json={"seq": 1})
    assert read.json() == {"read_seq": 1}
    for client in (api.user(BUYER), api.user(SELLER, "seller"), api.server):
        response = await client.get(f"/v1/conversations/{conv_id}")
        assert response.status_code == 200, response.text
        detail = response.json()
        assert detail["id"] == conv_id
        assert detail["title"] == "Order #1042"
        assert detail["last_seq"] == 1
        assert detail["last_message_at"] is not None
        marks = {p["user_id"]: p["last_read_seq"] for p in detail["participants"]}
        assert marks == {BUYER: 1, SELLER: 0}


async def test_not_participant_nonexistent_and_other_tenant_ids_look_the_same(api: Api) -> None:
    mine = await api.open_order("1")
    other = await create_tenant(api.live.services, "Other shop")
    other_server = api.client(other.creds.server_key)
    created = await other_server.post(
        "/v1/conversations",
        json={
            "subject_type": "order",
            "subject_id": "1",
            "participants": [{"user_id": BUYER, "role": "buyer", "display_name": "B"}],
        },
    )
    theirs = created.json()["id"]
    nonexistent = "c_" + "0" * 24
    outsider = api.user("buyer-9")
    buyer = api.user(BUYER)

    answers = [
        await outsider.get(f"/v1/conversations/{mine}"),
        await outsider.get(f"/v1/conversations/{mine}/messages"),
        await buyer.get(f"/v1/conversations/{nonexistent}"),
        await buyer.get(f"/v1/conversations/{theirs}"),
        await buyer.get(f"/v1/conversations/{theirs}/messages"),
        await api.server.get(f"/v1/conversations/{theirs}"),
        await api.server.get(f"/v1/conversations/{nonexistent}"),
    ]
    bodies = [assert_problem(r, 404, "not_found") for r in answers]
    # Same status, code and words: nothing tells "exists elsewhere" from "never existed".
    assert len({(b["title"], b["detail"]) for b in bodies}) == 1
    assert len({r.headers["content-type"] for r in answers}) == 1
