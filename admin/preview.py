"""What an away email looks like under a policy, per recipient role, rendered
by the notifier's own renderer (``notifier.render``) from sample data, so the
preview cannot drift from what is sent. The sample text goes through the
policy's masking first, as a real message would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.render import FullContent, MessageLine, RedactedContent, render_full, render_redacted
from policies import ROLES, EmailMode, Policy, email_content_mode, mask_contact_details
from policies import reply_by_email_allowed as replies_allowed

__all__ = ["SAMPLE_TEXTS", "EmailPreview", "preview_emails"]

SAMPLE_TEXTS = (
    "Hi! Is the blue chair still available in oak?",
    "Yes, it ships Monday. Questions? Call me on 555-201-7788 or write to sam@example.com",
)
_OPEN = "https://marketplace.example/v1/open?token=SAMPLE"
_UNSUBSCRIBE = "https://marketplace.example/v1/unsubscribe?token=SAMPLE"


@dataclass(frozen=True)
class EmailPreview:
    role: str
    mode: EmailMode
    subject: str | None
    text: str | None
    html: str | None
    reply_by_email: bool


def preview_emails(policy: Policy, now: datetime) -> list[EmailPreview]:
    """One preview per recipient role; ``off`` has nothing to render."""
    previews: list[EmailPreview] = []
    for role in ROLES:
        mode = email_content_mode(policy, role)
        replies = replies_allowed(policy, mode)
        if mode == "off":
            previews.append(EmailPreview(role, mode, None, None, None, False))
            continue
        if mode == "full":
            lines = [
                MessageLine(
                    sender_name=name,
                    text=mask_contact_details(text, policy).text,
                    sent_at=now - timedelta(minutes=minutes),
                )
                for name, text, minutes in (
                    ("Alex Buyer", SAMPLE_TEXTS[0], 4),
                    ("Sam Seller", SAMPLE_TEXTS[1], 2),
                )
            ]
            rendered = render_full(
                FullContent(
                    recipient_name="Robin",
                    subject_type="order",
                    subject_id="1042",
                    title="Blue chair, oak",
                    messages=lines,
                    open_url=_OPEN,
                    unsubscribe_url=_UNSUBSCRIBE,
                )
            )
        else:
            rendered = render_redacted(RedactedContent(_OPEN, _UNSUBSCRIBE))
        previews.append(
            EmailPreview(role, mode, rendered.subject, rendered.text, rendered.html, replies)
        )
    return previews
