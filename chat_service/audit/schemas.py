"""Shapes of the audit domain: actors, actions, entries, queries, chain reports.

The actions form a closed set; add one here (and say what its target is)
before recording it. An action's string is part of every entry's hash, so
adding actions never disturbs existing chains; renaming one would.

=============================== ================ ====================================
action                          target_type      recorded when
=============================== ================ ====================================
``policy.changed``              ``policy``       a compliance officer saves a policy
``conversation.viewed_by_staff`` ``conversation`` staff open a conversation's messages
``attachment.viewed_by_staff``  ``attachment``   staff open an attachment
``subject.exported``            ``subject``      a person's data is exported
``subject.erased``              ``subject``      a person is erased
``keys.rotated``                ``keys``         data keys are re-wrapped under a new KEK
``staff.signed_in``             ``staff``        a staff member signs in to the console
``staff.signed_out``            ``staff``        ... signs out or their session times out
``staff.sign_in_failed``        ``staff``        a sign-in is refused
``legal_hold.set``              ``conversation`` a legal hold is placed
``legal_hold.released``         ``conversation`` a legal hold is lifted
``retention.purged``            ``tenant``       the retention job purged records
``order.created``               ``order``        an order is created (also from a quote)
``order.status_changed``        ``order``        an order's status is set (one or bulk)
``order.shipment_added``        ``order``        a shipment is recorded
``order.backorder_set``         ``order``        a line is back-ordered
``order.approval_decided``      ``order``        an approver approves or rejects
``quote.requested``             ``quote``        a quote is requested
``quote.responded``             ``quote``        the seller offers prices
``quote.countered``             ``quote``        either side counters
``quote.accepted``              ``quote``        the buyer accepts a revision
``quote.declined``              ``quote``        either side declines
``quote.withdrawn``             ``quote``        the buyer withdraws
``quote.expired``               ``quote``        the expiry job expires the quote
``quote.converted``             ``quote``        the backend converts an accepted quote
=============================== ================ ====================================

Order and quote entries name ids, statuses and revision numbers only; never
notes, reasons or prices' free text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from chat_service.auth.principals import ServerPrincipal, UserPrincipal

__all__ = [
    "AUDIT_ACTIONS",
    "KIND_PATTERN",
    "SAFE_VALUE_PATTERN",
    "SYSTEM_TENANT",
    "TENANT_PATTERN",
    "AuditAction",
    "AuditActor",
    "AuditActorType",
    "AuditEntryPublic",
    "AuditPage",
    "AuditQuery",
    "BreakReason",
    "BrokenLink",
    "ChainReport",
    "DetailValue",
]

AuditAction = Literal[
    "policy.changed",
    "conversation.viewed_by_staff",
    "attachment.viewed_by_staff",
    "subject.exported",
    "subject.erased",
    "keys.rotated",
    "staff.signed_in",
    "staff.signed_out",
    "staff.sign_in_failed",
    "legal_hold.set",
    "legal_hold.released",
    "retention.purged",
    "order.created",
    "order.status_changed",
    "order.shipment_added",
    "order.backorder_set",
    "order.approval_decided",
    "quote.requested",
    "quote.responded",
    "quote.countered",
    "quote.accepted",
    "quote.declined",
    "quote.withdrawn",
    "quote.expired",
    "quote.converted",
]
AUDIT_ACTIONS: tuple[str, ...] = get_args(AuditAction)

AuditActorType = Literal["staff", "user", "server", "system"]
BreakReason = Literal["hash_mismatch", "prev_mismatch", "seq_gap"]

# The chain of actions that belong to no marketplace (key rotation, sign-ins of
# operators who serve every marketplace, ...).
SYSTEM_TENANT = "_system"
TENANT_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# Ids, codes, numbers written as text, hashes, ISO times: no spaces, no quotes,
# no ``$``, so no prose and nothing a query could read as an operator.
SAFE_VALUE_PATTERN = r"^[A-Za-z0-9_.:@/+=#-]{1,200}$"
KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"

# What a value in ``details`` may be (checked by ``rules.check_details``).
DetailValue = bool | int | float | str | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditActor(_Strict):
    """Who acted: a staff member of the console, a marketplace user, the
    marketplace's backend (``server``, id = tenant) or the service itself
    (``system``, id = the job, e.g. ``retention``)."""

    type: AuditActorType
    id: StrictStr = Field(pattern=SAFE_VALUE_PATTERN)
    role: StrictStr | None = Field(default=None, pattern=KIND_PATTERN)

    @classmethod
    def of(cls, principal: UserPrincipal | ServerPrincipal) -> AuditActor:
        """The actor behind an API principal."""
        if isinstance(principal, ServerPrincipal):
            return cls(type="server", id=principal.tenant)
        kind: AuditActorType = "staff" if principal.role == "staff" else "user"
        return cls(type=kind, id=principal.user_id, role=principal.role)

    @classmethod
    def system(cls, job: str) -> AuditActor:
        return cls(type="system", id=job)


class AuditEntryPublic(BaseModel):
    seq: int
    at: datetime
    tenant: str
    actor: AuditActor
    action: AuditAction
    target_type: str
    target_id: str
    details: dict[str, DetailValue]
    prev_hash: str
    hash: str


class AuditQuery(_Strict):
    """Filters of a search, newest first. Every field is typed and patterned,
    so console input can never become an operator or a field name.
    ``before_seq`` is the cursor: pass the page's ``next_before_seq``."""

    action: AuditAction | None = None
    actor_id: StrictStr | None = Field(default=None, pattern=SAFE_VALUE_PATTERN)
    target_type: StrictStr | None = Field(default=None, pattern=KIND_PATTERN)
    target_id: StrictStr | None = Field(default=None, pattern=SAFE_VALUE_PATTERN)
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = Field(default=None, ge=1)
    limit: int = Field(default=50, ge=1, le=500)


class AuditPage(BaseModel):
    entries: list[AuditEntryPublic]
    # ``before_seq`` of the next (older) page; None on the last page.
    next_before_seq: int | None


class BrokenLink(BaseModel):
    """The first place a chain does not hold: ``hash_mismatch`` (the entry was
    changed), ``prev_mismatch`` (the entry before it was removed, replaced or
    reordered), ``seq_gap`` (entry ``seq`` is missing or out of place)."""

    seq: int
    reason: BreakReason
    detail: str


class ChainReport(BaseModel):
    tenant: str
    ok: bool
    # Entries found intact, in order, before the first broken link (all when ok).
    entries_checked: int
    # The last intact link; write it down elsewhere to detect a later truncation.
    last_seq: int
    head_hash: str
    broken: BrokenLink | None = None
