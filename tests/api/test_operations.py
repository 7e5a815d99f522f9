"""Operational endpoints: health, readiness, metrics, docs, request ids."""

from __future__ import annotations

from tests.api.conftest import Api, assert_problem


async def test_healthz_and_readyz(api: Api) -> None:
    client = api.client()
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"store": True, "redis": True}}


async def test_metrics_are_prometheus_text(api: Api) -> None:
    # An error first, so a labelled counter has a sample.
    assert_problem(await api.client().get("/v1/conversations"), 401, "not_authenticated")
    response = await api.client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE chat_ws_connections gauge" in text
    assert "chat_ws_connections 0.0" in text
    assert 'chat_http_errors_total{code="not_authenticated"} 1.0' in text


async def test_docs_and_openapi_are_served(api: Api) -> None:
    client = api.client()
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    assert "/openapi.json" in docs.text
    schema = (await client.get("/openapi.json")).json()
    assert schema["info"]["title"] == "Marketplace chat"
    paths = schema["paths"]
    assert {"/v1/conversations", "/v1/conversations/{conversation_id}/messages"} <= set(paths)
    assert "/v1/conversations/{conversation_id}/read" in paths
    assert "/metrics" not in paths


async def test_request_id_is_echoed_or_made_up(api: Api) -> None:
    client = api.client()
    response = await client.get("/healthz", headers={"X-Request-ID": "abc123XYZ"})
    assert response.headers["x-request-id"] == "abc123XYZ"
    # Also on errors.
    failed = await client.get("/v1/conversations", headers={"X-Request-ID": "req42"})
    assert failed.status_code == 401
    assert failed.headers["x-request-id"] == "req42"
    # Anything that is not a short alphanumeric id is replaced, never echoed.
    for unsafe in ("a b\tc", "x" * 65, "id;drop", "../../etc"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": unsafe})
        echoed = replaced.headers["x-request-id"]
        assert echoed != unsafe
        assert echoed.isalnum()
    fresh = await client.get("/healthz")
    assert fresh.headers["x-request-id"].isalnum()


async def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    client = api.client()
    assert_problem(await client.get("/v2/nothing"), 404, "not_found")
    assert_problem(await client.delete("/healthz"), 405, "method_not_allowed")


async def test_metrics_show_the_away_email_queue(api: Api) -> None:
    """A message to someone offline leaves one pending away notification."""
    conv = await api.server.post(
        "/v1/conversations",
        json={
            "subject_type": "order",
            "subject_id": "7001",
            "participants": [
                {"user_id": "buyer-1", "role": "buyer", "display_name": "B"},
                {"user_id": "seller-1", "role": "seller", "display_name": "S"},
            ],
        },
    )
    sent = await api.user("buyer-1").post(
        f"/v1/conversations/{conv.json()['id']}/messages",
        json={"client_msg_id": "m1", "text": "are the chairs in stock?"},
    )
    assert sent.status_code == 201
    text = (await api.client().get("/metrics")).text
    assert 'chat_away_notifications{state="pending"} 1.0' in text
    assert 'chat_away_notifications{state="overdue"} 0.0' in text
