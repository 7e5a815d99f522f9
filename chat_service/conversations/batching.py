"""Group commit of message inserts: one ``insert_many`` for whatever is waiting.

The store answers a few hundred single inserts a second but thousands of
documents a second in batches, so appends queue here and one writer task
flushes everything queued while the previous flush was in flight: no
artificial delay when idle, bigger batches under load.

Sequence numbers keep their guarantee (the insert *is* the allocation, see
``repository``): each batch is inserted ``ordered``, so within a conversation
the entries keep their queue order; at the first duplicate-key error the rest
of the batch is re-queued in order. The failed entry is either a resend (its
``idem`` exists: the original is returned) or lost a race for its ``seq``
(the last seq is re-read and it is tried again).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

from chat_service.conversations.seqs import SeqCache
from chat_service.errors import Unavailable
from chat_service.group_commit import LotWriter

__all__ = ["MessageBatcher"]

log = logging.getLogger(__name__)
Doc = dict[str, Any]
_MAX_ATTEMPTS = 64


@dataclass
class _Pending:
    doc: Doc
    future: asyncio.Future[tuple[Doc, bool]]
    attempts: int = field(default=0)


class MessageBatcher(LotWriter[_Pending]):
    def __init__(
        self,
        messages: AsyncCollection[Doc],
        seqs: SeqCache,
        *,
        max_batch: int = 256,
    ) -> None:
        self._messages = messages
        self._seqs = seqs
        super().__init__("message-batcher", max_batch=max_batch)

    async def append(self, doc: Doc) -> tuple[Doc, bool]:
        """Store ``doc`` with the next free ``seq``; (stored doc, created)."""
        future: asyncio.Future[tuple[Doc, bool]] = asyncio.get_running_loop().create_future()
        self._submit(_Pending(doc, future))
        return await future

    def _failure(self, exc: Exception) -> BaseException:
        log.error("message batch failed", exc_info=exc)
        return (
            exc
            if isinstance(exc, Unavailable)
            else Unavailable("the store did not accept the message")
        )

    async def _write(self, batch: list[_Pending]) -> None:
        next_seq: dict[str, int] = {}
        docs = []
        for item in batch:
            conv = item.doc["conv"]
            if conv not in next_seq:
                next_seq[conv] = await self._seqs.last(conv) + 1
            docs.append({**item.doc, "seq": next_seq[conv]})
            next_seq[conv] += 1
        failed_at: int | None = None
        try:
            await self._messages.insert_many(docs, ordered=True)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if not errors or errors[0].get("code") != 11000:
                raise Unavailable("the store refused the messages") from exc
            failed_at = int(errors[0]["index"])
        except PyMongoError as exc:
            raise Unavailable("the store did not accept the messages") from exc
        stored = docs if failed_at is None else docs[:failed_at]
        for doc in stored:
            self._seqs.observe(doc["conv"], doc["seq"])
        for item, doc in zip(batch, stored, strict=False):
            item.future.set_result((doc, True))
        if failed_at is not None:
            await self._recover(batch[failed_at], batch[failed_at + 1 :])

    async def _recover(self, failed: _Pending, rest: list[_Pending]) -> None:
        existing = await self._messages.find_one(
            {"conv": failed.doc["conv"], "idem": failed.doc["idem"]}
        )
        retry = list(rest)
        if existing is not None:
            failed.future.set_result((existing, False))
        else:
            await self._seqs.refresh(failed.doc["conv"])
            retry.insert(0, failed)
        for item in reversed(retry):
            item.attempts += 1
            if item.attempts > _MAX_ATTEMPTS:
                item.future.set_exception(
                    Unavailable("too much contention allocating a message sequence number")
                )
                continue
            self._queue.appendleft(item)
