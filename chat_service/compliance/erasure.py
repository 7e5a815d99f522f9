"""Erasure of one person (GDPR Art. 17): crypto-shredding plus pseudonymisation.

In this order, each step safe to repeat (a failed erasure is finished by
running it again, and the pseudonym chosen first is reused):

1. refuse an unknown person (404 ``subject_not_found``) or one who takes part
   in a conversation under legal hold (409 ``legal_hold``), changing nothing;
2. record the pseudonym (``Former user 7f3a``, random, so it links to nothing);
3. destroy every data key of the person's scope (``user:<id>``): all they
   wrote and uploaded, and their sealed e-mail address, become unreadable
   everywhere, copies in backups included;
4. scrub their log entries like deletes (text, original, photo list removed;
   the tombstone keeps ``seq``, so the log stays dense) and delete their
   photos' sealed chunks;
5. pseudonymise: the e-mail address is removed and the display name replaced
   in ``users``, in the participants of their conversations and on their
   quotes and orders; notifications, e-mail preferences, read marks and
   reply-by-email handles are deleted.

The user id is kept: it is the marketplace's own opaque key for the person
(every ``sender`` and read mark points to it, and the marketplace erases its
side of the mapping); once names and addresses are gone the chat service
cannot tell who it was. Other people's messages are sealed under their own
scopes and stay readable.

Data keys are cached per process: other running processes must drop their
cache (``DataKeyRepository.forget_cache``) or they may still open what this
process shredded until the entries age out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chat_service.audit import AuditActor, AuditLog
from chat_service.clock import Clock
from chat_service.compliance.holds import LegalHoldActive, LegalHolds
from chat_service.compliance.retention import purge_attachments
from chat_service.compliance.subjects import conversations_of, find_subject
from chat_service.crypto import DataKeyRepository
from chat_service.errors import Unavailable
from chat_service.users.service import user_scope

__all__ = ["ErasureReport", "SubjectEraser", "new_pseudonym"]

Doc = dict[str, Any]

ERASED_MESSAGE: Doc = {
    "$set": {"key_id": None, "text": None, "attachments": [], "deleted": True, "erased": True},
    "$unset": {"original": "", "original_key_id": ""},
}


def new_pseudonym() -> str:
    return f"Former user {secrets.token_hex(2)}"


@dataclass(frozen=True)
class ErasureReport:
    user_id: str
    pseudonym: str
    keys_destroyed: int
    messages_scrubbed: int
    attachments_deleted: int
    conversations: int
    records_deleted: int


class SubjectEraser:
    def __init__(
        self,
        db: AsyncDatabase[Doc],
        *,
        keys: DataKeyRepository,
        holds: LegalHolds,
        audit: AuditLog,
        clock: Clock,
        forget_conversation: Callable[[str], None] | None = None,
    ) -> None:
        self._db = db
        self._keys = keys
        self._holds = holds
        self._audit = audit
        self._clock = clock
        self._forget_conversation = forget_conversation

    async def erase(self, tenant: str, user_id: str, actor: AuditActor) -> ErasureReport:
        subject = await find_subject(self._db, tenant, user_id)
        convs = await conversations_of(self._db, tenant, user_id)
        held = await self._holds.held(tenant, [c["_id"] for c in convs])
        if held:
            raise LegalHoldActive(
                f"cannot erase this person: conversation {', '.join(held)} is under legal hold; "
                "nothing was changed",
                held,
            )
        pseudonym = str(subject.get("pseudonym") or new_pseudonym())
        users = self._db["users"]
        await users.update_one({"_id": subject["_id"]}, {"$set": {"pseudonym": pseudonym}})

        keys_destroyed = await self._keys.destroy_scope(tenant, user_scope(user_id))
        scrubbed = await self._db["messages"].update_many(
            {"tenant": tenant, "sender": user_id, "erased": {"$ne": True}}, ERASED_MESSAGE
        )
        photos = await (
            self._db["attachments"].find({"tenant": tenant, "uploader": user_id}, {"_id": 1})
        ).to_list(None)
        attachments_deleted = await purge_attachments(
            self._db, tenant, [str(p["_id"]) for p in photos]
        )

        await users.update_one(
            {"_id": subject["_id"]},
            {
                "$set": {"display_name": pseudonym, "erased_at": self._clock.now()},
                "$unset": {"email": ""},
            },
        )
        for conv in convs:
            await self._rename_participant(conv, user_id, pseudonym)
        for collection in ("quotes", "orders"):
            for side in ("buyer", "seller"):
                await self._db[collection].update_many(
                    {"tenant": tenant, f"{side}.user_id": user_id},
                    {"$set": {f"{side}.display_name": pseudonym}},
                )
        deleted = 0
        for collection in ("notifications", "reads", "reply_handles"):
            result = await self._db[collection].delete_many({"tenant": tenant, "user": user_id})
            deleted += result.deleted_count
        result = await self._db["email_preferences"].delete_many({"_id": f"{tenant}|{user_id}"})
        deleted += result.deleted_count
        self._keys.forget_cache()

        report = ErasureReport(
            user_id=user_id,
            pseudonym=pseudonym,
            keys_destroyed=keys_destroyed,
            messages_scrubbed=scrubbed.modified_count,
            attachments_deleted=attachments_deleted,
            conversations=len(convs),
            records_deleted=deleted,
        )
        await self._audit.record(
            tenant,
            actor,
            "subject.erased",
            target_type="subject",
            target_id=user_id,
            details={
                "keys_destroyed": report.keys_destroyed,
                "messages": report.messages_scrubbed,
                "attachments": report.attachments_deleted,
                "conversations": report.conversations,
                "records_deleted": report.records_deleted,
            },
        )
        return report

    async def _rename_participant(self, conv: Doc, user_id: str, pseudonym: str) -> None:
        """Compare-and-set on the participant list, re-read on a concurrent change."""
        convs = self._db["conversations"]
        current: Doc | None = conv
        for _ in range(10):
            if current is None:
                return
            participants = current.get("participants") or []
            renamed = [
                {**p, "display_name": pseudonym} if p.get("user_id") == user_id else p
                for p in participants
            ]
            if renamed == participants:
                break
            result = await convs.update_one(
                {"_id": current["_id"], "participants": participants},
                {"$set": {"participants": renamed}},
            )
            if result.modified_count == 1:
                break
            current = await convs.find_one({"_id": conv["_id"]})
        else:
            raise Unavailable("the conversation kept changing; run the erasure again")
        if self._forget_conversation is not None:
            self._forget_conversation(conv["_id"])
