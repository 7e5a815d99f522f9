"""Pure decisions the service takes from a policy: away-email content and
replies, retention, attachment limits, staff session timeouts.

Each decision stays safe on a policy that was never validated (built with
``model_construct``, or a stored document from an older release):

* e-mail content fails closed: no policy, an unreadable value or an unknown
  role gives ``redacted``, and ``full`` is never returned in HIPAA mode;
* destructive decisions fail safe: retention below one day counts as one
  day, so a bad value can never purge everything at once; hard caps
  (attachment size and count, idle timeout) apply even if the policy
  exceeds them.

Times must be timezone-aware; a naive datetime is a programming error and
raises :class:`ValueError`.

Callers that read a stored document should do::

    try:
        policy = Policy.from_document(doc)
    except PolicyInvalid:
        policy = None  # email_content_mode(None, role) == "redacted"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from policies.model import Policy
from policies.types import ROLES, EmailMode, RecordKind
from policies.validation import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS_PER_MESSAGE,
    MAX_RETENTION_DAYS,
    MAX_SESSION_IDLE_MINUTES,
)

__all__ = [
    "AttachmentDecision",
    "AttachmentRefusal",
    "attachment_byte_limit",
    "attachment_decision",
    "email_content_mode",
    "is_expired",
    "reply_by_email_allowed",
    "retention_cutoff",
    "retention_days",
    "staff_session_expired",
]

AttachmentRefusal = Literal["attachments_disabled", "too_many_attachments", "attachment_too_large"]
_EPOCH_FLOOR = datetime.min.replace(tzinfo=UTC)


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def email_content_mode(policy: Policy | None, role: str) -> EmailMode:
    """What an away email to a recipient with ``role`` may carry.

    Fails closed: ``None`` (the policy could not be read), an unknown role or
    an unreadable mode give ``redacted``; HIPAA never gets ``full``.
    """
    if not isinstance(policy, Policy) or role not in ROLES:
        return "redacted"
    mode = getattr(policy.email.content_by_role, role, None)
    if mode == "off":
        return "off"
    if mode == "full" and policy.compliance_mode != "hipaa":
        return "full"
    return "redacted"


def reply_by_email_allowed(policy: Policy | None, mode: str) -> bool:
    """Whether an away email sent in ``mode`` may carry a reply-by-email address.

    Only when the policy is readable and allows it, and an email is sent at
    all (``full`` or ``redacted``; a redacted email's reply address is an
    opaque token, so it reveals nothing). Never for ``off`` or an unknown mode.
    """
    if not isinstance(policy, Policy) or mode not in ("full", "redacted"):
        return False
    return policy.email.reply_by_email_allowed is True


def retention_days(kind: RecordKind, policy: Policy) -> int | None:
    """Days a record of ``kind`` is kept, ``None`` for ever.

    An attachment goes with its message, so its retention is the shorter of
    the two. Values are clamped to 1..``MAX_RETENTION_DAYS``.
    """
    if kind not in ("message", "attachment"):
        raise ValueError(f"unknown record kind {kind!r}")
    retention = policy.retention
    days = retention.message_days
    if kind == "attachment" and retention.attachment_days is not None:
        days = retention.attachment_days if days is None else min(days, retention.attachment_days)
    if days is None:
        return None
    return max(1, min(days, MAX_RETENTION_DAYS))


def retention_cutoff(kind: RecordKind, policy: Policy, now: datetime) -> datetime | None:
    """Records of ``kind`` created at or before this moment are expired;
    ``None`` when they are kept for ever. Use it as the purge query's bound."""
    _aware(now, "now")
    days = retention_days(kind, policy)
    if days is None:
        return None
    try:
        return now - timedelta(days=days)
    except OverflowError:
        return _EPOCH_FLOOR


def is_expired(created_at: datetime, kind: RecordKind, policy: Policy, now: datetime) -> bool:
    """Whether a record of ``kind`` created at ``created_at`` is past retention
    at ``now`` (a record exactly ``days`` old is expired)."""
    _aware(created_at, "created_at")
    cutoff = retention_cutoff(kind, policy, now)
    return cutoff is not None and created_at <= cutoff


@dataclass(frozen=True, slots=True)
class AttachmentDecision:
    """Whether one more attachment may be accepted, and if not, why.

    ``reason`` is a stable code for error frames and problem details; ``limit``
    is the limit that was hit (bytes or attachments), if any.
    """

    allowed: bool
    reason: AttachmentRefusal | None = None
    limit: int | None = None

    @property
    def detail(self) -> str:
        if self.reason == "attachments_disabled":
            return "this marketplace does not accept attachments"
        if self.reason == "too_many_attachments":
            return f"a message may carry at most {self.limit} attachments"
        if self.reason == "attachment_too_large":
            return f"an attachment may be at most {self.limit} bytes"
        return "attachment allowed"


def attachment_byte_limit(policy: Policy) -> int:
    """The most bytes one attachment may have: stop reading an upload past it."""
    return max(0, min(policy.attachments.max_bytes, MAX_ATTACHMENT_BYTES))


def attachment_decision(
    policy: Policy, *, size_bytes: int, count_in_message: int
) -> AttachmentDecision:
    """Whether an attachment of ``size_bytes`` may be added to a message that
    would then carry ``count_in_message`` attachments (this one included).

    Checked in this order: attachments allowed at all, the count, the size.
    """
    if size_bytes < 0 or count_in_message < 0:
        raise ValueError("size_bytes and count_in_message may not be negative")
    rules = policy.attachments
    if rules.allowed is not True:
        return AttachmentDecision(False, "attachments_disabled")
    most = max(0, min(rules.max_per_message, MAX_ATTACHMENTS_PER_MESSAGE))
    if count_in_message > most:
        return AttachmentDecision(False, "too_many_attachments", most)
    largest = attachment_byte_limit(policy)
    if size_bytes > largest:
        return AttachmentDecision(False, "attachment_too_large", largest)
    return AttachmentDecision(True)


def staff_session_expired(last_seen: datetime, policy: Policy, now: datetime) -> bool:
    """Whether a staff session last active at ``last_seen`` has idled out at
    ``now``. The timeout is clamped to 1..``MAX_SESSION_IDLE_MINUTES``; a
    ``last_seen`` in the future (clock skew) is not expired."""
    _aware(last_seen, "last_seen")
    _aware(now, "now")
    minutes = max(1, min(policy.staff.session_idle_minutes, MAX_SESSION_IDLE_MINUTES))
    return now - last_seen >= timedelta(minutes=minutes)
