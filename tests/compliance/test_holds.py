"""Legal holds: set and released with a reason code, audited; a held
conversation blocks erasure of its participants, changing nothing."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import pytest

from chat_service.audit import AuditActor, AuditQuery
from chat_service.cli.compliance import add_compliance_commands, run_compliance_async
from chat_service.clock import Clock, ManualClock
from chat_service.compliance.holds import LegalHoldActive, LegalHolds
from chat_service.compliance.subjects import SubjectRequests
from chat_service.errors import BadRequest, NotFound
from chat_service.services import Services
from tests.conversations.test_encryption_at_rest import raw_dump
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, create_tenant, order_conversation

OFFICER = AuditActor(type="staff", id="officer-1", role="compliance_officer")


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chat-service")
    add_compliance_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def holds_of(services: Services) -> LegalHolds:
    return LegalHolds(services.stores.db, services.audit, services.clock)


async def held_conversation(services: Services, tenant: TenantKit) -> str:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    await services.conversations.send(
        user(tenant, "buyer-1"), conv.id, client_msg_id="a", text="evidence"
    )
    return conv.id


async def test_set_and_release_are_audited(services: Services, tenant: TenantKit) -> None:
    conv_id = await held_conversation(services, tenant)
    holds = holds_of(services)
    await holds.ensure_indexes()
    assert await holds.set(tenant.id, conv_id, OFFICER, "case-2026-014") is True
    assert await holds.set(tenant.id, conv_id, OFFICER, "case-other") is False
    assert await holds.held(tenant.id) == [conv_id]
    assert (await holds.hold_of(tenant.id, conv_id) or {})["reason"] == "case-2026-014"
    assert await holds.release(tenant.id, conv_id, OFFICER, "case-closed") is True
    assert await holds.release(tenant.id, conv_id, OFFICER, "case-closed") is False
    assert await holds.held(tenant.id) == []
    entries = (await services.audit.search(tenant.id)).entries
    assert [(e.action, e.target_id, e.details["reason"]) for e in entries] == [
        ("legal_hold.released", conv_id, "case-closed"),
        ("legal_hold.set", conv_id, "case-2026-014"),
    ]


async def test_bad_hold_requests_change_nothing(services: Services, tenant: TenantKit) -> None:
    conv_id = await held_conversation(services, tenant)
    holds = holds_of(services)
    with pytest.raises(BadRequest) as bad:
        await holds.set(tenant.id, conv_id, OFFICER, "because the lawyer said so")
    assert bad.value.code == "invalid_reason"
    with pytest.raises(NotFound):
        await holds.set(tenant.id, "c_missing", OFFICER, "case-1")
    other = await create_tenant(services, "Other shop")
    with pytest.raises(NotFound):  # another marketplace's conversation
        await holds.set(other.id, conv_id, OFFICER, "case-1")
    assert await holds.held(tenant.id) == [] and await holds.held(other.id) == []
    assert not (await services.audit.search(tenant.id, AuditQuery(action="legal_hold.set"))).entries


async def test_hold_blocks_erasure_until_released(services: Services, tenant: TenantKit) -> None:
    conv_id = await held_conversation(services, tenant)
    holds = holds_of(services)
    await holds.set(tenant.id, conv_id, OFFICER, "case-2026-014")
    requests = SubjectRequests.from_services(services, holds)
    before = await raw_dump(services)

    with pytest.raises(LegalHoldActive) as refused:
        await requests.erase(tenant.id, "buyer-1", OFFICER)

    assert (refused.value.status, refused.value.code) == (409, "legal_hold")
    assert conv_id in refused.value.detail and refused.value.conversations == [conv_id]
    assert await raw_dump(services) == before
    history = (await services.conversations.history(user(tenant, "seller-1"), conv_id)).messages
    assert [m.text for m in history] == ["evidence"]

    await holds.release(tenant.id, conv_id, OFFICER, "case-closed")
    report = await requests.erase(tenant.id, "buyer-1", OFFICER)
    assert report.messages_scrubbed == 1


async def test_cli_hold_and_erase(
    services: Services, tenant: TenantKit, capsys: pytest.CaptureFixture[str]
) -> None:
    conv_id = await held_conversation(services, tenant)
    where = ["--tenant", tenant.id]
    hold = [*where, "--conversation", conv_id, "--reason", "case-9", "--by", "officer-2"]
    erase = ["subject", "erase", *where, "--user", "buyer-1", "--by", "officer-2"]

    assert await run_compliance_async(cli_args("hold", "set", *hold), services.settings) == 0
    assert await run_compliance_async(cli_args(*erase, "--yes"), services.settings) == 1
    assert "409 legal_hold" in capsys.readouterr().err
    assert await run_compliance_async(cli_args("hold", "release", *hold), services.settings) == 0
    assert await run_compliance_async(cli_args(*erase), services.settings) == 1  # no --yes
    assert "--yes" in capsys.readouterr().err
    assert await run_compliance_async(cli_args(*erase, "--yes"), services.settings) == 0
    assert "is now 'Former user " in capsys.readouterr().out
    bad = cli_args("hold", "set", *where, "--conversation", conv_id, "--reason", "no way")
    assert await run_compliance_async(bad, services.settings) == 1
    entries = (await services.audit.search(tenant.id)).entries
    assert [(e.action, e.actor.id) for e in entries] == [
        ("subject.erased", "officer-2"),
        ("legal_hold.released", "officer-2"),
        ("legal_hold.set", "officer-2"),
    ]
