"""Shared type aliases and protocols of the notifier."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Protocol

__all__ = ["BeforeData", "MailSender", "ReplyAddress"]

# (tenant, conversation, recipient) -> the signed reply address, or None.
# Supplied by the reply-by-email half; until then no Reply-To is set.
ReplyAddress = Callable[[str, str, str], Awaitable[str | None]]


# Awaited right before the message body goes out (SMTP DATA): until then the
# server has nothing it could deliver, so a send that dies earlier is safe to
# repeat. Raising from it aborts the send as a transient failure.
BeforeData = Callable[[], Awaitable[None]]


class MailSender(Protocol):
    async def send(
        self,
        message: EmailMessage,
        *,
        sender: str,
        recipient: str,
        before_data: BeforeData | None = None,
    ) -> None:
        """Deliver or raise a ``notifier.errors.MailError``."""
        ...
