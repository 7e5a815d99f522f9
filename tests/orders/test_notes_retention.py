"""Sealed order and quote notes outlive message retention: the retention job
keeps the data keys they name, so old orders and quotes still open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chat_service.audit import AuditActor
from chat_service.clock import Clock, ManualClock
from chat_service.compliance.retention import RetentionJob
from chat_service.orders.service import OrderService
from chat_service.quotes.schemas import DeclineIn
from chat_service.services import Services
from tests.fixtures.app import TenantKit
from tests.orders.conftest import order_create
from tests.quotes.conftest import SELLER, build_quotes, create_body
from tests.quotes.conftest import user as quote_user

DAY = 86_400.0


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2025, 1, 10, 9, 0, tzinfo=UTC))


async def test_notes_still_open_after_old_keys_are_shredded(
    services: Services, tenant: TenantKit, orders: OrderService
) -> None:
    await orders.create(tenant.server, order_create("1042"))
    await orders.update_status(tenant.server, "1042", "processing", note="gate code 4711")
    quotes = build_quotes(services)
    quote, _ = await quotes.request(tenant.server, create_body("Q-1", note="rush"))
    await quotes.decline(quote_user(tenant, SELLER, "seller"), quote.id, DeclineIn(reason="no"))
    await services.tenants.set_staff_email(tenant.id, "quotes@shop.test")
    officer = AuditActor(type="staff", id="officer-1", role="compliance_officer")
    await services.policies.update(tenant.id, officer, expected_version=0, preset_name="gdpr")
    clock = services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(500 * DAY)

    await RetentionJob.from_services(services).run()
    services.keys.forget_cache()

    order = await orders.get(tenant.server, "1042")
    assert order.history[1].note == "gate code 4711"
    shown = await quotes.get(tenant.server, quote.id)
    assert (shown.note, shown.reason) == ("rush", "no")
    assert await services.tenants.staff_email(tenant.id) == "quotes@shop.test"
