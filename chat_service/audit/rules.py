"""What an audit entry may hold; pure checks, unit-tested without a store.

The audit log must never hold message content, so ``details`` is a flat map
of lower_snake_case names to ids, numbers, booleans and short tokens: no
spaces (so no prose), no nesting, no lists, at most 200 characters a value.
Errors name the offending key but never repeat a refused value, because the
value may be exactly the content that must not spread (into logs, say).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from pydantic import ValidationError

from chat_service.audit.schemas import (
    AUDIT_ACTIONS,
    KIND_PATTERN,
    SAFE_VALUE_PATTERN,
    TENANT_PATTERN,
    AuditActor,
    DetailValue,
)
from chat_service.errors import BadRequest

__all__ = [
    "MAX_DETAIL_KEYS",
    "MAX_DETAIL_TEXT",
    "check_action",
    "check_actor",
    "check_details",
    "check_target",
    "check_tenant",
]

MAX_DETAIL_KEYS = 20
MAX_DETAIL_TEXT = 200
_DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SAFE_VALUE = re.compile(SAFE_VALUE_PATTERN)
_KIND = re.compile(KIND_PATTERN)
_TENANT = re.compile(TENANT_PATTERN)
# BSON stores integers as int64 at most.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _invalid(detail: str) -> BadRequest:
    return BadRequest(detail, code="audit_entry_invalid")


def _bad_details(detail: str) -> BadRequest:
    return BadRequest(detail, code="audit_details_invalid")


def check_tenant(tenant: object) -> str:
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise _invalid("tenant must be a tenant id or '_system'")
    return tenant


def check_action(action: object) -> str:
    if action not in AUDIT_ACTIONS:
        raise BadRequest(
            "unknown audit action; see chat_service.audit.schemas for the closed set",
            code="audit_action_unknown",
        )
    return str(action)


def check_actor(actor: object) -> AuditActor:
    """Validated again: an ``AuditActor`` built with ``model_construct`` skips
    its patterns."""
    if not isinstance(actor, AuditActor):
        raise _invalid("actor must be an AuditActor")
    try:
        return AuditActor.model_validate(actor.model_dump())
    except ValidationError:
        raise _invalid("actor id and role must be short ids without spaces") from None


def check_target(target_type: object, target_id: object) -> tuple[str, str]:
    if not isinstance(target_type, str) or not _KIND.fullmatch(target_type):
        raise _invalid("target_type must be a lower_snake_case name")
    if not isinstance(target_id, str) or not _SAFE_VALUE.fullmatch(target_id):
        raise _invalid("target_id must be an id of at most 200 characters without spaces")
    return target_type, target_id


def check_details(details: object) -> dict[str, DetailValue]:
    """``details`` as it will be stored, or :class:`BadRequest` with code
    ``audit_details_invalid``."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise _bad_details("details must be a mapping of names to ids, numbers or booleans")
    if len(details) > MAX_DETAIL_KEYS:
        raise _bad_details(f"details may have at most {MAX_DETAIL_KEYS} keys")
    checked: dict[str, DetailValue] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not _DETAIL_KEY.fullmatch(key):
            shown = repr(key)[:42]
            raise _bad_details(f"details key {shown} is not a lower_snake_case name")
        checked[key] = _check_value(key, value)
    return checked


def _check_value(key: str, value: object) -> DetailValue:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise _bad_details(f"details.{key} is outside the 64-bit integer range")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad_details(f"details.{key} must be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_DETAIL_TEXT:
            raise _bad_details(f"details.{key} is longer than {MAX_DETAIL_TEXT} characters")
        if not _SAFE_VALUE.fullmatch(value):
            raise _bad_details(
                f"details.{key} may hold only an id, code or number "
                "(letters, digits and _.:@/+=#- without spaces); never free text"
            )
        return value
    if isinstance(value, Mapping):
        raise _bad_details(f"details.{key} is a nested object; details must be flat")
    if isinstance(value, list | tuple | set | frozenset):
        raise _bad_details(f"details.{key} is a list; record one entry per target instead")
    raise _bad_details(f"details.{key} has a type that is not allowed ({type(value).__name__})")
