"""The OpenAPI spec documents what the app answers (found by the REST fuzzer,
tests/fuzz): problem details for errors, and both codes of create-or-return."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from chat_service.api.app import create_app
from chat_service.config import Settings
from tests.fixtures.app import random_kek

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = Settings(environment="test", keks=SecretStr(f"1:{random_kek()}"))  # type: ignore[call-arg]
    return create_app(settings).openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_documents_its_problem_answers(spec: dict[str, Any]) -> None:
    assert spec["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "code",
        "detail",
    ]
    for name, operation in operations(spec):
        responses = operation["responses"]
        for status in ("400", "403", "404", "422", "429", "503"):
            assert responses[status]["content"] == PROBLEM, (name, status)
        assert ("401" in responses) == bool(operation.get("security")), name
        assert not any(status.startswith("5") and status != "503" for status in responses), name


@pytest.mark.parametrize(
    ("operation", "codes"),
    [
        ("POST /v1/conversations", {"200", "201"}),
        ("POST /v1/conversations/{conversation_id}/messages", {"200", "201"}),
        ("POST /v1/conversations/{conversation_id}/actions", {"200", "201"}),
        ("PUT /v1/conversations/{conversation_id}/attachments/{upload_id}", {"200", "201"}),
        ("POST /v1/orders", {"200", "201"}),
        ("POST /v1/orders/{order_id}/shipments", {"200", "201"}),
        ("POST /v1/quotes", {"200", "201"}),
        ("PUT /v1/webhook", {"200", "201"}),
    ],
)
def test_create_or_return_documents_both_codes(
    spec: dict[str, Any], operation: str, codes: set[str]
) -> None:
    responses = dict(operations(spec))[operation]["responses"]
    assert codes <= set(responses)
    for code in codes:
        assert "application/json" in responses[code]["content"], code


def test_bulk_status_documents_its_bodies(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/orders/bulk-status"]["post"]["requestBody"]["content"]
    assert set(body) == {"text/csv", "application/json"}
