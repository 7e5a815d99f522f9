"""Shapes of the compliance domain: a marketplace's policy as stored and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chat_service.audit.schemas import AuditActor

__all__ = ["PolicyChange", "PolicyRecord"]


class PolicyRecord(BaseModel):
    """The policy in force: ``version`` 0 is the built-in default, never stored."""

    tenant: str
    version: int
    policy: dict[str, Any]
    updated_at: datetime | None
    updated_by: AuditActor | None


class PolicyChange(BaseModel):
    """One entry of the history: who changed what, when, from which version."""

    tenant: str
    version: int
    at: datetime
    actor: AuditActor
    changed_fields: list[str]
    old: dict[str, Any]
    new: dict[str, Any]
