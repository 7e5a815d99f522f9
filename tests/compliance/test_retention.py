"""The retention job with a manual clock: old messages and photos purged in
batches, data keys of wholly expired months shredded, resumable, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chat_service.audit import AuditActor, AuditQuery
from chat_service.cli.compliance import run_compliance_async
from chat_service.clock import Clock, ManualClock
from chat_service.compliance.holds import LegalHolds
from chat_service.compliance.retention import RetentionJob, RetentionReport
from chat_service.conversations.sealing import text_ref
from chat_service.crypto import EncryptedField, KeyDestroyed
from chat_service.services import Services
from tests.attachments.photos import png_bytes
from tests.attachments.test_attachment_service import body
from tests.compliance.test_holds import cli_args
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, create_tenant, order_conversation

OFFICER = AuditActor(type="staff", id="officer-1", role="compliance_officer")
DAY = 86_400.0


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2025, 1, 10, 9, 0, tzinfo=UTC))


def manual(services: Services) -> ManualClock:
    assert isinstance(services.clock, ManualClock)
    return services.clock


async def upload(services: Services, who: Any, conv_id: str, upload_id: str) -> str:
    attachment, _ = await services.attachments.upload(
        who, conv_id, upload_id, body(png_bytes()), declared_length=None
    )
    return attachment.id


async def history(services: Services, who: Any, conv_id: str) -> list[Any]:
    return (await services.conversations.history(who, conv_id, limit=100)).messages


async def seed(services: Services, tenant: TenantKit) -> dict[str, Any]:
    """January 2025: two messages and a photo; June 2025: a message with a photo."""
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    old_photo = await upload(services, buyer, conv.id, "p1")
    await services.conversations.send(
        buyer, conv.id, client_msg_id="a", text="january question", attachments=[old_photo]
    )
    await services.conversations.send(seller, conv.id, client_msg_id="b", text="january answer")
    manual(services).advance(150 * DAY)  # 2025-06-09
    june_photo = await upload(services, buyer, conv.id, "p2")
    await services.conversations.send(
        buyer, conv.id, client_msg_id="c", text="june note", attachments=[june_photo]
    )
    old = await services.stores.db["messages"].find_one({"conv": conv.id, "seq": 1})
    assert old is not None
    return {"conv": conv.id, "buyer": buyer, "old": old, "photos": (old_photo, june_photo)}


async def use_gdpr(services: Services, tenant: TenantKit) -> None:
    await services.policies.update(tenant.id, OFFICER, expected_version=0, preset_name="gdpr")


def job(services: Services) -> RetentionJob:
    return RetentionJob.from_services(services)


async def test_gdpr_purges_old_messages_photos_and_keys(
    services: Services, tenant: TenantKit
) -> None:
    seeded = await seed(services, tenant)
    await use_gdpr(services, tenant)  # 365 days for messages, 180 for photos
    manual(services).advance(265 * DAY)  # 2026-03-01: January 2025 is past 365 days
    keys_before = await services.stores.db["data_keys"].count_documents({"tenant": tenant.id})

    purge = job(services)
    await purge.ensure_indexes()
    report = await purge.run()

    assert report.tenants == 1
    assert report.messages_purged == 2
    assert report.attachments_purged == 2  # January's with its message, June's past 180 days
    # January 2025 keys: the buyer's, the seller's and the tenant's scope.
    assert report.keys_destroyed == 3
    assert report.fields_resealed == 3  # two e-mail addresses and the signing secret
    keys_after = await services.stores.db["data_keys"].count_documents({"tenant": tenant.id})
    assert keys_after == keys_before - 3 + 3  # three fresh keys for the re-sealed fields

    messages = await history(services, seeded["buyer"], seeded["conv"])
    assert [(m.seq, m.deleted, m.text) for m in messages] == [
        (1, True, None),
        (2, True, None),
        (3, False, "june note"),
    ]
    photos = services.stores.db["attachments"]
    for photo_id in seeded["photos"]:
        assert (await photos.find_one({"_id": photo_id}))["status"] == "deleted"  # type: ignore[index]
        assert await services.stores.db["attachment_chunks"].count_documents({"att": photo_id}) == 0

    # A backup copy of January's ciphertext can no longer be opened.
    old = seeded["old"]
    with pytest.raises(KeyDestroyed):
        await services.cipher.decrypt(
            text_ref(tenant.id, seeded["conv"], old["_id"]),
            EncryptedField(old["key_id"], bytes(old["text"])),
        )
    # What outlives retention still opens: e-mail addresses, the tenant's secret.
    services.keys.forget_cache()
    assert await services.users.email_of(tenant.id, "buyer-1") == "buyer-1@mail.test"
    tenant_doc = await services.stores.db["tenants"].find_one({"_id": tenant.id})
    assert tenant_doc is not None
    assert tenant_doc["signing_secret"]["key_id"] != old["key_id"]

    entries = await services.audit.search(tenant.id, AuditQuery(action="retention.purged"))
    assert [e.details["messages"] for e in entries.entries] == [2]

    again = await job(services).run()
    assert again == RetentionReport(tenants=1)


async def test_standard_policy_keeps_everything(services: Services, tenant: TenantKit) -> None:
    seeded = await seed(services, tenant)
    manual(services).advance(3000 * DAY)
    report = await job(services).run()
    assert report == RetentionReport(tenants=1)
    texts = [m.text for m in await history(services, seeded["buyer"], seeded["conv"])]
    assert texts == ["january question", "january answer", "june note"]


async def test_attachment_retention_is_shorter_than_messages(
    services: Services, tenant: TenantKit
) -> None:
    seeded = await seed(services, tenant)
    await use_gdpr(services, tenant)
    manual(services).advance(60 * DAY)  # 2025-08-08: January photo is 210 days old
    report = await job(services).run()
    assert (report.messages_purged, report.attachments_purged, report.keys_destroyed) == (0, 1, 0)
    old_photo, june_photo = seeded["photos"]
    photos = services.stores.db["attachments"]
    assert (await photos.find_one({"_id": old_photo}))["status"] == "deleted"  # type: ignore[index]
    assert (await photos.find_one({"_id": june_photo}))["status"] == "attached"  # type: ignore[index]
    texts = [m.text for m in await history(services, seeded["buyer"], seeded["conv"])]
    assert texts == ["january question", "january answer", "june note"]


async def test_a_crash_mid_run_is_finished_by_the_next_run(
    services: Services, tenant: TenantKit
) -> None:
    seeded = await seed(services, tenant)
    await use_gdpr(services, tenant)
    manual(services).advance(265 * DAY)
    calls: list[tuple[str, int]] = []

    def crash_after_first_batch(tenant_id: str, stage: str, done: int) -> None:
        calls.append((stage, done))
        raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        await job(services).run(batch_size=1, progress=crash_after_first_batch)
    assert calls == [("messages", 1)]
    remaining = await services.stores.db["messages"].count_documents(
        {"conv": seeded["conv"], "purged": {"$ne": True}}
    )
    assert remaining == 2  # one of the two old ones is done

    stages: list[str] = []
    report = await job(services).run(batch_size=1, progress=lambda t, s, n: stages.append(s))
    assert report.messages_purged == 1 and report.keys_destroyed == 3
    assert {"messages", "attachments", "keys"} <= set(stages)
    assert (
        await services.stores.db["messages"].count_documents(
            {"conv": seeded["conv"], "purged": True}
        )
        == 2
    )
    assert await job(services).run() == RetentionReport(tenants=1)


async def test_held_conversation_is_not_purged(services: Services, tenant: TenantKit) -> None:
    seeded = await seed(services, tenant)
    await use_gdpr(services, tenant)
    holds = LegalHolds(services.stores.db, services.audit, services.clock)
    await holds.set(tenant.id, seeded["conv"], OFFICER, "case-2025-7")
    manual(services).advance(265 * DAY)

    report = await RetentionJob.from_services(services, holds).run()

    assert (report.messages_purged, report.attachments_purged) == (0, 0)
    assert report.held_conversations == 1
    # The January keys still seal held messages, so only the tenant's is shredded.
    assert report.keys_destroyed == 1
    services.keys.forget_cache()
    texts = [m.text for m in await history(services, seeded["buyer"], seeded["conv"])]
    assert texts == ["january question", "january answer", "june note"]


async def test_cli_purge_reports_progress_and_summary(
    services: Services, tenant: TenantKit, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(services, tenant)  # 2025; the command runs on the real clock, years later
    await use_gdpr(services, tenant)
    args = cli_args("retention", "purge", "--tenant", tenant.id, "--batch", "1")
    assert await run_compliance_async(args, services.settings) == 0
    out, err = capsys.readouterr()
    assert "messages 3" in err
    assert out.startswith("done: 1 tenants, 3 messages purged, 2 attachments purged")


async def test_a_tenant_that_fails_does_not_stop_the_others(
    services: Services, tenant: TenantKit
) -> None:
    seeded = await seed(services, tenant)
    await use_gdpr(services, tenant)
    broken = await create_tenant(services, "Broken shop")
    await services.stores.db["policy_history"].insert_one(
        {"tenant": broken.id, "version": 1, "new": {"preset": "nonsense"}}
    )
    manual(services).advance(265 * DAY)
    report = await job(services).run()
    assert (report.tenants, report.tenants_failed, report.messages_purged) == (1, 1, 2)
    assert "1 FAILED" in report.summary()
    texts = [m.text for m in await history(services, seeded["buyer"], seeded["conv"])]
    assert texts == [None, None, "june note"]
