"""The world the REST fuzzer runs in: the real app (real store, real Redis) with
two marketplaces, each with a conversation, an order, a quote, an attachment and
a (disabled) webhook and signed links, and the credentials of every kind of caller.

Seeding goes through the same REST API the fuzzer attacks (only tenant creation
uses the service layer: the API has no endpoint for it), so the fuzzer's path
parameters can point at objects that exist and its bodies reach deep handler code.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from PIL import Image
from pydantic import SecretStr

from chat_service.config import Settings
from chat_service.notifications.tokens import NotificationTokens
from chat_service.services import build_services
from tests.fixtures.app import TenantKit, create_tenant
from tests.fuzz.scale import scaled

BUYER, SELLER, STAFF, STRANGER = "buyer-1", "seller-1", "staff-1", "stranger-1"

# How many examples Hypothesis tries per operation, with valid credentials and
# without. CI keeps the defaults (deterministic); ``FUZZ_SCALE`` multiplies them,
# ``FUZZ_MAX_EXAMPLES`` / ``FUZZ_UNAUTH_EXAMPLES`` set them, and ``FUZZ_RANDOM=1``
# drops derandomisation for an exploratory campaign.
DEFAULT_MAX_EXAMPLES = 16
DEFAULT_UNAUTH_EXAMPLES = 6


def openapi_spec() -> dict[str, Any]:
    """The spec the app serves at ``/openapi.json`` (building the app starts nothing)."""
    from chat_service.api.app import create_app
    from tests.fixtures.app import random_kek

    settings = Settings(environment="test", keks=SecretStr(f"1:{random_kek()}"))  # type: ignore[call-arg]
    return create_app(settings).openapi()


def max_examples() -> int:
    return int(os.environ.get("FUZZ_MAX_EXAMPLES", scaled(DEFAULT_MAX_EXAMPLES)))


def unauth_examples() -> int:
    return int(os.environ.get("FUZZ_UNAUTH_EXAMPLES", scaled(DEFAULT_UNAUTH_EXAMPLES)))


def randomized() -> bool:
    return os.environ.get("FUZZ_RANDOM", "") not in ("", "0")


@dataclass
class Shop:
    """One marketplace: its credentials, the ids of the objects seeded in it, and
    valid query strings for the operations that take no credentials but a
    signed token (photo links, email links)."""

    kit: TenantKit
    ids: dict[str, str] = field(default_factory=dict)
    queries: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, identity: str) -> dict[str, str]:
        if identity == "server":
            return {"Authorization": f"Bearer {self.kit.creds.server_key}"}
        role = {"buyer": "buyer", "seller": "seller", "staff": "staff", "stranger": "buyer"}
        user = {"buyer": BUYER, "seller": SELLER, "staff": STAFF, "stranger": STRANGER}
        token = self.kit.token(
            user[identity],
            role[identity],  # type: ignore[arg-type]
            email=f"{user[identity]}@mail.test",
            lifetime=timedelta(hours=2),
        )
        return {"Authorization": f"Bearer {token}"}


async def create_shops(settings: Settings) -> tuple[TenantKit, TenantKit]:
    services = await build_services(settings)
    try:
        await services.ensure_indexes()
        return await create_tenant(services, "Fuzz shop"), await create_tenant(services, "Other")
    finally:
        await services.close()


def make_shops(settings: Settings) -> tuple[Shop, Shop]:
    home, other = asyncio.run(create_shops(settings))
    return Shop(home), Shop(other)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def _ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code < 300, (response.request.url, response.text)
    body: dict[str, Any] = response.json()
    return body


def seed(client: requests.Session, shop: Shop, tag: str, settings: Settings) -> None:
    """An order (with its conversation), a quote, a photo, a webhook, signed links; ``tag``
    makes the backend-chosen ids differ between the two marketplaces."""
    server = shop.headers("server")
    order = _ok(
        client.post(
            "/v1/orders",
            headers=server,
            json={
                "order_id": f"order-{tag}",
                "currency": "USD",
                "buyer": {"user_id": BUYER, "display_name": "Bea", "org_id": f"org-{tag}"},
                "seller": {"user_id": SELLER, "display_name": "Sam"},
                "lines": [
                    {
                        "line_id": "a",
                        "sku": "CHAIR",
                        "name": "Chair",
                        "quantity": 2,
                        "unit_price": "100.00",
                    },
                ],
            },
        )
    )
    shop.ids["order_id"] = order["order_id"]
    conversation = _ok(
        client.post(
            "/v1/conversations",
            headers=server,
            json={
                "subject_type": "order",
                "subject_id": f"chat-{tag}",
                "title": "Fuzz",
                "participants": [
                    {"user_id": BUYER, "role": "buyer", "display_name": "Bea"},
                    {"user_id": SELLER, "role": "seller", "display_name": "Sam"},
                ],
            },
        )
    )
    shop.ids["conversation_id"] = conversation["id"]
    quote = _ok(
        client.post(
            "/v1/quotes",
            headers=server,
            json={
                "quote_id": f"quote-{tag}",
                "buyer": {"user_id": BUYER, "display_name": "Bea"},
                "seller": {"user_id": SELLER, "display_name": "Sam"},
                "currency": "USD",
                "lines": [{"line_id": "1", "sku": "DESK", "name": "Desk", "quantity": 3}],
            },
        )
    )
    shop.ids["quote_id"] = quote["id"]
    photo = _ok(
        client.put(
            f"/v1/conversations/{shop.ids['conversation_id']}/attachments/fuzz-photo",
            headers={**shop.headers("buyer"), "Content-Type": "application/octet-stream"},
            data=_png(),
        )
    )
    shop.ids["attachment_id"] = photo["id"]
    shop.ids["upload_id"] = "fuzz-photo"
    shop.ids["org_id"] = f"org-{tag}"
    # Disabled, so that no delivery leaves the machine; GET and rotate-secret then
    # find a webhook instead of answering 404 to every case.
    _ok(
        client.put(
            "/v1/webhook",
            headers=server,
            json={"url": "https://hooks.example.com/chat", "enabled": False},
        )
    )
    described = _ok(
        client.get(
            f"/v1/conversations/{shop.ids['conversation_id']}/attachments/{photo['id']}",
            headers=shop.headers("buyer"),
        )
    )
    link = urlsplit(next(iter(described["links"].values())))
    shop.ids["rendition"] = link.path.rsplit("/", 1)[1]
    shop.queries["/v1/attachments/{attachment_id}/{rendition}"] = dict(parse_qsl(link.query))
    tokens = NotificationTokens(settings.kek_map(), settings.primary_version())
    expires = int(time.time()) + 4 * 3600
    for purpose, path in (("unsubscribe", "/v1/unsubscribe"), ("open", "/v1/open")):
        token = tokens.mint(
            purpose,
            tenant=shop.kit.id,
            user=BUYER,
            conversation=shop.ids["conversation_id"],
            expires=expires,
        )
        shop.queries[path] = {"token": token}
