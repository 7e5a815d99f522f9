"""Fixtures of the orders service tests: the service built from the ``services``
fixture's parts (until it is wired into ``Services``), and request builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chat_service.auth.principals import UserPrincipal
from chat_service.orders.bulk import BulkStatusUpdates
from chat_service.orders.repository import OrderRepository
from chat_service.orders.schemas import OrderCreate
from chat_service.orders.sealing import NoteSealer
from chat_service.orders.service import OrderService
from chat_service.services import Services
from tests.fixtures.app import TenantKit


@pytest.fixture
async def order_repo(services: Services) -> OrderRepository:
    sealer = NoteSealer(services.cipher, services.clock, "orders")
    repository = OrderRepository(services.stores.db, sealer=sealer)
    await repository.ensure_indexes()
    return repository


@pytest.fixture
def orders(services: Services, order_repo: OrderRepository) -> OrderService:
    return OrderService(
        repository=order_repo,
        conversations=services.conversations,
        clock=services.clock,
        audit=services.audit,
    )


@pytest.fixture
def bulk(
    services: Services, orders: OrderService, order_repo: OrderRepository
) -> BulkStatusUpdates:
    return BulkStatusUpdates(orders, order_repo, services.clock)


def user(kit: TenantKit, user_id: str, role: str = "buyer") -> UserPrincipal:
    return UserPrincipal(
        tenant=kit.id,
        user_id=user_id,
        name=user_id.title(),
        role=role,  # type: ignore[arg-type]
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )


def order_body(order_id: str = "1042", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "currency": "USD",
        "buyer": {"user_id": "buyer-1", "display_name": "Bea Buyer", "email": "bea@mail.test"},
        "seller": {"user_id": "seller-1", "display_name": "Sam Seller"},
        "lines": [
            {
                "line_id": "a",
                "sku": "CHAIR-BLUE",
                "name": "Blue chair",
                "quantity": 2,
                "unit_price": "100.00",
            },
            {"line_id": "b", "sku": "TABLE", "name": "Table", "quantity": 1, "unit_price": "40.00"},
        ],
    }
    body.update(overrides)
    return body


def order_create(order_id: str = "1042", **overrides: Any) -> OrderCreate:
    return OrderCreate.model_validate(order_body(order_id, **overrides))
