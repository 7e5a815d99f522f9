"""Helpers for the WebSocket tests: a hub kit that opens authenticated clients
(and closes them afterwards), forged tokens, and close-code assertions."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from websockets.exceptions import ConnectionClosed

from chat_service.auth.principals import Role
from chat_service.services import Services
from tests.fixtures.app import ORIGIN, LiveServer, TenantKit, order_conversation
from tests.fixtures.ws import WsClient

BUYER = "buyer-1"
SELLER = "seller-1"


def rejected(hub: Hub, reason: str) -> float:
    """Handshakes the server refused so far, for one reason (a process-wide counter)."""
    value = hub.services.metrics.registry.get_sample_value(
        "chat_ws_handshakes_rejected_total", {"reason": reason}
    )
    return value or 0.0


def role_of(user_id: str) -> Role:
    return "seller" if user_id.startswith("seller") else "buyer"


@dataclass
class Hub:
    """A live server, one tenant of it, and the clients a test opened."""

    live: LiveServer
    tenant: TenantKit
    clients: list[WsClient] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.live.services

    async def open(self, *, origin: str | None = ORIGIN, tenant_id: str | None = None) -> WsClient:
        """A socket past the handshake, not yet authenticated."""
        client = await WsClient.open(self.live.ws_url, tenant_id or self.tenant.id, origin=origin)
        self.clients.append(client)
        return client

    async def connect(self, user_id: str = BUYER, *, token: str | None = None) -> WsClient:
        client = await self.open()
        await client.send(
            {"type": "auth", "token": token or self.tenant.token(user_id, role_of(user_id))}
        )
        ready = await client.expect("ready")
        assert ready["user_id"] == user_id
        return client

    async def conversation(self, order_id: str = "1042", *users: str) -> str:
        people = tuple((u, role_of(u)) for u in users) or ((BUYER, "buyer"), (SELLER, "seller"))
        conv, _ = await self.services.conversations.open_conversation(
            self.tenant.server, order_conversation(order_id, *people)
        )
        return conv.id

    async def message_count(self) -> int:
        """Messages stored for this test's tenant."""
        return await self.services.stores.db["messages"].count_documents({"tenant": self.tenant.id})

    async def until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait for the server to catch up with something the client already saw."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            assert loop.time() < deadline, "the server did not get there in time"
            await asyncio.sleep(0.01)

    async def aclose(self) -> None:
        """Close this test's sockets and wait until the server let go of them, so
        the next test on the shared server starts with no connections."""
        for client in self.clients:
            await client.close()
        await self.until(lambda: self.services.rooms.connection_count == 0)


StartHub = Callable[..., Awaitable[Hub]]


async def subscribe(client: WsClient, conv_id: str, after_seq: int = 0) -> dict[str, Any]:
    await client.send({"type": "subscribe", "conversation_id": conv_id, "after_seq": after_seq})
    return await client.expect("subscribed", conversation_id=conv_id)


def edit_frame(conv_id: str, seq: int, text: str, client_msg_id: str) -> dict[str, Any]:
    return {
        "type": "edit",
        "conversation_id": conv_id,
        "client_msg_id": client_msg_id,
        "seq": seq,
        "text": text,
        "ref": client_msg_id,
    }


def delete_frame(conv_id: str, seq: int, client_msg_id: str) -> dict[str, Any]:
    return {
        "type": "delete",
        "conversation_id": conv_id,
        "client_msg_id": client_msg_id,
        "seq": seq,
        "ref": client_msg_id,
    }


async def send_text(
    client: WsClient, conv_id: str, text: str, client_msg_id: str
) -> dict[str, Any]:
    """Send one message and return its ack."""
    await client.send(
        {
            "type": "send",
            "conversation_id": conv_id,
            "client_msg_id": client_msg_id,
            "text": text,
            "ref": client_msg_id,
        }
    )
    return await client.expect("ack", ref=client_msg_id)


async def barrier(hub: Hub, conv_id: str, *clients: WsClient) -> list[list[dict[str, Any]]]:
    """Everything each subscribed client receives before a marker published now.

    Every publish a frame causes happens before the frame is answered, and the
    channel keeps order, so once a client has its answer this is a
    deterministic "nothing else arrived" check, without waiting for silence.
    """
    marker = {"type": "test_barrier", "id": secrets.token_hex(6)}
    await hub.services.rooms.publish(hub.tenant.id, conv_id, marker)
    seen = []
    for client in clients:
        frames = []
        while (frame := await client.recv()) != marker:
            frames.append(frame)
        seen.append(frames)
    return seen


async def error_of(client: WsClient, ref: str | None = None) -> dict[str, Any]:
    """The next frame, which must be an error (answering ``ref`` if given)."""
    frame = await client.recv()
    assert frame["type"] == "error", frame
    if ref is not None:
        assert frame.get("ref") == ref, frame
    return frame


async def assert_alive(client: WsClient) -> None:
    await client.send({"type": "ping", "ref": "alive?"})
    pong = await client.expect("pong")
    assert pong["ref"] == "alive?"


async def close_of(
    client: WsClient, timeout: float = 5.0
) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the server closes; returns the close code and the frames before it."""
    frames = list(client.backlog)
    client.backlog.clear()
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(client.conn.recv(), timeout)))
    except ConnectionClosed:
        pass
    return client.conn.close_code, frames


async def refused_with(client: WsClient, code: str) -> None:
    """The server answers with error ``code`` and closes with 1008 (policy)."""
    close_code, frames = await close_of(client)
    assert [f["type"] for f in frames] == ["error"], frames
    assert frames[0]["code"] == code, frames
    assert close_code == 1008
    assert client.conn.close_reason == code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def unsigned_token(claims: dict[str, Any], alg: str = "none") -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def resigned_token(claims: dict[str, Any], secret: str, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


def swap_payload(token: str, claims: dict[str, Any]) -> str:
    """Keep header and signature, replace the claims: a forged token."""
    header, _, signature = token.split(".")
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
