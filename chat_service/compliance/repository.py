"""Policies in MongoDB, as an append-only history.

Collection::

    policy_history {_id: "<tenant>|<version>", tenant, version, at, actor,
                    changed_fields, old, new}

The policy in force is the entry with the highest version; there is no
separate "current" document to fall out of step with the history. The insert
of version N+1 *is* the change: the unique ``_id`` lets one of two
concurrent editors win and the other learn that it lost.
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chat_service.errors import Conflict

__all__ = ["PolicyRepository"]

Doc = dict[str, Any]


class PolicyRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._history = db["policy_history"]

    async def ensure_indexes(self) -> None:
        await self._history.create_index(
            [("tenant", DESCENDING), ("version", DESCENDING)], name="tenant_version"
        )

    async def latest(self, tenant: str) -> Doc | None:
        return await self._history.find_one({"tenant": tenant}, sort=[("version", DESCENDING)])

    async def append(self, entry: Doc) -> None:
        try:
            await self._history.insert_one(
                {"_id": f"{entry['tenant']}|{entry['version']}", **entry}
            )
        except DuplicateKeyError:
            raise Conflict(
                "the policy was changed by someone else meanwhile; reload and try again",
                code="policy_changed_concurrently",
            ) from None

    async def page(self, tenant: str, *, before_version: int | None, limit: int) -> list[Doc]:
        query: Doc = {"tenant": tenant}
        if before_version is not None:
            query["version"] = {"$lt": before_version}
        cursor = self._history.find(query).sort("version", DESCENDING).limit(limit)
        return await cursor.to_list(None)
