"""Recording, searching and verifying the audit log.

Callers record *after* the action they describe succeeded (or, for refused
sign-ins, after it was refused). Everything an entry holds is checked before
anything is written, so a refused entry leaves no trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chat_service.audit.chain import ChainVerifier, from_millis, seal_entry, to_millis
from chat_service.audit.repository import AuditRepository, BuildEntry
from chat_service.audit.rules import (
    check_action,
    check_actor,
    check_details,
    check_target,
    check_tenant,
)
from chat_service.audit.schemas import (
    AuditAction,
    AuditActor,
    AuditEntryPublic,
    AuditPage,
    AuditQuery,
    ChainReport,
)
from chat_service.clock import Clock
from chat_service.errors import IntegrityError

__all__ = ["AuditLog", "PlannedEntry", "VerifyProgress", "entry_public"]

# Called after each batch of a check with (tenant, entries checked so far).
VerifyProgress = Callable[[str, int], None]


@dataclass(frozen=True)
class PlannedEntry:
    """One entry for :meth:`AuditLog.record_many`."""

    actor: AuditActor
    action: AuditAction
    target_type: str
    target_id: str
    details: Mapping[str, object] | None = None


def entry_public(doc: Mapping[str, Any]) -> AuditEntryPublic:
    """A stored entry as callers see it; a malformed one is an integrity error
    (``audit verify`` says which link broke)."""
    try:
        return AuditEntryPublic(
            seq=doc["seq"],
            at=from_millis(to_millis(doc["at"])),
            tenant=doc["tenant"],
            actor=doc["actor"],
            action=doc["action"],
            target_type=doc["target_type"],
            target_id=doc["target_id"],
            details=doc["details"],
            prev_hash=doc["prev_hash"],
            hash=doc["hash"],
        )
    except (KeyError, TypeError, ValidationError):
        raise IntegrityError(
            f"audit entry {doc.get('seq')!r} is malformed; run 'chat-service audit verify'",
            code="audit_entry_malformed",
        ) from None


class AuditLog:
    def __init__(
        self, repository: AuditRepository, clock: Clock, *, verify_batch_size: int = 500
    ) -> None:
        self._repo = repository
        self._clock = clock
        self._batch = verify_batch_size

    async def record(
        self,
        tenant: str,
        actor: AuditActor,
        action: AuditAction,
        *,
        target_type: str,
        target_id: str,
        details: Mapping[str, object] | None = None,
    ) -> AuditEntryPublic:
        """Append one entry to ``tenant``'s chain (``SYSTEM_TENANT`` for global
        actions). :class:`BadRequest` (``audit_entry_invalid``,
        ``audit_action_unknown``, ``audit_details_invalid``) stores nothing;
        :class:`Unavailable` when the store is down or the chain stays contended."""
        tenant = check_tenant(tenant)
        action_name = check_action(action)
        actor_doc = check_actor(actor).model_dump()
        target_type, target_id = check_target(target_type, target_id)
        clean_details = check_details(details)

        def build(seq: int, prev_hash: str) -> dict[str, Any]:
            return seal_entry(
                tenant=tenant,
                seq=seq,
                at=self._clock.now(),
                actor=actor_doc,
                action=action_name,
                target_type=target_type,
                target_id=target_id,
                details=clean_details,
                prev_hash=prev_hash,
            )

        return entry_public(await self._repo.append(tenant, build))

    async def record_many(
        self, tenant: str, entries: Sequence[PlannedEntry]
    ) -> list[AuditEntryPublic]:
        """:meth:`record` for several entries of one chain at once (a bulk
        job's), appended in order with one store write. All are checked before
        any is written."""
        tenant = check_tenant(tenant)
        checked = [
            (
                check_actor(e.actor).model_dump(),
                check_action(e.action),
                check_target(e.target_type, e.target_id),
                check_details(e.details),
            )
            for e in entries
        ]
        if not checked:
            return []

        def builder(
            actor: dict[str, Any], action: str, target: tuple[str, str], details: dict[str, Any]
        ) -> BuildEntry:
            def build(seq: int, prev_hash: str) -> dict[str, Any]:
                return seal_entry(
                    tenant=tenant,
                    seq=seq,
                    at=self._clock.now(),
                    actor=actor,
                    action=action,
                    target_type=target[0],
                    target_id=target[1],
                    details=details,
                    prev_hash=prev_hash,
                )

            return build

        docs = await self._repo.append_many(tenant, [builder(*c) for c in checked])
        return [entry_public(doc) for doc in docs]

    async def search(self, tenant: str, query: AuditQuery | None = None) -> AuditPage:
        """One page of ``tenant``'s entries matching ``query``, newest first."""
        tenant = check_tenant(tenant)
        query = query or AuditQuery()
        docs = await self._repo.page(tenant, query)
        entries = [entry_public(doc) for doc in docs[: query.limit]]
        more = len(docs) > query.limit
        return AuditPage(entries=entries, next_before_seq=entries[-1].seq if more else None)

    async def verify(self, tenant: str, *, progress: VerifyProgress | None = None) -> ChainReport:
        """Walk ``tenant``'s chain from entry 1 in batches and report the first
        broken link, if any. Entries appended while it runs are checked too."""
        return await self._verify(check_tenant(tenant), progress)

    async def verify_all(self, *, progress: VerifyProgress | None = None) -> list[ChainReport]:
        """:meth:`verify` for every chain in the store, in tenant order."""
        return [await self._verify(tenant, progress) for tenant in await self._repo.tenants()]

    async def _verify(self, tenant: str, progress: VerifyProgress | None) -> ChainReport:
        verifier = ChainVerifier(tenant)
        async with aclosing(self._repo.stream(tenant, batch_size=self._batch)) as batches:
            async for batch in batches:
                intact = all(verifier.feed(doc) for doc in batch)
                if progress is not None:
                    progress(tenant, verifier.checked)
                if not intact:
                    break
        return verifier.report()
