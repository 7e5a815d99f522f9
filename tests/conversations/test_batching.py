"""Group commit: batches keep queue order per conversation and survive seq races."""

import asyncio
from datetime import UTC, datetime

from chat_service.conversations.repository import MessageRepository
from chat_service.ids import new_id
from chat_service.services import Services


def entry(conv: str, idem: str) -> dict[str, object]:
    return {
        "_id": new_id("m"),
        "conv": conv,
        "idem": idem,
        "created_at": datetime.now(UTC),
    }


async def test_a_batch_keeps_order_and_recovers_from_a_stale_guess(services: Services) -> None:
    db = services.stores.db
    other_process = MessageRepository(db)
    await other_process.append(entry("c_1", "other|1"))
    await other_process.append(entry("c_1", "other|2"))
    stale = MessageRepository(db)
    stale.seqs.observe("c_1", 0, force=True)  # has not heard of the other two
    results = await asyncio.gather(*[stale.append(entry("c_1", f"me|{i}")) for i in range(5)])
    assert [doc["seq"] for doc, created in results] == [3, 4, 5, 6, 7]
    assert all(created for _, created in results)
    assert (await stale.activity(["c_1"]))["c_1"][0] == 7


async def test_a_resend_inside_a_batch_returns_the_original(services: Services) -> None:
    repo = MessageRepository(services.stores.db)
    first, _ = await repo.append(entry("c_2", "me|a"))
    results = await asyncio.gather(
        repo.append(entry("c_2", "me|b")),
        repo.append(entry("c_2", "me|a")),
        repo.append(entry("c_2", "me|c")),
    )
    assert [(doc["seq"], created) for doc, created in results] == [(2, True), (1, False), (3, True)]
    assert results[1][0]["_id"] == first["_id"]
    assert await services.stores.db["messages"].count_documents({"conv": "c_2"}) == 3


async def test_many_conversations_in_one_batch(services: Services) -> None:
    repo = MessageRepository(services.stores.db)
    sends = [repo.append(entry(f"c_{i % 7}", f"u|{i}")) for i in range(70)]
    results = await asyncio.gather(*sends)
    per_conv: dict[str, list[int]] = {}
    for doc, _ in results:
        per_conv.setdefault(doc["conv"], []).append(doc["seq"])
    assert all(seqs == list(range(1, 11)) for seqs in per_conv.values())
    assert len(per_conv) == 7
