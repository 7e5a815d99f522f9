"""Shapes of the staff domain: roles, what each role may do, accounts, sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

__all__ = [
    "LOGIN_PATTERN",
    "PERMISSIONS",
    "STAFF_ROLES",
    "Permission",
    "StaffAccount",
    "StaffRole",
    "StaffSession",
    "may",
]

StaffRole = Literal["viewer", "operator", "compliance_officer"]
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)

Permission = Literal[
    "policy.read",
    "policy.write",
    "audit.read",
    "response_times.read",
    "notifications.read",
    "subjects.export",
    "subjects.erase",
]

_VIEWER: frozenset[Permission] = frozenset({"policy.read", "audit.read", "response_times.read"})
_OPERATOR: frozenset[Permission] = _VIEWER | {"notifications.read"}
_OFFICER: frozenset[Permission] = _OPERATOR | {"policy.write", "subjects.export", "subjects.erase"}

PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    "viewer": _VIEWER,
    "operator": _OPERATOR,
    "compliance_officer": _OFFICER,
}

# Logins are e-mail-like ids: they go into no audit entry (the staff id does).
LOGIN_PATTERN = r"^[A-Za-z0-9_.+@-]{3,120}$"


def may(role: str, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())  # type: ignore[call-overload]


@dataclass(frozen=True)
class StaffAccount:
    id: str
    tenant: str
    login: str
    role: StaffRole
    password_hash: str
    disabled: bool = False


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member. ``csrf`` is the token every form of this
    session carries; ``last_seen`` drives the idle timeout."""

    key: str
    staff_id: str
    tenant: str
    login: str
    role: StaffRole
    csrf: str
    created_at: datetime
    last_seen: datetime
