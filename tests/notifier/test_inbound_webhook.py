"""The provider webhook: signed raw RFC 822 in, problem details on errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from chat_service.services import Services
from notifier.inbound.webhook import create_webhook_app, sign
from tests.notifier.conftest import Chat
from tests.notifier.inbound_corpus import GMAIL, REPLY
from tests.notifier.inbound_kit import Inbound, reply_email, running_inbound

SECRET = "s" * 40


@pytest.fixture
async def inbound(services: Services) -> AsyncIterator[Inbound]:
    async with running_inbound(services) as running:
        yield running


@pytest.fixture
async def client(inbound: Inbound) -> AsyncIterator[httpx.AsyncClient]:
    app = create_webhook_app(inbound.replies, secret=SECRET, max_bytes=64 * 1024)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbound.test") as http:
        yield http


def signed(recipient: str, body: bytes, *, secret: str = SECRET, skew: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) + skew)
    return {
        "X-Envelope-Recipient": recipient,
        "X-Inbound-Timestamp": timestamp,
        "X-Inbound-Signature": sign(secret, timestamp, recipient, body),
        "Content-Type": "message/rfc822",
    }


async def test_a_signed_reply_is_posted(
    client: httpx.AsyncClient, inbound: Inbound, chat: Chat
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    body = reply_email(GMAIL).as_bytes()
    response = await client.post("/v1/inbound/email", content=body, headers=signed(to, body))
    assert response.status_code == 200
    assert response.json() == {"status": "posted", "reason": "posted"}
    again = await client.post("/v1/inbound/email", content=body, headers=signed(to, body))
    assert again.json()["status"] == "duplicate"
    page = await chat.services.conversations.history(chat.tenant.server, chat.conv_id)
    assert [(m.sender_id, m.text) for m in page.messages] == [("seller-1", REPLY)]


@pytest.mark.parametrize("attack", ["wrong_secret", "no_signature", "stale", "other_recipient"])
async def test_unauthenticated_calls_are_refused(
    client: httpx.AsyncClient, inbound: Inbound, chat: Chat, attack: str
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    body = reply_email(REPLY).as_bytes()
    headers = {
        "wrong_secret": signed(to, body, secret="x" * 40),
        "no_signature": {"X-Envelope-Recipient": to},
        "stale": signed(to, body, skew=-3600),
        "other_recipient": {**signed("reply+x@reply.shop.test", body), "X-Envelope-Recipient": to},
    }[attack]
    response = await client.post("/v1/inbound/email", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"
    page = await chat.services.conversations.history(chat.tenant.server, chat.conv_id)
    assert page.messages == []


async def test_oversize_bodies_are_refused_unread(
    client: httpx.AsyncClient, inbound: Inbound, chat: Chat
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    body = b"x" * (64 * 1024 + 1)
    response = await client.post("/v1/inbound/email", content=body, headers=signed(to, body))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_a_refused_email_gets_problem_details(
    client: httpx.AsyncClient, inbound: Inbound, chat: Chat
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    body = reply_email(REPLY, sender="Mallory <m@evil.test>").as_bytes()
    response = await client.post("/v1/inbound/email", content=body, headers=signed(to, body))
    assert response.status_code == 422
    assert response.json()["code"] == "sender_mismatch"
    bad = "reply+" + "a" * 42 + "@reply.shop.test"
    response = await client.post("/v1/inbound/email", content=body, headers=signed(bad, body))
    assert (response.status_code, response.json()["code"]) == (422, "token_invalid")


async def test_a_missing_recipient_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/inbound/email", content=b"x")
    assert response.status_code == 400
