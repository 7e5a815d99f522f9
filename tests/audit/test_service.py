"""Recording and searching the audit log against the real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from chat_service.audit import SYSTEM_TENANT, AuditActor, AuditLog, AuditQuery, AuditRepository
from chat_service.audit.chain import GENESIS_HASH
from chat_service.clock import ManualClock
from chat_service.errors import BadRequest
from tests.audit.conftest import OFFICER, OTHER_TENANT, TENANT, VIEWER
from tests.audit.test_rules import MESSAGE_TEXT, REFUSED_DETAILS

Raw = AsyncCollection[dict[str, Any]]


async def test_an_entry_is_recorded_and_read_back(
    audit: AuditLog, audit_clock: ManualClock, raw: Raw
) -> None:
    audit_clock.advance(0.0015)  # sub-millisecond part is cut to what the store keeps
    first = await audit.record(
        TENANT,
        OFFICER,
        "policy.changed",
        target_type="policy",
        target_id=TENANT,
        details={"old_version": 1, "new_version": 2, "preset": "gdpr", "full_text": False},
    )
    assert first.seq == 1
    assert first.at == datetime(2026, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
    assert first.prev_hash == GENESIS_HASH
    assert len(first.hash) == 64 and first.hash != GENESIS_HASH
    assert first.actor == OFFICER
    assert first.details == {
        "old_version": 1,
        "new_version": 2,
        "preset": "gdpr",
        "full_text": False,
    }

    audit_clock.advance(60)
    second = await audit.record(
        TENANT, VIEWER, "staff.signed_in", target_type="staff", target_id="staff-9"
    )
    assert (second.seq, second.prev_hash, second.details) == (2, first.hash, {})

    page = await audit.search(TENANT)
    assert page.entries == [second, first]
    assert page.next_before_seq is None
    stored = await raw.find_one({"tenant": TENANT, "seq": 1})
    assert stored is not None
    assert stored["hash"] == first.hash and stored["v"] == 1


async def test_global_actions_go_to_the_system_chain(audit: AuditLog) -> None:
    entry = await audit.record(
        SYSTEM_TENANT,
        AuditActor.system("cli"),
        "keys.rotated",
        target_type="keys",
        target_id="kek:2",
        details={"examined": 120, "rewrapped": 118, "kek_version": 2},
    )
    assert (entry.tenant, entry.seq) == (SYSTEM_TENANT, 1)
    assert (await audit.search(TENANT)).entries == []
    assert (await audit.search(SYSTEM_TENANT)).entries == [entry]
    # Each chain has its own numbering.
    other = await audit.record(
        TENANT, OFFICER, "subject.exported", target_type="subject", target_id="buyer-1"
    )
    assert other.seq == 1


@pytest.mark.parametrize(("case", "details"), REFUSED_DETAILS, ids=[c for c, _ in REFUSED_DETAILS])
async def test_refused_details_store_nothing(
    audit: AuditLog, raw: Raw, case: str, details: Any
) -> None:
    with pytest.raises(BadRequest) as raised:
        await audit.record(
            TENANT,
            OFFICER,
            "conversation.viewed_by_staff",
            target_type="conversation",
            target_id="c1",
            details=details,
        )
    assert raised.value.code == "audit_details_invalid"
    assert await raw.count_documents({}) == 0
    assert MESSAGE_TEXT not in str(raised.value)


@pytest.mark.parametrize(
    ("tenant", "actor", "action", "target", "code"),
    [
        (TENANT, OFFICER, "message.created", ("conversation", "c1"), "audit_action_unknown"),
        ("$where", OFFICER, "subject.erased", ("subject", "u1"), "audit_entry_invalid"),
        (TENANT, OFFICER, "subject.erased", ("subject", "Jane Doe"), "audit_entry_invalid"),
        (TENANT, OFFICER, "subject.erased", ("Subject", "u1"), "audit_entry_invalid"),
        (
            TENANT,
            AuditActor.model_construct(type="staff", id="Jane Doe", role=None),
            "subject.erased",
            ("subject", "u1"),
            "audit_entry_invalid",
        ),
    ],
)
async def test_refused_entries_store_nothing(
    audit: AuditLog, raw: Raw, tenant: str, actor: AuditActor, action: Any, target: Any, code: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        await audit.record(tenant, actor, action, target_type=target[0], target_id=target[1])
    assert raised.value.code == code
    assert await raw.count_documents({}) == 0


def test_the_store_offers_no_way_to_change_or_remove_entries() -> None:
    verbs = ("update", "delete", "remove", "replace", "edit", "drop", "purge", "clear", "set")
    for cls in (AuditRepository, AuditLog):
        for name in (n for n in vars(cls) if not n.startswith("__")):
            assert not name.lstrip("_").startswith(verbs), f"{cls.__name__}.{name}"


async def _seed_for_search(audit: AuditLog, clock: ManualClock) -> None:
    """12 entries, one a minute from 00:01: views of c1..c4 by two staff
    members, two exports, a sign-in each, and a policy change."""
    plan: list[tuple[AuditActor, Any, str, str]] = [
        (OFFICER, "staff.signed_in", "staff", "staff-7"),
        (VIEWER, "staff.signed_in", "staff", "staff-9"),
        (OFFICER, "conversation.viewed_by_staff", "conversation", "c1"),
        (VIEWER, "conversation.viewed_by_staff", "conversation", "c2"),
        (OFFICER, "conversation.viewed_by_staff", "conversation", "c1"),
        (OFFICER, "subject.exported", "subject", "buyer-1"),
        (VIEWER, "conversation.viewed_by_staff", "conversation", "c3"),
        (OFFICER, "policy.changed", "policy", TENANT),
        (VIEWER, "conversation.viewed_by_staff", "conversation", "c4"),
        (OFFICER, "subject.exported", "subject", "seller-1"),
        (OFFICER, "conversation.viewed_by_staff", "conversation", "c1"),
        (VIEWER, "staff.signed_out", "staff", "staff-9"),
    ]
    for actor, action, target_type, target_id in plan:
        clock.advance(60)
        await audit.record(TENANT, actor, action, target_type=target_type, target_id=target_id)


async def _seqs(audit: AuditLog, tenant: str = TENANT, **filters: Any) -> list[int]:
    page = await audit.search(tenant, AuditQuery(**filters))
    return [e.seq for e in page.entries]


async def test_search_filters(audit: AuditLog, audit_clock: ManualClock) -> None:
    await _seed_for_search(audit, audit_clock)
    await audit.record(
        OTHER_TENANT, OFFICER, "staff.signed_in", target_type="staff", target_id="staff-7"
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)

    assert await _seqs(audit) == list(range(12, 0, -1))
    assert await _seqs(audit, action="subject.exported") == [10, 6]
    assert await _seqs(audit, actor_id="staff-9") == [12, 9, 7, 4, 2]
    assert await _seqs(audit, target_id="c1") == [11, 5, 3]
    assert await _seqs(audit, target_type="staff") == [12, 2, 1]
    assert await _seqs(audit, action="conversation.viewed_by_staff", actor_id="staff-7") == [
        11,
        5,
        3,
    ]
    # ``since`` inclusive, ``until`` exclusive: minutes 3..5 are entries 3, 4, 5.
    window = {"since": start + timedelta(minutes=3), "until": start + timedelta(minutes=6)}
    assert await _seqs(audit, **window) == [5, 4, 3]
    assert await _seqs(audit, actor_id="staff-9", **window) == [4]
    assert await _seqs(audit, target_id="nobody") == []
    # One tenant never sees another's entries.
    assert await _seqs(audit, OTHER_TENANT) == [1]
    assert await _seqs(audit, OTHER_TENANT, target_id="c1") == []


async def test_search_pages_newest_first_with_a_cursor(
    audit: AuditLog, audit_clock: ManualClock
) -> None:
    await _seed_for_search(audit, audit_clock)
    seen: list[int] = []
    cursor: int | None = None
    pages = 0
    while True:
        page = await audit.search(TENANT, AuditQuery(limit=5, before_seq=cursor))
        pages += 1
        seen += [e.seq for e in page.entries]
        cursor = page.next_before_seq
        if cursor is None:
            break
        assert cursor == page.entries[-1].seq
    assert pages == 3
    assert seen == list(range(12, 0, -1))

    views: list[int] = []
    cursor = None
    while True:
        query = AuditQuery(action="conversation.viewed_by_staff", limit=2, before_seq=cursor)
        page = await audit.search(TENANT, query)
        views += [e.seq for e in page.entries]
        if (cursor := page.next_before_seq) is None:
            break
    assert views == [11, 9, 7, 5, 4, 3]
    # A page that ends exactly at the last entry says there is no next one.
    exact = await audit.search(TENANT, AuditQuery(limit=12))
    assert len(exact.entries) == 12 and exact.next_before_seq is None
