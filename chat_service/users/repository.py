"""Users in MongoDB.

``users {_id: "<tenant>|<user>", tenant, user_id, role, display_name, email: {key_id, blob}}``
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["UserRepository"]


class UserRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._users = db["users"]

    async def ensure_indexes(self) -> None:
        await self._users.create_index(
            [("tenant", ASCENDING), ("user_id", ASCENDING)], unique=True, name="tenant_user"
        )

    async def upsert(self, tenant: str, user_id: str, fields: dict[str, Any]) -> None:
        await self._users.update_one(
            {"_id": f"{tenant}|{user_id}"},
            {"$set": fields, "$setOnInsert": {"tenant": tenant, "user_id": user_id}},
            upsert=True,
        )

    async def get(self, tenant: str, user_id: str) -> dict[str, Any] | None:
        return await self._users.find_one({"_id": f"{tenant}|{user_id}"})
