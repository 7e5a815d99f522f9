"""Compliance policies: a pure model and pure decisions (no I/O, no asyncio).

Imports nothing of ours; ``chat_service``, ``notifier`` and ``admin`` build on
it. Modules:

* :mod:`policies.model` the versioned policy document and its JSON form
* :mod:`policies.presets` standard, GDPR and HIPAA starting points
* :mod:`policies.validation` rules, hard caps, partial updates, change lists
* :mod:`policies.decisions` away-email modes, retention, attachments, sessions
* :mod:`policies.masking` masking contact details in chat text, which
  :mod:`policies.phones` and :mod:`policies.addresses` find
* :mod:`policies.errors` ``PolicyError`` and ``PolicyInvalid``
"""

from policies.decisions import (
    AttachmentDecision,
    AttachmentRefusal,
    attachment_byte_limit,
    attachment_decision,
    email_content_mode,
    is_expired,
    reply_by_email_allowed,
    retention_cutoff,
    retention_days,
    staff_session_expired,
)
from policies.errors import PolicyError, PolicyInvalid, Problem
from policies.masking import MaskResult, mask_contact_details
from policies.model import (
    SCHEMA_VERSION,
    AttachmentPolicy,
    ContentByRole,
    EmailPolicy,
    MaskingPolicy,
    Policy,
    RetentionPolicy,
    StaffPolicy,
)
from policies.presets import PRESET_NAMES, PRESETS, default_policy, preset
from policies.types import (
    ROLES,
    ComplianceMode,
    ContactKind,
    EmailMode,
    PresetName,
    RecordKind,
    Role,
)
from policies.validation import apply_changes, changed_fields, policy_problems, validate

__all__ = [
    "PRESETS",
    "PRESET_NAMES",
    "ROLES",
    "SCHEMA_VERSION",
    "AttachmentDecision",
    "AttachmentPolicy",
    "AttachmentRefusal",
    "ComplianceMode",
    "ContactKind",
    "ContentByRole",
    "EmailMode",
    "EmailPolicy",
    "MaskResult",
    "MaskingPolicy",
    "Policy",
    "PolicyError",
    "PolicyInvalid",
    "PresetName",
    "Problem",
    "RecordKind",
    "RetentionPolicy",
    "Role",
    "StaffPolicy",
    "apply_changes",
    "attachment_byte_limit",
    "attachment_decision",
    "changed_fields",
    "default_policy",
    "email_content_mode",
    "is_expired",
    "mask_contact_details",
    "policy_problems",
    "preset",
    "reply_by_email_allowed",
    "retention_cutoff",
    "retention_days",
    "staff_session_expired",
    "validate",
]
