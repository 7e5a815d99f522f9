"""Shared type aliases and protocols of the notifier."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Protocol

__all__ = ["MailSender", "ReplyAddress"]

# (tenant, conversation, recipient) -> the signed reply address, or None.
# Supplied by the reply-by-email half; until then no Reply-To is set.
ReplyAddress = Callable[[str, str, str], Awaitable[str | None]]


class MailSender(Protocol):
    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        """Deliver or raise a ``notifier.errors.MailError``."""
        ...
