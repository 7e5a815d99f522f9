"""The retention job: purges messages and photos past each marketplace's
retention, then shreds the data keys of months that are wholly past it.

Per tenant, in this order, each step in batches and safe to repeat:

1. **Messages** created at or before the message cutoff become tombstones
   (like a delete: text, unmasked original and photo list removed,
   ``deleted`` and ``purged`` set). The documents stay, so each conversation's
   ``seq`` log stays dense and resuming clients see no holes. A message's
   photos go with it. A batch is marked ``purged`` last, so a crash re-selects
   the same batch and finishes it.
2. **Photos** created at or before the attachment cutoff (the shorter of the
   two retentions): their sealed chunks are deleted first, then the record is
   marked ``deleted`` (the marker is what a re-run selects on).
3. **Data keys** of every calendar month that ended before the message cutoff,
   for every scope of the tenant, are deleted, so copies in backups can no
   longer be opened. Long-lived fields sealed in such a month (a person's
   e-mail address, the tenant's signing secret) are first re-sealed under the
   current month; a key that any live record still names (a message of a
   conversation under legal hold, say) is kept.

Conversations under a legal hold are skipped entirely. Data keys are cached
per process: after a run other processes must drop their cache
(``DataKeyRepository.forget_cache``) to stop serving shredded keys from memory.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import Binary
from pymongo.asynchronous.database import AsyncDatabase

from chat_service.audit import AuditActor, AuditLog
from chat_service.clock import Clock
from chat_service.compliance.holds import LegalHolds
from chat_service.compliance.subjects import email_ref
from chat_service.crypto import DataKeyRepository, EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef, period_of
from chat_service.errors import ChatError
from chat_service.users.service import user_scope
from policies import Policy, retention_cutoff

if TYPE_CHECKING:
    from chat_service.services import Services

__all__ = ["RetentionJob", "RetentionProgress", "RetentionReport", "purge_attachments"]

log = logging.getLogger(__name__)

Doc = dict[str, Any]
# Called after each batch with (tenant, stage, records done in that stage so far).
RetentionProgress = Callable[[str, str, int], None]
PolicySource = Callable[[str], Awaitable[Policy]]
RETENTION_ACTOR = AuditActor(type="system", id="retention")

# Every place a data key id is stored; a key named here by a live record is kept.
KEY_REFERENCES: tuple[tuple[str, str], ...] = (
    ("messages", "key_id"),
    ("messages", "original_key_id"),
    ("attachment_chunks", "key_id"),
    ("users", "email.key_id"),
    ("tenants", "signing_secret.key_id"),
    # Webhook secrets and alert addresses: still in use, so their keys stay.
    ("webhooks", "secret.key_id"),
    ("webhooks", "previous_secret.key_id"),
    ("webhooks", "alert_email.key_id"),
    ("tenants", "staff_email.key_id"),
    # Notes and reasons of orders and quotes live as long as their record.
    ("orders", "history.note.key_id"),
    ("orders", "backorders.note.key_id"),
    ("quotes", "state.note.key_id"),
    ("quotes", "state.reason.key_id"),
    ("quotes", "state.revisions.note.key_id"),
)

LIVE_PHOTO_STATES = ["ready", "attached"]
PURGED_MESSAGE: Doc = {
    "$set": {"key_id": None, "text": None, "attachments": [], "deleted": True, "purged": True},
    "$unset": {"original": "", "original_key_id": ""},
}


@dataclass
class RetentionReport:
    tenants: int = 0
    messages_purged: int = 0
    attachments_purged: int = 0
    keys_destroyed: int = 0
    fields_resealed: int = 0
    held_conversations: int = 0
    tenants_failed: int = 0

    def summary(self) -> str:
        failed = f" ({self.tenants_failed} FAILED, see the log)" if self.tenants_failed else ""
        return (
            f"{self.tenants} tenants{failed}, {self.messages_purged} messages purged, "
            f"{self.attachments_purged} attachments purged, {self.keys_destroyed} data keys "
            f"destroyed, {self.fields_resealed} fields re-sealed, "
            f"{self.held_conversations} conversations skipped under legal hold"
        )


async def purge_attachments(db: AsyncDatabase[Doc], tenant: str, ids: list[str]) -> int:
    """Delete the chunks, then mark the records deleted; returns how many records
    changed. Chunks go first so that a record still marked live is what a re-run
    finds (the repository's ``delete`` does it the other way round)."""
    if not ids:
        return 0
    await db["attachment_chunks"].delete_many({"att": {"$in": ids}, "tenant": tenant})
    result = await db["attachments"].update_many(
        {"_id": {"$in": ids}, "tenant": tenant, "status": {"$ne": "deleted"}},
        {"$set": {"status": "deleted", "renditions": {}}},
    )
    return result.modified_count


class RetentionJob:
    def __init__(
        self,
        db: AsyncDatabase[Doc],
        *,
        keys: DataKeyRepository,
        cipher: FieldCipher,
        policies: PolicySource,
        holds: LegalHolds,
        audit: AuditLog,
        clock: Clock,
        batch_size: int = 500,
    ) -> None:
        self._db = db
        self._keys = keys
        self._cipher = cipher
        self._policies = policies
        self._holds = holds
        self._audit = audit
        self._clock = clock
        self._batch = batch_size

    async def ensure_indexes(self) -> None:
        """The purge queries' own indexes (on collections other repositories own)."""
        await self._db["messages"].create_index(
            [("tenant", 1), ("purged", 1), ("created_at", 1)], name="retention"
        )
        await self._db["attachments"].create_index(
            [("tenant", 1), ("status", 1), ("created_at", 1)], name="retention"
        )

    @classmethod
    def from_services(cls, services: Services, holds: LegalHolds | None = None) -> RetentionJob:
        return cls(
            services.stores.db,
            keys=services.keys,
            cipher=services.cipher,
            policies=services.policies.current,
            holds=holds or LegalHolds(services.stores.db, services.audit, services.clock),
            audit=services.audit,
            clock=services.clock,
        )

    async def run(
        self,
        *,
        tenant: str | None = None,
        batch_size: int | None = None,
        progress: RetentionProgress | None = None,
    ) -> RetentionReport:
        """Purge every tenant (or one); returns what was done. Safe to re-run
        after a crash at any point: it picks up where the store says it is."""
        batch = max(1, batch_size or self._batch)
        report = RetentionReport()
        if tenant is not None:
            tenants = [tenant]
        else:
            docs = await self._db["tenants"].find({}, {"_id": 1}).sort("_id", 1).to_list(None)
            tenants = [str(d["_id"]) for d in docs]
        for tenant_id in tenants:
            try:
                await self._purge_tenant(tenant_id, batch, report, progress)
            except ChatError as exc:
                # One tenant's unreadable policy or data must not stop the others;
                # store outages (PyMongoError) propagate so the task is retried.
                log.error("retention of tenant %s failed: %s", tenant_id, exc.code, exc_info=True)
                report.tenants_failed += 1
            else:
                report.tenants += 1
        return report

    async def _purge_tenant(
        self, tenant: str, batch: int, report: RetentionReport, progress: RetentionProgress | None
    ) -> None:
        policy = await self._policies(tenant)
        now = self._clock.now()
        held = await self._holds.held(tenant)
        report.held_conversations += len(held)
        before = (report.messages_purged, report.attachments_purged, report.keys_destroyed)
        message_cutoff = retention_cutoff("message", policy, now)
        attachment_cutoff = retention_cutoff("attachment", policy, now)
        if message_cutoff is not None:
            await self._purge_messages(tenant, message_cutoff, held, batch, report, progress)
        if attachment_cutoff is not None:
            await self._purge_photos(tenant, attachment_cutoff, held, batch, report, progress)
        if message_cutoff is not None:
            await self._destroy_keys(tenant, period_of(message_cutoff), batch, report, progress)
        done = (report.messages_purged, report.attachments_purged, report.keys_destroyed)
        if done != before:
            await self._audit.record(
                tenant,
                RETENTION_ACTOR,
                "retention.purged",
                target_type="tenant",
                target_id=tenant,
                details={
                    "messages": done[0] - before[0],
                    "attachments": done[1] - before[1],
                    "keys_destroyed": done[2] - before[2],
                    "message_days": policy.retention.message_days,
                    "attachment_days": policy.retention.attachment_days,
                },
            )

    async def _purge_messages(
        self,
        tenant: str,
        cutoff: datetime,
        held: list[str],
        batch: int,
        report: RetentionReport,
        progress: RetentionProgress | None,
    ) -> None:
        messages = self._db["messages"]
        # ``purged: None`` (absent) is an equality the ``retention`` index serves, so
        # old tombstones are never scanned again.
        query: Doc = {"tenant": tenant, "purged": None, "created_at": {"$lte": cutoff}}
        if held:
            query["conv"] = {"$nin": held}
        done = 0
        while True:
            docs = await (
                messages.find(query, {"_id": 1, "attachments": 1})
                .sort([("created_at", 1), ("_id", 1)])
                .limit(batch)
                .to_list(None)
            )
            if not docs:
                return
            photo_ids = [a["id"] for d in docs for a in d.get("attachments") or [] if "id" in a]
            report.attachments_purged += await purge_attachments(self._db, tenant, photo_ids)
            result = await messages.update_many(
                {"_id": {"$in": [d["_id"] for d in docs]}, "purged": None},
                PURGED_MESSAGE,
            )
            report.messages_purged += result.modified_count
            done += len(docs)
            if progress is not None:
                progress(tenant, "messages", done)

    async def _purge_photos(
        self,
        tenant: str,
        cutoff: datetime,
        held: list[str],
        batch: int,
        report: RetentionReport,
        progress: RetentionProgress | None,
    ) -> None:
        query: Doc = {
            "tenant": tenant,
            "status": {"$in": LIVE_PHOTO_STATES},
            "created_at": {"$lte": cutoff},
        }
        if held:
            query["conv"] = {"$nin": held}
        done = 0
        while True:
            docs = await (
                self._db["attachments"]
                .find(query, {"_id": 1})
                .sort([("created_at", 1), ("_id", 1)])
                .limit(batch)
                .to_list(None)
            )
            if not docs:
                return
            report.attachments_purged += await purge_attachments(
                self._db, tenant, [str(d["_id"]) for d in docs]
            )
            done += len(docs)
            if progress is not None:
                progress(tenant, "attachments", done)

    async def _destroy_keys(
        self,
        tenant: str,
        cutoff_period: str,
        batch: int,
        report: RetentionReport,
        progress: RetentionProgress | None,
    ) -> None:
        """Delete the keys of months before ``cutoff_period`` (each such month
        ended before the cutoff, so all it sealed is expired)."""
        data_keys = self._db["data_keys"]
        after = ""
        destroyed = 0
        while True:
            docs = await (
                data_keys.find(
                    {"tenant": tenant, "period": {"$lt": cutoff_period}, "_id": {"$gt": after}},
                    {"_id": 1},
                )
                .sort("_id", 1)
                .limit(batch)
                .to_list(None)
            )
            if not docs:
                break
            ids = [str(d["_id"]) for d in docs]
            after = ids[-1]
            report.fields_resealed += await self._reseal_long_lived(tenant, ids)
            doomed = sorted(set(ids) - await self._still_named(tenant, ids))
            if doomed:
                result = await data_keys.delete_many({"_id": {"$in": doomed}, "tenant": tenant})
                destroyed += result.deleted_count
                report.keys_destroyed += result.deleted_count
            if progress is not None:
                progress(tenant, "keys", destroyed)
        # Shredded keys must not live on in this process's memory.
        self._keys.forget_cache()

    async def _still_named(self, tenant: str, key_ids: list[str]) -> set[str]:
        named: set[str] = set()
        for collection, field in KEY_REFERENCES:
            tenant_field = "_id" if collection == "tenants" else "tenant"
            docs = await (
                self._db[collection]
                .find({tenant_field: tenant, field: {"$in": key_ids}}, {field: 1})
                .to_list(None)
            )
            for doc in docs:
                named.update(_values_at(doc, field.split(".")))
        return named

    async def _reseal_long_lived(self, tenant: str, key_ids: list[str]) -> int:
        """Move e-mail addresses and the signing secret sealed with one of
        ``key_ids`` to the current month's key: they outlive any retention."""
        resealed = 0
        users = self._db["users"]
        found = await users.find({"tenant": tenant, "email.key_id": {"$in": key_ids}}).to_list(None)
        for user in found:
            fresh = await self._reseal(
                email_ref(tenant, user["user_id"]), user["email"], user_scope(user["user_id"])
            )
            result = await users.update_one(
                {"_id": user["_id"], "email.key_id": user["email"]["key_id"]},
                {"$set": {"email": fresh}},
            )
            resealed += result.modified_count
        tenants = self._db["tenants"]
        record = await tenants.find_one({"_id": tenant, "signing_secret.key_id": {"$in": key_ids}})
        if record is not None:
            # Bound as ``TenantService`` seals the secret.
            ref = RecordRef(
                tenant=tenant, collection="tenants", record_id=tenant, field="signing_secret"
            )
            fresh = await self._reseal(ref, record["signing_secret"], "tenant")
            result = await tenants.update_one(
                {"_id": tenant, "signing_secret.key_id": record["signing_secret"]["key_id"]},
                {"$set": {"signing_secret": fresh}},
            )
            resealed += result.modified_count
        return resealed

    async def _reseal(self, ref: RecordRef, sealed: Doc, scope: str) -> Doc:
        plain = await self._cipher.decrypt_bytes(
            ref, EncryptedField(sealed["key_id"], bytes(sealed["blob"]))
        )
        fresh = await self._cipher.encrypt_bytes(ref, plain, scope=scope, moment=self._clock.now())
        return {"key_id": fresh.key_id, "blob": Binary(fresh.blob)}


def _values_at(value: Any, path: list[str]) -> list[str]:
    """The strings at ``path`` in ``value``, through arrays as MongoDB does."""
    if isinstance(value, list):
        return [found for item in value for found in _values_at(item, path)]
    if not path:
        return [value] if isinstance(value, str) else []
    return _values_at(value.get(path[0]), path[1:]) if isinstance(value, dict) else []
