"""Fixtures of the REST API tests: a live server, a tenant, HTTP clients acting
as the marketplace backend (server key) or as one of its users (JWT)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from chat_service.auth.principals import Role
from tests.fixtures.app import LiveServer, TenantKit

PROBLEM_JSON = "application/problem+json"
BUYER, SELLER = "buyer-1", "seller-1"


def participant(user_id: str, role: Role) -> dict[str, Any]:
    return {"user_id": user_id, "role": role, "display_name": user_id.title()}


def order_body(order_id: str = "1042", *people: tuple[str, Role]) -> dict[str, Any]:
    people = people or ((BUYER, "buyer"), (SELLER, "seller"))
    return {
        "subject_type": "order",
        "subject_id": order_id,
        "title": f"Order #{order_id}",
        "participants": [participant(u, r) for u, r in people],
    }


def assert_problem(
    response: httpx.Response, status: int, code: str, context: object = ""
) -> dict[str, Any]:
    """``response`` is RFC 9457 problem details with this status and stable code."""
    assert response.status_code == status, (context, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, (context, body)
    assert body["type"] == f"urn:chat:error:{code}"
    assert body["detail"]
    return body


async def snapshot(db: AsyncDatabase[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection, to prove a request changed nothing."""
    names = sorted(await db.list_collection_names())
    return {name: await db[name].find({}).sort("_id", 1).to_list(None) for name in names}


@dataclass
class Api:
    live: LiveServer
    tenant: TenantKit
    server: httpx.AsyncClient
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        return self.live.services.stores.db

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        client = self.live.http(token)
        self._clients.append(client)
        return client

    def user(self, user_id: str, role: Role = "buyer") -> httpx.AsyncClient:
        return self.client(self.tenant.token(user_id, role))

    async def open_order(self, order_id: str = "1042", *people: tuple[str, Role]) -> str:
        response = await self.server.post("/v1/conversations", json=order_body(order_id, *people))
        assert response.status_code in (200, 201), response.text
        conv_id: str = response.json()["id"]
        return conv_id

    async def post_as_server(
        self, conv_id: str, text: str, *, client_msg_id: str, sender_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"client_msg_id": client_msg_id, "text": text}
        if sender_id is not None:
            body["sender_id"] = sender_id
        response = await self.server.post(f"/v1/conversations/{conv_id}/messages", json=body)
        assert response.status_code == 201, response.text
        message: dict[str, Any] = response.json()
        return message

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


@pytest.fixture
async def api(live: LiveServer, live_tenant: TenantKit) -> AsyncIterator[Api]:
    kit = Api(live=live, tenant=live_tenant, server=live.http(live_tenant.creds.server_key))
    kit._clients.append(kit.server)
    yield kit
    await kit.aclose()
