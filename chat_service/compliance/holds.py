"""Legal holds on conversations: set and released with a reason code, audited.

Collection::

    legal_holds {_id: "<tenant>|<conversation>", tenant, conv, reason, set_by, set_at}

A held conversation is skipped by the retention job and blocks the erasure of
anyone who takes part in it (:class:`LegalHoldActive`, 409 ``legal_hold``).
The reason is a short code (``litigation-2026-014``), never prose: it ends up
in the audit log, which holds no free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from chat_service.audit import AuditActor, AuditLog
from chat_service.audit.schemas import SAFE_VALUE_PATTERN
from chat_service.clock import Clock
from chat_service.errors import BadRequest, Conflict, NotFound

__all__ = ["LegalHoldActive", "LegalHolds"]

Doc = dict[str, Any]
_REASON = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")
_SAFE = re.compile(SAFE_VALUE_PATTERN)


class LegalHoldActive(Conflict):
    """The data is under a legal hold; nothing was changed."""

    code = "legal_hold"

    def __init__(self, detail: str, conversations: list[str]) -> None:
        super().__init__(detail)
        self.conversations = conversations


def _hold_id(tenant: str, conv_id: str) -> str:
    return f"{tenant}|{conv_id}"


class LegalHolds:
    def __init__(self, db: AsyncDatabase[Doc], audit: AuditLog, clock: Clock) -> None:
        self._holds = db["legal_holds"]
        self._convs = db["conversations"]
        self._audit = audit
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._holds.create_index([("tenant", ASCENDING)], name="tenant")

    async def set(self, tenant: str, conv_id: str, actor: AuditActor, reason: str) -> bool:
        """Place a hold; returns False when the conversation was already held
        (the first reason stays, and nothing is audited twice)."""
        reason = _check_reason(reason)
        await self._existing(tenant, conv_id)
        result = await self._holds.update_one(
            {"_id": _hold_id(tenant, conv_id)},
            {
                "$setOnInsert": {
                    "tenant": tenant,
                    "conv": conv_id,
                    "reason": reason,
                    "set_by": actor.model_dump(),
                    "set_at": self._clock.now(),
                }
            },
            upsert=True,
        )
        if result.upserted_id is None:
            return False
        await self._audit.record(
            tenant,
            actor,
            "legal_hold.set",
            target_type="conversation",
            target_id=conv_id,
            details={"reason": reason},
        )
        return True

    async def release(self, tenant: str, conv_id: str, actor: AuditActor, reason: str) -> bool:
        """Lift a hold; returns False when there was none."""
        reason = _check_reason(reason)
        await self._existing(tenant, conv_id)
        result = await self._holds.delete_one({"_id": _hold_id(tenant, conv_id)})
        if result.deleted_count == 0:
            return False
        await self._audit.record(
            tenant,
            actor,
            "legal_hold.released",
            target_type="conversation",
            target_id=conv_id,
            details={"reason": reason},
        )
        return True

    async def held(self, tenant: str, conv_ids: Iterable[str] | None = None) -> list[str]:
        """Which of ``conv_ids`` (every conversation when None) are held, sorted."""
        query: Doc = {"tenant": tenant}
        if conv_ids is not None:
            query["_id"] = {"$in": [_hold_id(tenant, c) for c in conv_ids]}
        docs = await self._holds.find(query, {"conv": 1}).to_list(None)
        return sorted(str(d["conv"]) for d in docs)

    async def hold_of(self, tenant: str, conv_id: str) -> Doc | None:
        return await self._holds.find_one({"_id": _hold_id(tenant, conv_id)})

    async def _existing(self, tenant: str, conv_id: str) -> None:
        if not _SAFE.fullmatch(conv_id) or (
            await self._convs.find_one({"_id": conv_id, "tenant": tenant}, {"_id": 1}) is None
        ):
            raise NotFound("conversation not found")


def _check_reason(reason: str) -> str:
    if not isinstance(reason, str) or not _REASON.fullmatch(reason):
        raise BadRequest(
            "the reason must be a short code (letters, digits and _.:/-, at most 64), "
            "e.g. a case number; never free text",
            code="invalid_reason",
        )
    return reason
