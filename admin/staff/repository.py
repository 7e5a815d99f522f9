"""Staff accounts, sign-in attempts and sessions in MongoDB.

Collections::

    staff_users    {_id: staff id, tenant, login, role, password_hash, disabled, created_at}
    staff_attempts {_id: "<tenant>|<login>", failures, locked_until, updated_at}
    staff_sessions {_id: sha256 of the cookie value, staff_id, tenant, login, role,
                    csrf, created_at, last_seen}

Sessions are stored under a hash of the cookie value, so a copy of the store
cannot be replayed as a session. Attempts are kept per (tenant, login) whether
or not the login exists, so a lockout reveals nothing about accounts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chat_service.errors import Conflict

__all__ = ["StaffRepository"]

Doc = dict[str, Any]


class StaffRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._users = db["staff_users"]
        self._attempts = db["staff_attempts"]
        self._sessions = db["staff_sessions"]

    async def ensure_indexes(self) -> None:
        await self._users.create_index(
            [("tenant", ASCENDING), ("login", ASCENDING)], unique=True, name="tenant_login"
        )
        await self._sessions.create_index([("staff_id", ASCENDING)], name="staff")

    async def insert_user(self, doc: Doc) -> None:
        try:
            await self._users.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("a staff account with this login exists", code="staff_exists") from None

    async def user_by_login(self, tenant: str, login: str) -> Doc | None:
        return await self._users.find_one({"tenant": tenant, "login": login})

    async def user(self, staff_id: str) -> Doc | None:
        return await self._users.find_one({"_id": staff_id})

    async def attempts(self, key: str) -> Doc | None:
        return await self._attempts.find_one({"_id": key})

    async def record_failure(self, key: str, now: datetime) -> int:
        doc = await self._attempts.find_one_and_update(
            {"_id": key},
            {"$inc": {"failures": 1}, "$set": {"updated_at": now}},
            upsert=True,
            return_document=True,
        )
        return int(doc["failures"]) if doc else 1

    async def lock(self, key: str, until: datetime) -> None:
        await self._attempts.update_one(
            {"_id": key}, {"$set": {"locked_until": until, "failures": 0}}
        )

    async def clear_attempts(self, key: str) -> None:
        await self._attempts.delete_one({"_id": key})

    async def insert_session(self, doc: Doc) -> None:
        await self._sessions.insert_one(doc)

    async def session(self, key_hash: str) -> Doc | None:
        return await self._sessions.find_one({"_id": key_hash})

    async def touch_session(self, key_hash: str, now: datetime) -> None:
        await self._sessions.update_one({"_id": key_hash}, {"$max": {"last_seen": now}})

    async def delete_session(self, key_hash: str) -> bool:
        result = await self._sessions.delete_one({"_id": key_hash})
        return result.deleted_count == 1
