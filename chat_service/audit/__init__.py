"""The audit log: an append-only, hash-chained record of who did what.

One chain per tenant (``"_system"`` for actions that belong to no marketplace).
Each entry names its actor, a ``domain.past_verb`` action from a closed set,
a target and a small map of ids and numbers; it never holds message content.
Editing, removing or reordering stored entries breaks the chain, and
:meth:`AuditLog.verify` reports the first broken link.
"""

from chat_service.audit.repository import AuditRepository
from chat_service.audit.schemas import (
    AUDIT_ACTIONS,
    SYSTEM_TENANT,
    AuditAction,
    AuditActor,
    AuditEntryPublic,
    AuditPage,
    AuditQuery,
    BrokenLink,
    ChainReport,
)
from chat_service.audit.service import AuditLog

__all__ = [
    "AUDIT_ACTIONS",
    "SYSTEM_TENANT",
    "AuditAction",
    "AuditActor",
    "AuditEntryPublic",
    "AuditLog",
    "AuditPage",
    "AuditQuery",
    "AuditRepository",
    "BrokenLink",
    "ChainReport",
]
