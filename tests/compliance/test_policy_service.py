"""Policies stored per marketplace: history, conflicts, hot reload, and
enforcement in chat (masking) and uploads (attachment rules)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from chat_service.audit import AuditActor
from chat_service.clock import Clock, ManualClock
from chat_service.config import Settings
from chat_service.errors import BadRequest, Conflict, Forbidden, PayloadTooLarge
from chat_service.services import Services, build_services
from tests.attachments.photos import png_bytes
from tests.attachments.test_attachment_service import body
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, order_conversation

OFFICER = AuditActor(type="staff", id="officer-1", role="compliance_officer")


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


async def test_default_is_the_standard_preset(services: Services, tenant: TenantKit) -> None:
    record = await services.policies.record(tenant.id)
    assert record.version == 0 and record.updated_by is None
    assert record.policy["preset"] == "standard"
    assert (await services.policies.current(tenant.id)).preset == "standard"


async def test_change_is_versioned_with_history_and_audit(
    services: Services, tenant: TenantKit
) -> None:
    first = await services.policies.update(
        tenant.id, OFFICER, expected_version=0, preset_name="hipaa"
    )
    second = await services.policies.update(
        tenant.id,
        OFFICER,
        expected_version=1,
        changes={"email": {"delay_seconds": 600}},
    )
    assert (first.version, second.version) == (1, 2)
    assert second.policy["preset"] == "custom"
    history = await services.policies.history(tenant.id)
    assert [h.version for h in history] == [2, 1]
    assert sorted(history[0].changed_fields) == ["email.delay_seconds", "preset"]
    assert history[0].old["email"]["delay_seconds"] == 120
    assert history[0].new["email"]["delay_seconds"] == 600
    assert history[1].old["compliance_mode"] == "standard"
    assert history[1].actor == OFFICER
    audit = await services.audit.search(tenant.id)
    assert [(e.action, e.details["to_version"]) for e in audit.entries] == [
        ("policy.changed", 2),
        ("policy.changed", 1),
    ]
    unchanged = await services.policies.update(
        tenant.id, OFFICER, expected_version=2, changes={"email": {"delay_seconds": 600}}
    )
    assert unchanged.version == 2  # nothing to store


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            {"preset_name": "hipaa", "changes": {"email": {"content_by_role": {"buyer": "full"}}}},
            "HIPAA mode forbids",
        ),
        ({"preset_name": "lenient"}, "unknown preset"),
        ({"changes": {"email": {"delay_seconds": "soon"}}}, "delay_seconds"),
        ({"changes": {"masking": {"$set": True}}}, "masking"),
        ({"changes": {"attachments": {"max_bytes": -1}}}, "max_bytes"),
    ],
)
async def test_invalid_changes_store_nothing(
    services: Services, tenant: TenantKit, kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await services.policies.update(tenant.id, OFFICER, expected_version=0, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "policy_invalid"
    assert fragment in caught.value.detail
    assert (await services.policies.record(tenant.id)).version == 0
    assert await services.stores.db["policy_history"].count_documents({}) == 0


async def test_concurrent_editors_one_wins(services: Services, tenant: TenantKit) -> None:
    await services.policies.update(tenant.id, OFFICER, expected_version=0, preset_name="gdpr")
    with pytest.raises(Conflict) as caught:
        await services.policies.update(tenant.id, OFFICER, expected_version=0, preset_name="hipaa")
    assert caught.value.code == "policy_changed_concurrently"
    assert (await services.policies.current(tenant.id)).preset == "gdpr"


@pytest.fixture
async def second_process(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    """Another process's services on the same store and Redis."""
    other = await build_services(settings, clock=clock)
    yield other
    await other.close()


async def test_a_change_reaches_other_processes_within_the_cache_window(
    services: Services, second_process: Services, tenant: TenantKit, clock: ManualClock
) -> None:
    assert (await second_process.policies.current(tenant.id)).preset == "standard"
    await services.policies.update(tenant.id, OFFICER, expected_version=0, preset_name="hipaa")
    assert (await services.policies.current(tenant.id)).preset == "hipaa"  # the writer: at once
    clock.advance(services.settings.policy_cache_seconds / 2)
    assert (await second_process.policies.current(tenant.id)).preset == "standard"
    clock.advance(services.settings.policy_cache_seconds)
    assert (await second_process.policies.current(tenant.id)).preset == "hipaa"


async def test_masking_applies_before_the_message_is_stored(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    text = "call me on 555 123 4567 or write to ada at example dot com"
    sent = await services.conversations.send(buyer, conv.id, client_msg_id="m1", text=text)
    assert "555" not in (sent.message.text or "") and "example" not in (sent.message.text or "")
    stored = await services.stores.db["messages"].find_one({"_id": sent.message.id})
    assert stored is not None and "original" not in stored
    seen = (await services.conversations.history(seller, conv.id)).messages[0]
    assert seen.text == sent.message.text
    edited = await services.conversations.edit(
        buyer, conv.id, target_seq=1, text="new number 555-987-6543", client_msg_id="e1"
    )
    assert "987" not in (edited.message.text or "")
    assert "987" not in (
        (await services.conversations.history(seller, conv.id)).messages[0].text or ""
    )
    await services.conversations.send(
        tenant.server, conv.id, client_msg_id="sys", text="Support line 555 000 1111"
    )
    system = (await services.conversations.history(seller, conv.id)).messages[-1]
    assert system.kind == "system" and system.text == "Support line 555 000 1111"


async def test_the_original_is_kept_sealed_only_when_the_policy_says_so(
    services: Services, tenant: TenantKit
) -> None:
    await services.policies.update(
        tenant.id,
        OFFICER,
        expected_version=0,
        changes={"retention": {"keep_original_when_masked": True}},
    )
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    sent = await services.conversations.send(
        user(tenant, "buyer-1"), conv.id, client_msg_id="m1", text="my cell 555 123 4567"
    )
    stored = await services.stores.db["messages"].find_one({"_id": sent.message.id})
    assert stored is not None and stored["original"] and stored["original_key_id"]
    assert b"555 123 4567" not in bytes(stored["original"])


async def test_attachment_rules_follow_the_policy(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    photos = [
        (
            await services.attachments.upload(
                buyer, conv.id, f"p{i}", body(png_bytes()), declared_length=None
            )
        )[0]
        for i in range(3)
    ]
    await services.policies.update(
        tenant.id,
        OFFICER,
        expected_version=0,
        changes={"attachments": {"max_per_message": 2, "max_bytes": 2048}},
    )
    with pytest.raises(BadRequest) as too_many:
        await services.conversations.send(
            buyer, conv.id, client_msg_id="m1", text=None, attachments=[p.id for p in photos]
        )
    assert too_many.value.code == "too_many_attachments"
    with pytest.raises(PayloadTooLarge):
        await services.attachments.upload(
            buyer, conv.id, "big", body(b"\0" * 4096), declared_length=4096
        )
    await services.policies.update(
        tenant.id, OFFICER, expected_version=1, changes={"attachments": {"allowed": False}}
    )
    for attempt in (
        services.attachments.upload(buyer, conv.id, "off", body(png_bytes()), declared_length=None),
        services.conversations.send(
            buyer, conv.id, client_msg_id="m2", text=None, attachments=[photos[0].id]
        ),
    ):
        with pytest.raises(Forbidden) as disabled:
            await attempt
        assert disabled.value.code == "attachments_disabled"
