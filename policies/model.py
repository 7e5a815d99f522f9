"""The policy model: one frozen, versioned document per marketplace.

This module owns the *shape* of a policy (fields, types, the JSON document
form and its versioning). The *rules* a shape must also obey (HIPAA forbids
full e-mail text, hard caps, ...) live in :mod:`policies.validation`;
:meth:`Policy.from_document` applies both, so a policy read from a document
is always a valid one.

Documents are plain JSON (``to_document``/``from_document`` round-trip
exactly). Types are strict: ``"60"`` is not an integer and ``true`` is not a
number. A document with a ``schema_version`` other than :data:`SCHEMA_VERSION`
is refused before anything else is checked; when the schema changes, bump the
version and teach ``from_document`` to upgrade older documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from policies.errors import PolicyInvalid, Problem
from policies.types import ComplianceMode, EmailMode, PresetName, Role

__all__ = [
    "DEFAULT_REPLACEMENT",
    "SCHEMA_VERSION",
    "AttachmentPolicy",
    "ContentByRole",
    "EmailPolicy",
    "MaskingPolicy",
    "Policy",
    "RetentionPolicy",
    "StaffPolicy",
]

SCHEMA_VERSION = 1
DEFAULT_REPLACEMENT = "[hidden]"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ContentByRole(_Part):
    """What an away email may carry, per recipient role."""

    buyer: EmailMode
    seller: EmailMode
    staff: EmailMode

    def for_role(self, role: Role) -> EmailMode:
        mode: EmailMode = getattr(self, role)
        return mode


class EmailPolicy(_Part):
    """Away emails: content per role, delay after the first unread message,
    and whether replying to the email posts into the chat."""

    content_by_role: ContentByRole
    delay_seconds: int
    reply_by_email_allowed: bool


class RetentionPolicy(_Part):
    """How long records are kept, in days; ``None`` keeps them forever.

    An attachment never outlives its message (deleting a message deletes its
    attachments), so the attachment retention in effect is the shorter of the
    two; see :func:`policies.decisions.retention_days`.
    """

    message_days: int | None
    attachment_days: int | None
    keep_original_when_masked: bool = False


class MaskingPolicy(_Part):
    """Which contact details are masked in chat text, what is never masked
    (domains, with their subdomains, or exact strings) and what replaces them."""

    phones: bool
    emails: bool
    urls: bool
    allowlist: tuple[str, ...] = ()
    replacement: str = DEFAULT_REPLACEMENT

    @field_validator("allowlist", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        # JSON has lists, not tuples; strict mode would refuse them otherwise.
        return tuple(value) if isinstance(value, list) else value


class AttachmentPolicy(_Part):
    allowed: bool
    max_bytes: int
    max_per_message: int


class StaffPolicy(_Part):
    session_idle_minutes: int


class Policy(_Part):
    """A marketplace's compliance policy.

    ``preset`` records where the values came from (``custom`` once they no
    longer equal a preset); ``compliance_mode`` is what the rules key on.
    """

    schema_version: int = SCHEMA_VERSION
    preset: PresetName
    compliance_mode: ComplianceMode
    email: EmailPolicy
    retention: RetentionPolicy
    masking: MaskingPolicy
    attachments: AttachmentPolicy
    staff: StaffPolicy

    def to_document(self) -> dict[str, Any]:
        """The JSON-safe document form (lists, not tuples)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_document(cls, document: object, *, check_rules: bool = True) -> Policy:
        """Read a document, raising :class:`PolicyInvalid` that lists every problem.

        With ``check_rules=False`` only the shape is checked (used while a
        change is assembled; callers should leave it on).
        """
        if not isinstance(document, Mapping):
            raise PolicyInvalid([("", "a policy document must be a JSON object")])
        version = document.get("schema_version", SCHEMA_VERSION)
        if type(version) is not int or version != SCHEMA_VERSION:
            raise PolicyInvalid(
                [
                    (
                        "schema_version",
                        f"unsupported schema version {version!r}; "
                        f"this service reads version {SCHEMA_VERSION}",
                    )
                ]
            )
        try:
            policy = cls.model_validate(dict(document))
        except ValidationError as error:
            raise PolicyInvalid(_problems_of(error)) from None
        if not check_rules:
            return policy
        # Deferred: the rules module imports this one.
        from policies.validation import validate

        return validate(policy)


def _problems_of(error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "required field is missing"
        else:
            message = item["msg"]
        problems.append((path, message))
    return problems
