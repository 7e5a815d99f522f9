"""Many writers, one chain: appends from one process and from two clients."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from chat_service.audit import AuditActor, AuditLog, AuditRepository
from chat_service.audit.chain import GENESIS_HASH
from chat_service.clock import ManualClock
from chat_service.config import Settings
from chat_service.errors import Unavailable
from chat_service.services import Services
from tests.audit.conftest import OFFICER, TENANT

Raw = AsyncCollection[dict[str, Any]]


async def _view(log: AuditLog, who: str, i: int) -> None:
    await log.record(
        TENANT,
        AuditActor(type="staff", id=who),
        "conversation.viewed_by_staff",
        target_type="conversation",
        target_id=f"c{i}",
    )


async def _assert_dense_and_valid(audit: AuditLog, raw: Raw, count: int) -> list[dict[str, Any]]:
    docs = await raw.find({"tenant": TENANT}).sort("seq", 1).to_list(None)
    assert [d["seq"] for d in docs] == list(range(1, count + 1))
    assert [d["prev_hash"] for d in docs[1:]] == [d["hash"] for d in docs[:-1]]
    report = await audit.verify(TENANT)
    assert report.ok, report.broken
    assert report.entries_checked == count
    return docs


async def test_fifty_concurrent_records_make_a_dense_valid_chain(audit: AuditLog, raw: Raw) -> None:
    await asyncio.gather(*(_view(audit, "staff-1", i) for i in range(50)))
    docs = await _assert_dense_and_valid(audit, raw, 50)
    assert sorted(d["target_id"] for d in docs) == sorted(f"c{i}" for i in range(50))


async def test_two_clients_appending_at_once_make_one_dense_valid_chain(
    settings: Settings, audit: AuditLog, raw: Raw
) -> None:
    # A second client, as another process would have: its own pool, and
    # without tz_aware, so it reads times back naive.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    try:
        other = AuditLog(AuditRepository(client[settings.mongo_db]), ManualClock())
        writes = [_view(audit, "staff-a", i) for i in range(25)]
        writes += [_view(other, "staff-b", i) for i in range(25)]
        await asyncio.gather(*writes)
        docs = await _assert_dense_and_valid(audit, raw, 50)
        assert sum(d["actor"]["id"] == "staff-a" for d in docs) == 25
        assert sum(d["actor"]["id"] == "staff-b" for d in docs) == 25
        # The naive-time client verifies and reads the same chain.
        assert (await other.verify(TENANT)).ok
        newest = (await other.search(TENANT)).entries[0]
        assert newest.seq == 50 and newest.at.tzinfo is not None
    finally:
        await client.close()


class _StaleHead(AuditRepository):
    """Always believes the chain is empty, as a writer would that keeps losing."""

    async def _head(self, tenant: str) -> tuple[int, str]:
        return 0, GENESIS_HASH


async def test_a_writer_that_keeps_losing_gives_up_with_a_clear_error(
    services: Services, audit: AuditLog, raw: Raw
) -> None:
    await _view(audit, "staff-1", 1)
    loser = AuditLog(_StaleHead(services.stores.db, max_attempts=3), ManualClock())
    with pytest.raises(Unavailable) as raised:
        await loser.record(
            TENANT, OFFICER, "subject.erased", target_type="subject", target_id="buyer-1"
        )
    assert raised.value.code == "audit_busy"
    assert await raw.count_documents({}) == 1
    assert (await audit.verify(TENANT)).ok
