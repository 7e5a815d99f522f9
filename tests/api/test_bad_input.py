"""Bad input on every write: a stable problem+json ``code``, and nothing stored
changes. Operator objects (``{"$ne": null}``) never reach a query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.api.conftest import BUYER, SELLER, Api, assert_problem, order_body, snapshot

MALFORMED_JSON = [b'{"subject_type": "order",', b"{'a': 1}", b"\xff\xfe", b"null", b"[]", b'"x"']
ODD_IDS = [
    "c_$ne",
    "c_%24ne",
    "%7B%22%24ne%22%3Anull%7D",  # {"$ne":null}
    "..%2Fx",
    "..",
    "c_%00",
    "c_" + "a" * 5000,
    "C_0123456789ABCDEF01234567",
    "c_0123456789abcdef01234567%20",
    "c_0123456789abcdef01234567%0a",
    "*",
    "%2A",
]


async def _seeded(api: Api) -> str:
    """A conversation with one message and one read mark to be left alone."""
    conv_id = await api.open_order()
    await api.post_as_server(conv_id, "hello", client_msg_id="s1", sender_id=SELLER)
    read = await api.user(BUYER).post(f"/v1/conversations/{conv_id}/read", json={"seq": 1})
    assert read.status_code == 200
    return conv_id


async def _raw(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    return await client.post(url, content=content, headers={"Content-Type": "application/json"})


async def test_open_conversation_refuses_bad_bodies(api: Api) -> None:
    await _seeded(api)
    before = await snapshot(api.db)
    url = "/v1/conversations"
    good = order_body("9")
    one = good["participants"][0]
    invalid: dict[str, Any] = {
        "subject_id operator": {**good, "subject_id": {"$ne": None}},
        "subject_id number": {**good, "subject_id": 9},
        "subject_id odd chars": {**good, "subject_id": "9;$where"},
        "subject_id empty": {**good, "subject_id": ""},
        "subject_type unknown": {**good, "subject_type": "invoice"},
        "subject_type operator": {**good, "subject_type": {"$in": ["order"]}},
        "title object": {**good, "title": {"$set": "x"}},
        "title too long": {**good, "title": "t" * 201},
        "participants string": {**good, "participants": "buyer-1"},
        "participants empty": {**good, "participants": []},
        "participant user_id operator": {
            **good,
            "participants": [{**one, "user_id": {"$gt": ""}}],
        },
        "participant role unknown": {**good, "participants": [{**one, "role": "admin"}]},
        "participant extra field": {**good, "participants": [{**one, "tenant": "t_x"}]},
        "participant email with CRLF": {
            **good,
            "participants": [{**one, "email": "a@b.example\r\nBcc: x@y.example"}],
        },
        "extra field": {**good, "tenant": "t_0000000000000000"},
        "operator key": {**good, "$where": "1"},
        "missing field": {k: v for k, v in good.items() if k != "subject_type"},
    }
    for label, body in invalid.items():
        assert_problem(await api.server.post(url, json=body), 422, "invalid_request", label)
    for content in MALFORMED_JSON:
        assert_problem(await _raw(api.server, url, content), 422, "invalid_request")
    twice = order_body("9", (BUYER, "buyer"), (SELLER, "seller"), (BUYER, "staff"))
    body = assert_problem(await api.server.post(url, json=twice), 400, "invalid_request")
    assert "twice" in body["detail"]
    assert await snapshot(api.db) == before


async def test_send_refuses_bad_bodies(api: Api) -> None:
    conv_id = await _seeded(api)
    before = await snapshot(api.db)
    url = f"/v1/conversations/{conv_id}/messages"
    max_chars = api.tenant.settings.max_message_chars
    good = {"client_msg_id": "m2", "text": "hi"}
    invalid: dict[str, Any] = {
        "text operator": {**good, "text": {"$gt": ""}},
        "text number": {**good, "text": 5},
        "text list": {**good, "text": ["hi"]},
        "text null": {**good, "text": None},
        "text empty": {**good, "text": ""},
        "client_msg_id operator": {**good, "client_msg_id": {"$ne": None}},
        "client_msg_id odd chars": {**good, "client_msg_id": "a|b"},
        "client_msg_id too long": {**good, "client_msg_id": "a" * 65},
        "sender_id operator": {**good, "sender_id": {"$ne": None}},
        "extra seq": {**good, "seq": 1},
        "extra kind": {**good, "kind": "system"},
        "missing text": {"client_msg_id": "m2"},
    }
    for client in (api.server, api.user(BUYER)):
        for label, body in invalid.items():
            assert_problem(await client.post(url, json=body), 422, "invalid_request", label)
        for content in MALFORMED_JSON:
            assert_problem(await _raw(client, url, content), 422, "invalid_request")
        for text in ("x" * (max_chars + 1), "y" * 100_001):
            too_long = await client.post(url, json={**good, "text": text})
            assert_problem(too_long, 400, "message_too_long")
        for text in ("   \n\t ", "nul\x00byte"):
            assert_problem(await client.post(url, json={**good, "text": text}), 400, "invalid_text")
    assert await snapshot(api.db) == before

    at_limit = await api.user(BUYER).post(url, json={**good, "text": "z" * max_chars})
    assert at_limit.status_code == 201, at_limit.text


async def test_mark_read_refuses_bad_seqs(api: Api) -> None:
    conv_id = await _seeded(api)
    before = await snapshot(api.db)
    buyer = api.user(BUYER)
    url = f"/v1/conversations/{conv_id}/read"
    for body in (
        {"seq": -1},
        {"seq": "1"},
        {"seq": 1.5},
        {"seq": True},
        {"seq": None},
        {"seq": {"$gt": 0}},
        {"seq": [1]},
        {"seq": 1, "user_id": SELLER},
        {},
    ):
        assert_problem(await buyer.post(url, json=body), 422, "invalid_request", body)
    for content in MALFORMED_JSON:
        assert_problem(await _raw(buyer, url, content), 422, "invalid_request")
    assert await snapshot(api.db) == before


async def test_ids_with_odd_characters_are_simply_not_found(api: Api) -> None:
    await _seeded(api)
    before = await snapshot(api.db)
    buyer = api.user(BUYER)
    for odd in ODD_IDS:
        base = f"/v1/conversations/{odd}"
        for response in (
            await buyer.get(base),
            await api.server.get(base),
            await buyer.get(f"{base}/messages"),
            await buyer.post(f"{base}/messages", json={"client_msg_id": "m9", "text": "x"}),
            await api.server.post(f"{base}/messages", json={"client_msg_id": "m9", "text": "x"}),
            await buyer.post(f"{base}/read", json={"seq": 1}),
        ):
            assert_problem(response, 404, "not_found", response.request.url)
    assert await snapshot(api.db) == before


async def test_oversize_bodies_are_refused_while_streaming(api: Api) -> None:
    conv_id = await _seeded(api)
    before = await snapshot(api.db)
    limit = api.live.services.settings.http_max_body_bytes
    body = b'{"client_msg_id": "big", "text": "' + b"x" * (limit + 10) + b'"}'
    url = f"/v1/conversations/{conv_id}/messages"
    assert_problem(await _raw(api.server, url, body), 413, "body_too_large")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    streamed = await api.server.post(
        url, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.headers.get("content-length") is not None
    assert_problem(streamed, 413, "body_too_large")
    assert await snapshot(api.db) == before
