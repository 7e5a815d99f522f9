"""The rules a policy must obey beyond its shape, and changing a policy.

Rules (each broken rule is one problem; :func:`validate` reports them all):

* ``schema_version`` is :data:`~policies.model.SCHEMA_VERSION`; a named
  ``preset`` has the matching ``compliance_mode`` (``custom`` may have any);
* HIPAA: no role gets ``full`` away-email content, and staff sessions idle
  out within :data:`HIPAA_MAX_SESSION_IDLE_MINUTES`;
* GDPR and HIPAA: message and attachment retention are both finite;
* retention, when set, is 1..:data:`MAX_RETENTION_DAYS` days, and
  ``attachment_days`` may not exceed ``message_days`` when both are set (an
  attachment never outlives its message; with only ``message_days`` set,
  attachments go with their message);
* hard caps: e-mail delay 0..7 days, attachments 1 byte..50 MiB and 1..20 per
  message, staff idle timeout 1..480 minutes;
* allowlist: at most 50 distinct entries, each 1..253 printable characters
  without whitespace;
* replacement: 3..32 characters; letters, spaces and ``[]()<>{}*_-#!~`` only;
  at least one letter; starting and ending with one of those symbols; no
  number word and no ``at``/``dot`` in it. Such a replacement never reads as
  a contact detail and never joins the text around it, which is what makes
  masking idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policies.addresses import MARKER_WORDS
from policies.errors import PolicyInvalid, Problem
from policies.model import SCHEMA_VERSION, Policy
from policies.phones import NUMBER_WORDS
from policies.presets import PRESET_NAMES, PRESETS, preset

__all__ = [
    "HIPAA_MAX_SESSION_IDLE_MINUTES",
    "MAX_ALLOWLIST_ENTRIES",
    "MAX_ALLOWLIST_ENTRY_CHARS",
    "MAX_ATTACHMENTS_PER_MESSAGE",
    "MAX_ATTACHMENT_BYTES",
    "MAX_EMAIL_DELAY_SECONDS",
    "MAX_REPLACEMENT_CHARS",
    "MAX_RETENTION_DAYS",
    "MAX_SESSION_IDLE_MINUTES",
    "apply_changes",
    "changed_fields",
    "policy_problems",
    "validate",
]

MAX_EMAIL_DELAY_SECONDS = 7 * 24 * 3600
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
MAX_ATTACHMENTS_PER_MESSAGE = 20
MAX_SESSION_IDLE_MINUTES = 480
HIPAA_MAX_SESSION_IDLE_MINUTES = 30
MAX_RETENTION_DAYS = 36500
MAX_ALLOWLIST_ENTRIES = 50
MAX_ALLOWLIST_ENTRY_CHARS = 253
MAX_REPLACEMENT_CHARS = 32

_REPLACEMENT_SYMBOLS = frozenset("[]()<>{}*_-#!~")
_WORD = re.compile(r"[^\W\d_]+")


def _range(path: str, value: int, low: int, high: int, unit: str) -> list[Problem]:
    if low <= value <= high:
        return []
    return [(path, f"must be between {low} and {high} {unit}, not {value}")]


def _retention_problems(policy: Policy) -> list[Problem]:
    problems: list[Problem] = []
    retention = policy.retention
    for name in ("message_days", "attachment_days"):
        days: int | None = getattr(retention, name)
        path = f"retention.{name}"
        if days is None:
            if policy.compliance_mode in ("gdpr", "hipaa"):
                mode = policy.compliance_mode.upper()
                problems.append((path, f"{mode} mode requires a finite retention period"))
        else:
            problems += _range(path, days, 1, MAX_RETENTION_DAYS, "days")
    messages, attachments = retention.message_days, retention.attachment_days
    if messages is not None and attachments is not None and attachments > messages:
        problems.append(
            (
                "retention.attachment_days",
                f"may not exceed retention.message_days ({messages}): "
                "an attachment never outlives its message",
            )
        )
    return problems


def _allowlist_problems(entries: tuple[str, ...]) -> list[Problem]:
    problems: list[Problem] = []
    if len(entries) > MAX_ALLOWLIST_ENTRIES:
        problems.append(
            ("masking.allowlist", f"at most {MAX_ALLOWLIST_ENTRIES} entries, not {len(entries)}")
        )
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        path = f"masking.allowlist.{index}"
        if not 1 <= len(entry) <= MAX_ALLOWLIST_ENTRY_CHARS:
            problems.append((path, f"must be 1 to {MAX_ALLOWLIST_ENTRY_CHARS} characters long"))
        elif not entry.isprintable() or any(char.isspace() for char in entry):
            problems.append((path, "may not contain whitespace or control characters"))
        elif entry.casefold() in seen:
            problems.append((path, f"duplicate entry {entry!r}"))
        seen.add(entry.casefold())
    return problems


def _replacement_problems(replacement: str) -> list[Problem]:
    path = "masking.replacement"
    if not 3 <= len(replacement) <= MAX_REPLACEMENT_CHARS:
        return [(path, f"must be 3 to {MAX_REPLACEMENT_CHARS} characters long")]
    allowed = all(
        char.isalpha() or char == " " or char in _REPLACEMENT_SYMBOLS for char in replacement
    )
    if not allowed:
        return [(path, "may contain only letters, spaces and []()<>{}*_-#!~")]
    if replacement[0] not in _REPLACEMENT_SYMBOLS or replacement[-1] not in _REPLACEMENT_SYMBOLS:
        return [(path, "must start and end with one of []()<>{}*_-#!~, e.g. [hidden]")]
    words = [word.casefold() for word in _WORD.findall(replacement)]
    if not words:
        return [(path, "must contain at least one letter")]
    if any(word in NUMBER_WORDS or word in MARKER_WORDS for word in words):
        return [(path, "may not contain number words or 'at'/'dot': it would be masked itself")]
    return []


def policy_problems(policy: Policy) -> list[Problem]:
    """Every rule ``policy`` breaks, as ``(field_path, message)``; empty if none."""
    problems: list[Problem] = []
    if policy.schema_version != SCHEMA_VERSION:
        problems.append(("schema_version", f"must be {SCHEMA_VERSION}"))
    if policy.preset != "custom" and policy.preset != policy.compliance_mode:
        problems.append(
            (
                "preset",
                f"the {policy.preset!r} preset has compliance_mode {policy.preset!r}; "
                "use preset 'custom' for other combinations",
            )
        )
    email = policy.email
    if policy.compliance_mode == "hipaa":
        for role, mode in email.content_by_role.model_dump().items():
            if mode == "full":
                problems.append(
                    (
                        f"email.content_by_role.{role}",
                        "HIPAA mode forbids message text in emails; use 'redacted' or 'off'",
                    )
                )
    problems += _range(
        "email.delay_seconds", email.delay_seconds, 0, MAX_EMAIL_DELAY_SECONDS, "seconds"
    )
    problems += _retention_problems(policy)
    problems += _allowlist_problems(policy.masking.allowlist)
    problems += _replacement_problems(policy.masking.replacement)
    attachments = policy.attachments
    problems += _range(
        "attachments.max_bytes", attachments.max_bytes, 1, MAX_ATTACHMENT_BYTES, "bytes"
    )
    problems += _range(
        "attachments.max_per_message",
        attachments.max_per_message,
        1,
        MAX_ATTACHMENTS_PER_MESSAGE,
        "attachments",
    )
    idle_cap = (
        HIPAA_MAX_SESSION_IDLE_MINUTES
        if policy.compliance_mode == "hipaa"
        else MAX_SESSION_IDLE_MINUTES
    )
    problems += _range(
        "staff.session_idle_minutes", policy.staff.session_idle_minutes, 1, idle_cap, "minutes"
    )
    return problems


def validate(policy: Policy) -> Policy:
    """``policy`` itself if it obeys every rule, else :class:`PolicyInvalid`."""
    problems = policy_problems(policy)
    if problems:
        raise PolicyInvalid(problems)
    return policy


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merged[key] = _merge(current, value)
        else:
            merged[key] = value
    return merged


def _label(policy: Policy) -> Policy:
    """``policy`` named after the preset it equals, or ``custom``."""
    names = [policy.preset, *PRESET_NAMES]
    for name in names:
        if name in PRESET_NAMES and policy.model_copy(update={"preset": name}) == preset(name):
            return policy.model_copy(update={"preset": name})
    return policy.model_copy(update={"preset": "custom"})


def apply_changes(policy: Policy, changes: Mapping[str, Any]) -> Policy:
    """``policy`` with a nested partial update applied, validated.

    ``changes`` mirrors the document: ``{"email": {"content_by_role":
    {"buyer": "off"}}}`` changes one value; lists (the allowlist) are replaced
    whole. ``"preset": "hipaa"`` starts from the HIPAA preset and applies the
    other changes on top. The result is labelled with the preset it equals,
    else ``custom``. Unknown fields, wrong types and broken rules raise
    :class:`PolicyInvalid` listing every problem.
    """
    if not isinstance(changes, Mapping):
        raise PolicyInvalid([("", "changes must be a JSON object")])
    rest = dict(changes)
    base = policy
    if "preset" in rest:
        name = rest.pop("preset")
        if isinstance(name, str) and name in PRESETS:
            base = preset(name)
        elif name != "custom":
            choices = ", ".join([*PRESET_NAMES, "custom"])
            raise PolicyInvalid([("preset", f"unknown preset {name!r}; choose one of {choices}")])
    merged = _merge(base.to_document(), rest)
    candidate = Policy.from_document(merged, check_rules=False)
    return validate(_label(candidate))


def _leaves(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    leaves: dict[str, Any] = {}
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            leaves.update(_leaves(value, path + "."))
        else:
            leaves[path] = value
    return leaves


def changed_fields(old: Policy, new: Policy) -> list[str]:
    """Dotted paths of every value that differs, in document order, for the
    history and the audit log (``["email.delay_seconds", "preset"]``-style)."""
    before, after = _leaves(old.to_document()), _leaves(new.to_document())
    paths = [*before, *(path for path in after if path not in before)]
    return [path for path in paths if before.get(path) != after.get(path)]
