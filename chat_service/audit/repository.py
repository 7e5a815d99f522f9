"""Audit entries in MongoDB, append-only.

Collection::

    audit_log {_id, v, tenant, seq, at, actor{type, id, role}, action,
               target_type, target_id, details, prev_hash, hash}

The insert of an entry *is* the allocation of its ``seq``: the unique index on
``(tenant, seq)`` lets exactly one writer win each number, in this process or
any other. A loser reads the new head and tries again, so a chain stays dense
and every entry names the hash of the one before. Within a process, appends to
one chain wait for each other (a lock per tenant), so only other processes
cause retries.

There is deliberately no method that updates or deletes an entry.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError

from chat_service.audit.chain import GENESIS_HASH
from chat_service.audit.schemas import AuditQuery
from chat_service.errors import Unavailable

__all__ = ["AuditRepository", "BuildEntry"]

Doc = dict[str, Any]
# Builds the document to insert as entry ``seq`` after ``prev_hash``.
BuildEntry = Callable[[int, str], Doc]


class AuditRepository:
    def __init__(self, db: AsyncDatabase[Doc], *, max_attempts: int = 30) -> None:
        self._log = db["audit_log"]
        self._max_attempts = max_attempts
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def ensure_indexes(self) -> None:
        await self._log.create_index(
            [("tenant", ASCENDING), ("seq", ASCENDING)], unique=True, name="tenant_seq"
        )
        # Console filters; entries are few next to messages, so each is cheap.
        for field in ("action", "actor.id", "target_id"):
            await self._log.create_index(
                [("tenant", ASCENDING), (field, ASCENDING), ("seq", DESCENDING)],
                name=f"tenant_{field.replace('.', '_')}_seq",
            )

    async def append(self, tenant: str, build: BuildEntry) -> Doc:
        """Insert ``build(seq, prev_hash)`` at the head of ``tenant``'s chain."""
        lock = self._locks.get(tenant)
        if lock is None:
            lock = self._locks[tenant] = asyncio.Lock()
        async with lock:
            for attempt in range(self._max_attempts):
                seq, prev_hash = await self._head(tenant)
                doc = build(seq + 1, prev_hash)
                try:
                    await self._log.insert_one(doc)
                    return doc
                except DuplicateKeyError:
                    # Another process took this seq; back off a little, with
                    # jitter so two writers do not collide in step again.
                    await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311
                except ConnectionFailure:
                    raise Unavailable("the audit log is unavailable") from None
        raise Unavailable(
            f"audit chain of {tenant} is too busy; gave up after {self._max_attempts} attempts",
            code="audit_busy",
        )

    async def append_many(self, tenant: str, builds: list[BuildEntry]) -> list[Doc]:
        """Insert ``builds`` as consecutive entries at the head of the chain,
        one ``insert_many`` per try (a bulk job's entries cost one round trip,
        not one each). Ordered: if another process took a seq midway, the
        entries stored so far stay and the rest are rebuilt on the new head."""
        lock = self._locks.get(tenant)
        if lock is None:
            lock = self._locks[tenant] = asyncio.Lock()
        stored: list[Doc] = []
        async with lock:
            for attempt in range(self._max_attempts):
                if len(stored) == len(builds):
                    return stored
                seq, prev_hash = await self._head(tenant)
                docs = []
                for build in builds[len(stored) :]:
                    seq += 1
                    doc = build(seq, prev_hash)
                    prev_hash = doc["hash"]
                    docs.append(doc)
                try:
                    await self._log.insert_many(docs, ordered=True)
                    return stored + docs
                except BulkWriteError as exc:
                    stored += docs[: int(exc.details.get("nInserted", 0))]
                    await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311
                except ConnectionFailure:
                    raise Unavailable("the audit log is unavailable") from None
        raise Unavailable(
            f"audit chain of {tenant} is too busy; gave up after {self._max_attempts} attempts",
            code="audit_busy",
        )

    async def _head(self, tenant: str) -> tuple[int, str]:
        try:
            head = await self._log.find_one(
                {"tenant": tenant}, {"seq": 1, "hash": 1}, sort=[("seq", DESCENDING)]
            )
        except ConnectionFailure:
            raise Unavailable("the audit log is unavailable") from None
        if head is None:
            return 0, GENESIS_HASH
        return int(head["seq"]), str(head["hash"])

    async def page(self, tenant: str, query: AuditQuery) -> list[Doc]:
        """Up to ``query.limit + 1`` entries of ``tenant`` matching ``query``,
        newest first (the extra one tells the caller there is a next page)."""
        where: Doc = {"tenant": tenant}
        if query.action is not None:
            where["action"] = query.action
        if query.actor_id is not None:
            where["actor.id"] = query.actor_id
        if query.target_type is not None:
            where["target_type"] = query.target_type
        if query.target_id is not None:
            where["target_id"] = query.target_id
        if query.before_seq is not None:
            where["seq"] = {"$lt": query.before_seq}
        at: Doc = {}
        if query.since is not None:
            at["$gte"] = query.since
        if query.until is not None:
            at["$lt"] = query.until
        if at:
            where["at"] = at
        cursor = self._log.find(where).sort("seq", DESCENDING).limit(query.limit + 1)
        return await cursor.to_list(None)

    async def stream(
        self, tenant: str, *, batch_size: int = 500
    ) -> AsyncGenerator[list[Doc], None]:
        """The whole chain of ``tenant`` in ``seq`` order, one batch at a time
        (each batch a fresh query after the last seq seen, so no cursor stays
        open for the length of a long check)."""
        after = 0
        while True:
            cursor = (
                self._log.find({"tenant": tenant, "seq": {"$gt": after}})
                .sort("seq", ASCENDING)
                .limit(batch_size)
            )
            batch = await cursor.to_list(None)
            if not batch:
                return
            yield batch
            after = batch[-1]["seq"]

    async def tenants(self) -> list[str]:
        """Every tenant that has a chain, sorted."""
        found = await self._log.distinct("tenant")
        return sorted(str(t) for t in found)

    async def count(self, tenant: str) -> int:
        return await self._log.count_documents({"tenant": tenant})
