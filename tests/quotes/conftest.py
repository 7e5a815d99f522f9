"""Fixtures of the quotes service tests: a manual clock near real time (user
tokens are minted with real time), the quote service built from the
``services`` fixture's parts, and request builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chat_service.auth.principals import Role, UserPrincipal
from chat_service.clock import ManualClock
from chat_service.orders.sealing import NoteSealer
from chat_service.quotes.repository import QuoteRepository
from chat_service.quotes.schemas import PartyIn, QuoteCreate, QuoteLineIn, RespondIn
from chat_service.quotes.sealing import QuoteSealer
from chat_service.quotes.service import QuoteService
from chat_service.services import Services
from tests.fixtures.app import TenantKit

BUYER, SELLER = "buyer-1", "seller-1"
PRICES = {"1": "12.00", "2": "300"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


def build_quotes(services: Services) -> QuoteService:
    sealer = QuoteSealer(NoteSealer(services.cipher, services.clock, "quotes"))
    return QuoteService(
        repository=QuoteRepository(services.stores.db, sealer=sealer),
        conversations=services.conversations,
        clock=services.clock,
        orders=services.orders,
        audit=services.audit,
    )


@pytest.fixture
async def quotes(services: Services) -> QuoteService:
    built = build_quotes(services)
    await built.repository.ensure_indexes()
    return built


def user(kit: TenantKit, user_id: str, role: Role = "buyer") -> UserPrincipal:
    return UserPrincipal(
        tenant=kit.id,
        user_id=user_id,
        name=user_id.title(),
        role=role,
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )


def lines() -> list[QuoteLineIn]:
    return [
        QuoteLineIn(
            line_id="1",
            sku="CHAIR",
            name="Chair",
            quantity=40,
            options={"colour": "oak", "freight destination": "Denver, CO"},
        ),
        QuoteLineIn(line_id="2", sku="DESK", name="Desk", quantity=2),
    ]


def create_body(quote_id: str | None = None, **changes: Any) -> QuoteCreate:
    values: dict[str, Any] = {
        "quote_id": quote_id,
        "buyer": PartyIn(user_id=BUYER, display_name="Buyer") if quote_id else None,
        "seller": PartyIn(user_id=SELLER, display_name="Seller"),
        "currency": "USD",
        "lines": lines(),
        "note": "for the new office",
    }
    values.update(changes)
    return QuoteCreate(**values)


def offer(clock: ManualClock, days: int = 7, prices: dict[str, str] | None = None) -> RespondIn:
    return RespondIn(prices=prices or PRICES, valid_until=clock.now() + timedelta(days=days))
