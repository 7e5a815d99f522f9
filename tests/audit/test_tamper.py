"""The chain catches what is done to the raw collection behind the service's back."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from chat_service.audit import SYSTEM_TENANT, AuditLog, AuditRepository
from chat_service.audit.chain import seal_entry
from chat_service.clock import ManualClock
from chat_service.errors import IntegrityError
from chat_service.services import Services
from tests.audit.conftest import OTHER_TENANT, TENANT, record_views

Raw = AsyncCollection[dict[str, Any]]


async def test_an_untouched_chain_verifies(audit: AuditLog) -> None:
    await record_views(audit, TENANT, 10)
    report = await audit.verify(TENANT)
    assert report.ok and report.broken is None
    assert (report.entries_checked, report.last_seq) == (10, 10)
    assert report.head_hash == (await audit.search(TENANT)).entries[0].hash
    empty = await audit.verify("t_nothing_here")
    assert empty.ok and empty.entries_checked == 0


async def test_verify_reads_the_chain_in_batches(
    services: Services, audit: AuditLog, audit_clock: ManualClock
) -> None:
    await record_views(audit, TENANT, 23)
    small_batches = AuditLog(AuditRepository(services.stores.db), audit_clock, verify_batch_size=5)
    calls: list[tuple[str, int]] = []
    report = await small_batches.verify(TENANT, progress=lambda t, n: calls.append((t, n)))
    assert report.ok and report.entries_checked == 23
    assert calls == [(TENANT, n) for n in (5, 10, 15, 20, 23)]


async def test_an_edited_entry_is_found_at_its_seq(audit: AuditLog, raw: Raw) -> None:
    await record_views(audit, TENANT, 8)
    result = await raw.update_one(
        {"tenant": TENANT, "seq": 5}, {"$set": {"details.reason": "routine_check"}}
    )
    assert result.modified_count == 1
    report = await audit.verify(TENANT)
    assert not report.ok and report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (5, "hash_mismatch")
    assert report.entries_checked == 4 and report.last_seq == 4


@pytest.mark.parametrize(
    "change",
    [
        {"$set": {"actor.id": "staff-1"}},
        {"$set": {"action": "staff.signed_in"}},
        {"$set": {"target_id": "c99"}},
        {"$unset": {"details.ticket": ""}},
        {"$set": {"note": "innocent"}},
    ],
)
async def test_each_kind_of_edit_is_found(
    audit: AuditLog, raw: Raw, change: dict[str, Any]
) -> None:
    await record_views(audit, TENANT, 4)
    await raw.update_one({"tenant": TENANT, "seq": 2}, change)
    report = await audit.verify(TENANT)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (2, "hash_mismatch")


async def test_a_deleted_middle_entry_is_found_at_its_seq(audit: AuditLog, raw: Raw) -> None:
    await record_views(audit, TENANT, 8)
    await raw.delete_one({"tenant": TENANT, "seq": 4})
    report = await audit.verify(TENANT)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (4, "seq_gap")
    assert report.entries_checked == 3


async def test_a_deleted_entry_hidden_by_renumbering_is_found(audit: AuditLog, raw: Raw) -> None:
    await record_views(audit, TENANT, 6)
    await raw.delete_one({"tenant": TENANT, "seq": 3})
    for seq in (4, 5, 6):
        await raw.update_one({"tenant": TENANT, "seq": seq}, {"$inc": {"seq": -1}})
    report = await audit.verify(TENANT)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (3, "hash_mismatch")


async def test_a_forged_replacement_breaks_the_next_link(audit: AuditLog, raw: Raw) -> None:
    """A forger who recomputes the hash of the entry they replace still cannot
    make the next entry point at it."""
    await record_views(audit, TENANT, 5)
    original = await raw.find_one({"tenant": TENANT, "seq": 3})
    assert original is not None
    forged = seal_entry(
        tenant=TENANT,
        seq=3,
        at=original["at"],
        actor=original["actor"],
        action="staff.signed_in",
        target_type="staff",
        target_id="staff-7",
        details={},
        prev_hash=original["prev_hash"],
    )
    await raw.replace_one({"_id": original["_id"]}, forged)
    report = await audit.verify(TENANT)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (4, "prev_mismatch")
    assert report.entries_checked == 3


async def test_verify_all_checks_each_chain_on_its_own(audit: AuditLog, raw: Raw) -> None:
    await record_views(audit, TENANT, 3)
    await record_views(audit, OTHER_TENANT, 4)
    await record_views(audit, SYSTEM_TENANT, 2)
    reports = await audit.verify_all()
    assert [(r.tenant, r.ok, r.entries_checked) for r in reports] == [
        (SYSTEM_TENANT, True, 2),
        (TENANT, True, 3),
        (OTHER_TENANT, True, 4),
    ]
    await raw.update_one({"tenant": OTHER_TENANT, "seq": 2}, {"$set": {"target_id": "c77"}})
    reports = await audit.verify_all()
    assert [(r.tenant, r.ok) for r in reports] == [
        (SYSTEM_TENANT, True),
        (TENANT, True),
        (OTHER_TENANT, False),
    ]
    assert reports[2].broken is not None and reports[2].broken.seq == 2


async def test_a_malformed_entry_is_an_integrity_error_when_read(audit: AuditLog, raw: Raw) -> None:
    await record_views(audit, TENANT, 2)
    await raw.update_one({"tenant": TENANT, "seq": 2}, {"$set": {"details": {"x": {"y": 1}}}})
    with pytest.raises(IntegrityError) as raised:
        await audit.search(TENANT)
    assert raised.value.code == "audit_entry_malformed"
    report = await audit.verify(TENANT)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (2, "hash_mismatch")
