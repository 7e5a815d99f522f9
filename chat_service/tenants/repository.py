"""Tenant documents in MongoDB.

``{_id, name, origins, signing_secret: {key_id, blob}, server_key_hashes,
staff_email?: {key_id, blob} | None, created_at}``; the signing secret and the
staff address (who hears of new quote requests) are sealed like message text,
server keys are kept as hashes.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat_service.errors import Conflict

__all__ = ["TenantRepository"]


class TenantRepository:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._tenants = collection

    async def insert(self, doc: dict[str, Any]) -> None:
        try:
            await self._tenants.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("a tenant with this id already exists") from None

    async def get(self, tenant_id: str) -> dict[str, Any] | None:
        return await self._tenants.find_one({"_id": tenant_id})

    async def all(self) -> list[dict[str, Any]]:
        return await self._tenants.find({}, {"signing_secret": 0}).to_list(None)

    async def set_origins(self, tenant_id: str, origins: list[str]) -> bool:
        result = await self._tenants.update_one({"_id": tenant_id}, {"$set": {"origins": origins}})
        return result.matched_count == 1

    async def set_staff_email(self, tenant_id: str, sealed: dict[str, Any] | None) -> bool:
        result = await self._tenants.update_one(
            {"_id": tenant_id}, {"$set": {"staff_email": sealed}}
        )
        return result.matched_count == 1
