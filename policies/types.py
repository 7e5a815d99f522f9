"""Type aliases shared by the policy modules and by callers of the package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ROLES",
    "ComplianceMode",
    "ContactKind",
    "EmailMode",
    "Found",
    "PresetName",
    "RecordKind",
    "Role",
]

Role = Literal["buyer", "seller", "staff"]
ROLES: tuple[Role, ...] = ("buyer", "seller", "staff")

EmailMode = Literal["full", "redacted", "off"]
"""What an away email may carry: the text, only a sign-in notice, or nothing."""

ComplianceMode = Literal["standard", "gdpr", "hipaa"]
PresetName = Literal["standard", "gdpr", "hipaa", "custom"]

RecordKind = Literal["message", "attachment"]
"""What a retention rule applies to."""

ContactKind = Literal["phone", "email", "url"]


@dataclass(frozen=True, slots=True)
class Found:
    """One contact detail found in a text: ``text[start:end]``.

    ``value`` is the normalised form used for allowlist checks: the digits of a
    phone number, the address of an e-mail (``local@host``), the host of a URL.
    """

    kind: ContactKind
    start: int
    end: int
    value: str
