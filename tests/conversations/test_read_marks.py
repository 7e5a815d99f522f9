"""Read marks by group commit: concurrent marks share a write and each caller
gets the mark that is stored."""

from __future__ import annotations

import asyncio
import socket

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError

from chat_service.conversations.read_marks import ReadMarkBatcher
from chat_service.services import Services


async def test_concurrent_marks_of_many_users_are_all_stored(services: Services) -> None:
    reads = services.stores.db["reads"]
    batcher = ReadMarkBatcher(reads)
    marks = await asyncio.gather(*(batcher.mark("t1", "c_r1", f"u{i}", i + 1) for i in range(40)))
    assert marks == [i + 1 for i in range(40)]
    docs = await reads.find({"conv": "c_r1"}).to_list(None)
    assert {d["user"]: d["seq"] for d in docs} == {f"u{i}": i + 1 for i in range(40)}
    assert all(d["tenant"] == "t1" and d["_id"] == f"c_r1|{d['user']}" for d in docs)


async def test_a_lower_mark_returns_the_higher_one_already_stored(services: Services) -> None:
    reads = services.stores.db["reads"]
    batcher = ReadMarkBatcher(reads)
    assert await batcher.mark("t1", "c_r2", "u1", 9) == 9
    lower, other, same_key_lower, same_key_higher = await asyncio.gather(
        batcher.mark("t1", "c_r2", "u1", 4),
        batcher.mark("t1", "c_r2", "u2", 3),
        batcher.mark("t1", "c_r2", "u3", 5),
        batcher.mark("t1", "c_r2", "u3", 7),
    )
    assert (lower, other) == (9, 3)
    # Two marks of one user in one batch: the later one can only see its own or higher.
    assert same_key_lower in (5, 7) and same_key_higher == 7
    assert (await reads.find_one({"_id": "c_r2|u1"}) or {})["seq"] == 9
    assert (await reads.find_one({"_id": "c_r2|u3"}) or {})["seq"] == 7


async def test_first_marks_racing_from_two_processes_both_succeed(services: Services) -> None:
    reads = services.stores.db["reads"]
    one, two = ReadMarkBatcher(reads), ReadMarkBatcher(reads)
    pairs = ((one, 2), (two, 3))
    for round_ in range(5):
        conv = f"c_race{round_}"
        results = await asyncio.gather(
            *(b.mark("t1", conv, f"u{i}", seq) for i in range(10) for b, seq in pairs)
        )
        assert results[1::2] == [3] * 10  # the higher mark is always its own
        assert set(results[0::2]) <= {2, 3}  # the lower one sees its own or the higher
        stored = await reads.find({"conv": conv}).to_list(None)
        assert len(stored) == 10 and all(d["seq"] == 3 for d in stored)


async def test_a_store_that_is_gone_fails_every_caller_of_the_batch() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=200
    )
    try:
        batcher = ReadMarkBatcher(client["chat"]["reads"])
        results = await asyncio.gather(
            *(batcher.mark("t1", "c_gone", f"u{i}", 1) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, ServerSelectionTimeoutError) for r in results)
        with pytest.raises(ServerSelectionTimeoutError):  # and the next one still tries
            await batcher.mark("t1", "c_gone", "u9", 1)
    finally:
        await client.close()
