"""CORS for the widget on a marketplace's page: allowed origins only, no credentials."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.fixtures.app import ORIGIN


async def test_preflight_and_requests_from_an_allowed_origin(api: Api) -> None:
    client = api.client()
    preflight = await client.options(
        "/v1/conversations",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in preflight.headers
    listed = await api.user("buyer-1").get("/v1/conversations", headers={"Origin": ORIGIN})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in listed.headers["vary"]


async def test_other_origins_get_no_cors_headers(api: Api) -> None:
    client = api.client()
    preflight = await client.options(
        "/v1/conversations",
        headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    refused = await client.get("/v1/conversations", headers={"Origin": "https://evil.test"})
    assert refused.status_code == 401
    assert "access-control-allow-origin" not in refused.headers
