"""Fixtures of the audit tests: an audit log on the test's own database,
driven by a manual clock, and the raw collection for tampering."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from chat_service.audit import AuditActor, AuditLog, AuditRepository
from chat_service.clock import ManualClock
from chat_service.services import Services

TENANT = "t_00000000000000aa"
OTHER_TENANT = "t_00000000000000bb"
OFFICER = AuditActor(type="staff", id="staff-7", role="compliance_officer")
VIEWER = AuditActor(type="staff", id="staff-9", role="viewer")


@pytest.fixture
def audit_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def audit(services: Services, audit_clock: ManualClock) -> AuditLog:
    repository = AuditRepository(services.stores.db)
    await repository.ensure_indexes()
    return AuditLog(repository, audit_clock)


@pytest.fixture
def raw(services: Services) -> AsyncCollection[dict[str, Any]]:
    return services.stores.db["audit_log"]


async def record_views(audit: AuditLog, tenant: str, count: int, *, start: int = 1) -> None:
    """``count`` staff reads of conversations c<start>, c<start+1>, ..."""
    for i in range(start, start + count):
        await audit.record(
            tenant,
            OFFICER,
            "conversation.viewed_by_staff",
            target_type="conversation",
            target_id=f"c{i}",
            details={"reason": "abuse_report", "ticket": f"ZD-{i}"},
        )
