"""The three presets a compliance officer starts from.

=========================  ==============  ==============  ==============
field                      standard        gdpr            hipaa
=========================  ==============  ==============  ==============
away email, every role     full            full            redacted
away email delay           120 s           120 s           120 s
reply by email             allowed         allowed         off
message retention          forever         365 days        2190 days
attachment retention       forever         180 days        2190 days
mask phones / e-mails      on / on         on / on         on / on
mask links                 off             on              on
attachments                10 MiB, 10      10 MiB, 10      10 MiB, 10
staff session idle         60 min          30 min          15 min
=========================  ==============  ==============  ==============

Why: *standard* masks phone numbers and e-mail addresses because keeping
deals on the platform is what masking is for, but leaves links alone since
buyers and sellers share product and tracking links all the time. *gdpr*
minimises personal data: finite retention (attachments, mostly photos, go
sooner) and links masked too. *hipaa* never puts message text in an email,
does not accept replies by email unless the officer turns them on, keeps
records six years (the HIPAA documentation period; shorten it if counsel
allows) and logs idle staff out after 15 minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import get_args

from policies.errors import PolicyInvalid
from policies.model import (
    AttachmentPolicy,
    ContentByRole,
    EmailPolicy,
    MaskingPolicy,
    Policy,
    RetentionPolicy,
    StaffPolicy,
)
from policies.types import ComplianceMode, EmailMode

__all__ = ["PRESETS", "PRESET_NAMES", "default_policy", "preset"]

PRESET_NAMES: tuple[ComplianceMode, ...] = get_args(ComplianceMode)

_MIB = 1024 * 1024
_ATTACHMENTS = AttachmentPolicy(allowed=True, max_bytes=10 * _MIB, max_per_message=10)


def _email(mode: EmailMode, *, replies: bool) -> EmailPolicy:
    return EmailPolicy(
        content_by_role=ContentByRole(buyer=mode, seller=mode, staff=mode),
        delay_seconds=120,
        reply_by_email_allowed=replies,
    )


_PRESETS: dict[ComplianceMode, Policy] = {
    "standard": Policy(
        preset="standard",
        compliance_mode="standard",
        email=_email("full", replies=True),
        retention=RetentionPolicy(message_days=None, attachment_days=None),
        masking=MaskingPolicy(phones=True, emails=True, urls=False),
        attachments=_ATTACHMENTS,
        staff=StaffPolicy(session_idle_minutes=60),
    ),
    "gdpr": Policy(
        preset="gdpr",
        compliance_mode="gdpr",
        email=_email("full", replies=True),
        retention=RetentionPolicy(message_days=365, attachment_days=180),
        masking=MaskingPolicy(phones=True, emails=True, urls=True),
        attachments=_ATTACHMENTS,
        staff=StaffPolicy(session_idle_minutes=30),
    ),
    "hipaa": Policy(
        preset="hipaa",
        compliance_mode="hipaa",
        email=_email("redacted", replies=False),
        retention=RetentionPolicy(message_days=2190, attachment_days=2190),
        masking=MaskingPolicy(phones=True, emails=True, urls=True),
        attachments=_ATTACHMENTS,
        staff=StaffPolicy(session_idle_minutes=15),
    ),
}
PRESETS: Mapping[ComplianceMode, Policy] = MappingProxyType(_PRESETS)
"""Read-only; policies are frozen, so sharing them is safe."""
_BY_NAME: dict[str, Policy] = {str(name): policy for name, policy in _PRESETS.items()}


def preset(name: str) -> Policy:
    """The preset called ``name``, or :class:`PolicyInvalid`."""
    found = _BY_NAME.get(name)
    if found is None:
        raise PolicyInvalid(
            [("preset", f"unknown preset {name!r}; choose one of {', '.join(PRESET_NAMES)}")]
        )
    return found


def default_policy() -> Policy:
    """What a marketplace gets before its compliance officer chooses: standard."""
    return _PRESETS["standard"]
