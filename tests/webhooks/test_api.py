"""The webhook configuration API, in process through the ASGI app: the
routes, authentication, tenancy and bad input."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from chat_service.api.problems import install_problem_handlers
from chat_service.services import Services
from chat_service.webhooks.endpoints import router
from chat_service.webhooks.service import WebhookService
from tests.fixtures.app import TenantKit, create_tenant
from tests.webhooks.conftest import Hooks, build_hooks
from tests.webhooks.receiver import Receiver


def app_for(services: Services, webhooks: WebhookService) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    app.state.services = replace(services, webhooks=webhooks)
    return app


@pytest.fixture
def api(services: Services, hooks: Hooks) -> FastAPI:
    return app_for(services, hooks.webhooks)


def client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test", headers=headers
    )


async def test_put_shows_the_secret_once_then_get_and_rotate(
    api: FastAPI, tenant: TenantKit, receiver: Receiver
) -> None:
    body = {"url": receiver.url, "events": ["order.created"], "alert_email": "ops@shop.test"}
    async with client(api, tenant.creds.server_key) as http:
        created = await http.put("/v1/webhook", json=body)
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        assert secret.startswith("whsec_") and created.json()["alert_email"] == "ops@shop.test"
        again = await http.put("/v1/webhook", json=body | {"events": []})
        assert again.status_code == 200 and "secret" not in again.json()
        shown = await http.get("/v1/webhook")
        assert shown.status_code == 200 and "secret" not in shown.json()
        assert shown.json()["events"] == [] and shown.json()["url"] == receiver.url
        rotated = await http.post("/v1/webhook/rotate-secret")
        assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, None)
        log = await http.get("/v1/webhook/deliveries", params={"status": "failed", "limit": 5})
        assert log.status_code == 200 and log.json() == {"deliveries": []}


async def test_the_log_shows_no_payloads_and_other_tenants_see_nothing(
    api: FastAPI, services: Services, hooks: Hooks, tenant: TenantKit, receiver: Receiver
) -> None:
    await hooks.configure(tenant, receiver.url)
    await hooks.outbox.record(tenant.id, "order.created", {"order_id": "secret-ish"}, "e-1")
    other = await create_tenant(services, "Other shop")
    async with client(api, tenant.creds.server_key) as http:
        mine = (await http.get("/v1/webhook/deliveries")).json()["deliveries"]
    assert [d["event_id"] for d in mine] == ["e-1"] and "secret-ish" not in str(mine)
    assert mine[0]["status"] == "pending" and mine[0]["attempts"] == 0
    async with client(api, other.creds.server_key) as http:
        assert (await http.get("/v1/webhook/deliveries")).json() == {"deliveries": []}
        missing = await http.get("/v1/webhook")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert (await http.post("/v1/webhook/rotate-secret")).status_code == 404


async def test_only_the_backend_may_configure(api: FastAPI, tenant: TenantKit) -> None:
    async with client(api, None) as http:
        assert (await http.get("/v1/webhook")).status_code == 401
    async with client(api, tenant.token("buyer-1")) as http:
        refused = await http.get("/v1/webhook/deliveries")
        assert refused.status_code == 403 and refused.json()["code"] == "server_required"
    async with client(api, "sk_t_0000000000000000_" + "x" * 40) as http:
        assert (await http.put("/v1/webhook", json={"url": "https://a.example"})).status_code == 401


BAD_URLS: list[tuple[Any, int, str]] = [
    ("not a url", 400, "webhook_url_refused"),
    ("javascript:alert(document.cookie)", 400, "webhook_url_refused"),
    ("ftp://files.example.com/hook", 400, "webhook_url_refused"),
    ("http://hooks.example.com/hook", 400, "webhook_url_refused"),
    ("https://10.0.0.8/hook", 400, "webhook_url_refused"),
    ({"$ne": None}, 422, ""),
    ({"$gt": ""}, 422, ""),
    (["https://a.example"], 422, ""),
    (12, 422, ""),
]


@pytest.mark.parametrize(("url", "status", "code"), BAD_URLS)
async def test_bad_urls_get_clear_errors(
    api: FastAPI, tenant: TenantKit, url: Any, status: int, code: str
) -> None:
    async with client(api, tenant.creds.server_key) as http:
        response = await http.put("/v1/webhook", json={"url": url})
        assert response.status_code == status, response.text
        if code:
            assert response.json()["code"] == code
        assert (await http.get("/v1/webhook")).status_code == 404  # nothing stored


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://a.example", "events": ["order.deleted"]},
        {"url": "https://a.example", "events": {"$in": ["order.created"]}},
        {"url": "https://a.example", "alert_email": "not-an-address"},
        {"url": "https://a.example", "alert_email": "a@b.test\r\nBcc: x@y.test"},
        {"url": "https://a.example", "enabled": "yes"},
        {"url": "https://a.example", "secret": "mine"},
    ],
)
async def test_bad_fields_are_refused(api: FastAPI, tenant: TenantKit, body: Any) -> None:
    async with client(api, tenant.creds.server_key) as http:
        response = await http.put("/v1/webhook", json=body)
        assert response.status_code == 422, response.text
        bad = await http.get("/v1/webhook/deliveries", params={"status": {"$ne": 1}})
        assert bad.status_code == 422
        assert (await http.get("/v1/webhook/deliveries", params={"limit": 0})).status_code == 422


async def test_production_refuses_private_targets(
    services: Services, clock: Any, tenant: TenantKit
) -> None:
    app = app_for(services, build_hooks(services, clock, environment="production").webhooks)
    async with client(app, tenant.creds.server_key) as http:
        for url in [
            "http://127.0.0.1:8080/hook",
            "https://localhost/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/hook",
            "https://192.168.0.10/hook",
        ]:
            response = await http.put("/v1/webhook", json={"url": url})
            assert response.status_code == 400, url
            assert response.json()["code"] == "webhook_url_refused"
        accepted = await http.put("/v1/webhook", json={"url": "https://hooks.example.com/chat"})
        assert accepted.status_code == 201
