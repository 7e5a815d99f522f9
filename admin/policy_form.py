"""The policy editor's form: a policy as form values, and form values as a
nested change for ``PolicyService.update``. Pure; unit-tested without a server.

Field names are flat (``email_buyer``, ``retention_message_days``...); an empty
retention means "keep forever"; an unticked checkbox is absent, so False.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies import ROLES, Policy, Problem

__all__ = ["CHECKBOXES", "changes_from_values", "values_from_form", "values_from_policy"]

Values = dict[str, Any]

_INTS = {
    "email_delay_seconds": "email.delay_seconds",
    "attachments_max_bytes": "attachments.max_bytes",
    "attachments_max_per_message": "attachments.max_per_message",
    "staff_session_idle_minutes": "staff.session_idle_minutes",
}
_OPTIONAL_INTS = {
    "retention_message_days": "retention.message_days",
    "retention_attachment_days": "retention.attachment_days",
}
CHECKBOXES = (
    "reply_by_email_allowed",
    "keep_original_when_masked",
    "mask_phones",
    "mask_emails",
    "mask_urls",
    "attachments_allowed",
)
_TEXTS = ("compliance_mode", "mask_replacement", "mask_allowlist", *(f"email_{r}" for r in ROLES))
_MAX_FIELD_CHARS = 20_000


def values_from_policy(policy: Policy) -> Values:
    email, retention, masking = policy.email, policy.retention, policy.masking
    values: Values = {
        "compliance_mode": policy.compliance_mode,
        "email_delay_seconds": str(email.delay_seconds),
        "reply_by_email_allowed": email.reply_by_email_allowed,
        "retention_message_days": _days(retention.message_days),
        "retention_attachment_days": _days(retention.attachment_days),
        "keep_original_when_masked": retention.keep_original_when_masked,
        "mask_phones": masking.phones,
        "mask_emails": masking.emails,
        "mask_urls": masking.urls,
        "mask_allowlist": "\n".join(masking.allowlist),
        "mask_replacement": masking.replacement,
        "attachments_allowed": policy.attachments.allowed,
        "attachments_max_bytes": str(policy.attachments.max_bytes),
        "attachments_max_per_message": str(policy.attachments.max_per_message),
        "staff_session_idle_minutes": str(policy.staff.session_idle_minutes),
    }
    for role in ROLES:
        values[f"email_{role}"] = policy.email.content_by_role.for_role(role)
    return values


def values_from_form(form: Mapping[str, Any]) -> Values:
    values: Values = {}
    for name in (*_INTS, *_OPTIONAL_INTS, *_TEXTS):
        raw = form.get(name)
        values[name] = raw[:_MAX_FIELD_CHARS] if isinstance(raw, str) else ""
    for name in CHECKBOXES:
        values[name] = form.get(name) is not None
    return values


def changes_from_values(values: Values) -> tuple[dict[str, Any], list[Problem]]:
    """The nested change the form asks for, and the problems found reading it
    (wrong numbers); the policy's own rules are checked by ``apply_changes``."""
    problems: list[Problem] = []
    numbers: dict[str, int | None] = {}
    for name, path in _INTS.items():
        numbers[path] = _int(values[name], path, problems)
    for name, path in _OPTIONAL_INTS.items():
        text = str(values[name]).strip()
        numbers[path] = None if text == "" else _int(text, path, problems)
    allowlist = [line.strip() for line in str(values["mask_allowlist"]).splitlines()]
    changes: dict[str, Any] = {
        "compliance_mode": values["compliance_mode"],
        "email": {
            "content_by_role": {role: values[f"email_{role}"] for role in ROLES},
            "delay_seconds": numbers["email.delay_seconds"],
            "reply_by_email_allowed": values["reply_by_email_allowed"],
        },
        "retention": {
            "message_days": numbers["retention.message_days"],
            "attachment_days": numbers["retention.attachment_days"],
            "keep_original_when_masked": values["keep_original_when_masked"],
        },
        "masking": {
            "phones": values["mask_phones"],
            "emails": values["mask_emails"],
            "urls": values["mask_urls"],
            "allowlist": [entry for entry in allowlist if entry],
            "replacement": values["mask_replacement"],
        },
        "attachments": {
            "allowed": values["attachments_allowed"],
            "max_bytes": numbers["attachments.max_bytes"],
            "max_per_message": numbers["attachments.max_per_message"],
        },
        "staff": {"session_idle_minutes": numbers["staff.session_idle_minutes"]},
    }
    return changes, problems


def _days(days: int | None) -> str:
    return "" if days is None else str(days)


def _int(text: object, path: str, problems: list[Problem]) -> int | None:
    value = str(text).strip()
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    problems.append((path, "must be a whole number"))
    return None
