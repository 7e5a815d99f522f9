"""The policy service: the policy in force for a marketplace, and changes to it.

``current`` answers from a per-process memory at most ``cache_seconds`` old,
so a change made in one process (or the console) is obeyed by every process
within that window, without a restart. A marketplace that never changed its
policy gets the standard preset. Every change is validated by the pure
``policies`` package, kept in the history with who, when, old and new, and
written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chat_service.audit import AuditActor, AuditLog
from chat_service.caching import FreshFor
from chat_service.clock import Clock
from chat_service.compliance.repository import PolicyRepository
from chat_service.compliance.schemas import PolicyChange, PolicyRecord
from chat_service.conversations.rules import to_millis
from chat_service.errors import BadRequest, Conflict, IntegrityError
from policies import Policy, PolicyInvalid, apply_changes, changed_fields, default_policy, preset

__all__ = ["PolicyService", "policy_invalid"]


def policy_invalid(error: PolicyInvalid) -> BadRequest:
    """A refused policy as the service's own error, every problem listed."""
    problems = "; ".join(f"{path or 'policy'}: {message}" for path, message in error.problems)
    return BadRequest(f"the policy is not valid: {problems}", code="policy_invalid")


class PolicyService:
    def __init__(
        self,
        repository: PolicyRepository,
        audit: AuditLog,
        clock: Clock,
        *,
        cache_seconds: float = 2.0,
    ) -> None:
        self._repository = repository
        self._audit = audit
        self._clock = clock
        self._cache: FreshFor[Policy] = FreshFor(clock, cache_seconds)

    async def current(self, tenant: str) -> Policy:
        """The policy in force, at most ``cache_seconds`` old."""

        async def load() -> Policy:
            return _policy_of(await self._repository.latest(tenant))

        return await self._cache.get(tenant, load)

    async def record(self, tenant: str) -> PolicyRecord:
        """The policy in force, read from the store, with its version."""
        doc = await self._repository.latest(tenant)
        return PolicyRecord(
            tenant=tenant,
            version=doc["version"] if doc else 0,
            policy=_policy_of(doc).to_document(),
            updated_at=doc["at"] if doc else None,
            updated_by=AuditActor(**doc["actor"]) if doc else None,
        )

    async def update(
        self,
        tenant: str,
        actor: AuditActor,
        *,
        expected_version: int,
        preset_name: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> PolicyRecord:
        """Start from a preset (if named) or the policy in force, apply
        ``changes`` (a nested partial document), validate, and store it as the
        next version. ``expected_version`` is the version the editor saw:
        if someone else changed the policy since, nothing is stored
        (``policy_changed_concurrently``). A change that changes nothing
        stores nothing."""
        latest = await self._repository.latest(tenant)
        version = latest["version"] if latest else 0
        if version != expected_version:
            raise Conflict(
                f"the policy is at version {version}, not {expected_version}; reload and retry",
                code="policy_changed_concurrently",
            )
        old = _policy_of(latest)
        try:
            new = preset(preset_name) if preset_name is not None else old
            if changes:
                new = apply_changes(new, changes)
        except PolicyInvalid as error:
            raise policy_invalid(error) from None
        fields = changed_fields(old, new)
        if not fields:
            return await self.record(tenant)
        at = to_millis(self._clock.now())
        await self._repository.append(
            {
                "tenant": tenant,
                "version": version + 1,
                "at": at,
                "actor": actor.model_dump(),
                "changed_fields": fields,
                "old": old.to_document(),
                "new": new.to_document(),
            }
        )
        self._cache.put(tenant, new)
        await self._audit.record(
            tenant,
            actor,
            "policy.changed",
            target_type="policy",
            target_id=tenant,
            details={
                "from_version": version,
                "to_version": version + 1,
                "preset": new.preset,
                "fields_changed": len(fields),
            },
        )
        return PolicyRecord(
            tenant=tenant,
            version=version + 1,
            policy=new.to_document(),
            updated_at=at,
            updated_by=actor,
        )

    async def history(
        self, tenant: str, *, before_version: int | None = None, limit: int = 50
    ) -> list[PolicyChange]:
        docs = await self._repository.page(
            tenant, before_version=before_version, limit=max(1, min(limit, 200))
        )
        return [
            PolicyChange(
                tenant=d["tenant"],
                version=d["version"],
                at=d["at"],
                actor=AuditActor(**d["actor"]),
                changed_fields=d["changed_fields"],
                old=d["old"],
                new=d["new"],
            )
            for d in docs
        ]


def _policy_of(doc: Mapping[str, Any] | None) -> Policy:
    if doc is None:
        return default_policy()
    try:
        return Policy.from_document(doc["new"])
    except PolicyInvalid as error:
        # A stored policy that no longer reads is a fault to fix, not a reason
        # to fall back to laxer defaults.
        raise IntegrityError(
            f"the stored policy version {doc.get('version')} cannot be read: {error}",
            code="policy_unreadable",
        ) from None
