"""Read marks, written by group commit: one ``bulk_write`` for whatever waits.

A mark is ``{_id: "<conv>|<user>", tenant, conv, user, seq}`` and only ever
rises (``$max``, upsert). Every socket with a conversation open sends them, so
at thousands of sockets they are most of the store's writes (bench/README.md);
concurrent marks go out as one unordered ``bulk_write`` of ``update_one``
upserts. When every update changed its mark, each caller's mark is the one it
asked for; otherwise one ``find`` of the batch's marks tells the callers whose
mark was already higher what is stored. Two first marks of one key racing to
insert lose one upsert to a duplicate key; that one is simply written again
and now finds the document. (No ``findAndModify``: the embedded store runs it
as a scan of the whole collection.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from chat_service.group_commit import LotWriter

__all__ = ["ReadMarkBatcher"]

Doc = dict[str, Any]
_DUPLICATE_KEY = 11000


@dataclass
class _Mark:
    tenant: str
    conv: str
    user: str
    seq: int
    future: asyncio.Future[int]

    @property
    def key(self) -> str:
        return f"{self.conv}|{self.user}"

    def change(self) -> Doc:
        return {
            "$max": {"seq": self.seq},
            "$setOnInsert": {"tenant": self.tenant, "conv": self.conv, "user": self.user},
        }


class ReadMarkBatcher(LotWriter[_Mark]):
    def __init__(self, reads: AsyncCollection[Doc], *, max_batch: int = 256) -> None:
        self._reads = reads
        super().__init__("read-mark-batcher", max_batch=max_batch)

    async def mark(self, tenant: str, conv_id: str, user_id: str, seq: int) -> int:
        """Raise the mark to ``seq``; returns the mark now stored (higher when it
        already was). Store errors reach the caller as they are."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._submit(_Mark(tenant, conv_id, user_id, seq, future))
        return await future

    async def _write(self, batch: list[_Mark]) -> None:
        changed = 0
        try:
            result = await self._reads.bulk_write(
                [UpdateOne({"_id": m.key}, m.change(), upsert=True) for m in batch],
                ordered=False,
            )
            changed = result.modified_count + result.upserted_count
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            # The racing first marks: their documents exist now, so this updates them.
            for error in errors:
                retry = batch[int(error["index"])]
                await self._reads.update_one({"_id": retry.key}, retry.change(), upsert=True)
        if changed == len(batch):
            for item in batch:
                item.future.set_result(item.seq)
            return
        keys = list({m.key for m in batch})
        stored = {
            str(d["_id"]): int(d["seq"])
            for d in await self._reads.find({"_id": {"$in": keys}}, {"seq": 1}).to_list(None)
        }
        for item in batch:
            item.future.set_result(max(item.seq, stored.get(item.key, item.seq)))
