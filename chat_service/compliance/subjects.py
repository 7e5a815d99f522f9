"""Data subject requests (GDPR Art. 15, 17, 20): what export and erasure share.

A *subject* is one person of one marketplace: ``(tenant, user id)`` with a
record in ``users``. :class:`SubjectRequests` is the entry point the CLI and
the console use; the work is in :mod:`.export` and :mod:`.erasure`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.database import AsyncDatabase

from chat_service.audit import AuditActor
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import NotFound
from chat_service.ids import EXTERNAL_ID_PATTERN

if TYPE_CHECKING:
    from chat_service.compliance.erasure import ErasureReport, SubjectEraser
    from chat_service.compliance.export import SubjectExporter
    from chat_service.compliance.holds import LegalHolds
    from chat_service.services import Services

__all__ = [
    "SubjectNotFound",
    "SubjectRequests",
    "conversations_of",
    "email_ref",
    "find_subject",
]

Doc = dict[str, Any]
_USER_ID = re.compile(EXTERNAL_ID_PATTERN)


class SubjectNotFound(NotFound):
    code = "subject_not_found"


def email_ref(tenant: str, user_id: str) -> RecordRef:
    """Where a person's sealed e-mail address is bound (as ``UserDirectory`` seals it)."""
    return RecordRef(tenant=tenant, collection="users", record_id=user_id, field="email")


async def find_subject(db: AsyncDatabase[Doc], tenant: str, user_id: str) -> Doc:
    """The person's user record, or :class:`SubjectNotFound` (also for ids
    that could never be valid, so they never reach a query)."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise SubjectNotFound("no such person in this marketplace")
    doc = await db["users"].find_one({"_id": f"{tenant}|{user_id}", "tenant": tenant})
    if doc is None:
        raise SubjectNotFound("no such person in this marketplace")
    return doc


async def conversations_of(db: AsyncDatabase[Doc], tenant: str, user_id: str) -> list[Doc]:
    cursor = db["conversations"].find({"tenant": tenant, "participants.user_id": user_id})
    return await cursor.sort("_id", 1).to_list(None)


class SubjectRequests:
    """Export and erasure of one person, both audited under ``actor``."""

    def __init__(
        self,
        db: AsyncDatabase[Doc],
        *,
        exporter: SubjectExporter,
        eraser: SubjectEraser,
        holds: LegalHolds,
    ) -> None:
        self._db = db
        self.exporter = exporter
        self.eraser = eraser
        self.holds = holds

    @classmethod
    def from_services(cls, services: Services, holds: LegalHolds | None = None) -> SubjectRequests:
        """For commands and tests that start from a built ``Services``."""
        from chat_service.compliance.erasure import SubjectEraser
        from chat_service.compliance.export import SubjectExporter
        from chat_service.compliance.holds import LegalHolds

        db = services.stores.db
        holds = holds or LegalHolds(db, services.audit, services.clock)
        return cls(
            db,
            exporter=SubjectExporter(db, services.cipher, services.audit, services.clock),
            eraser=SubjectEraser(
                db,
                keys=services.keys,
                holds=holds,
                audit=services.audit,
                clock=services.clock,
                forget_conversation=services.conversations.forget_cached,
            ),
            holds=holds,
        )

    async def ensure_indexes(self) -> None:
        """What finds one person's records (collections other repositories own)."""
        db = self._db
        await db["messages"].create_index([("tenant", 1), ("sender", 1)], name="tenant_sender")
        await db["attachments"].create_index(
            [("tenant", 1), ("uploader", 1)], name="tenant_uploader"
        )
        await db["notifications"].create_index([("tenant", 1), ("user", 1)], name="tenant_user")

    async def export(self, tenant: str, user_id: str, actor: AuditActor) -> bytes:
        """A ZIP archive of everything held about the person (see :mod:`.export`)."""
        return await self.exporter.export(tenant, user_id, actor)

    async def erase(self, tenant: str, user_id: str, actor: AuditActor) -> ErasureReport:
        """Crypto-shred and pseudonymise the person (see :mod:`.erasure`)."""
        return await self.eraser.erase(tenant, user_id, actor)
