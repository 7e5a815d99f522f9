"""From a gate's :class:`~notifier.gate.Batch` to a ready ``EmailMessage``.

Chooses the content shape by mode (``full`` or ``redacted``), mints the
opaque links (open the chat, unsubscribe), and adds a ``Reply-To`` only when
the policy allows replies by email and the reply half supplies an address.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from chat_service.clock import Clock
from chat_service.notifications.tokens import NotificationTokens
from notifier.config import NotifierSettings
from notifier.gate import Batch
from notifier.mail import build_email, new_message_id, thread_id
from notifier.render import (
    FullContent,
    MessageLine,
    RedactedContent,
    one_line,
    render_full,
    render_redacted,
)
from notifier.types import ReplyAddress
from policies import reply_by_email_allowed

__all__ = ["Composer"]


class Composer:
    def __init__(
        self,
        *,
        settings: NotifierSettings,
        tokens: NotificationTokens,
        thread_key: bytes,
        public_base_url: str,
        clock: Clock,
        reply_address: ReplyAddress | None = None,
    ) -> None:
        self._settings = settings
        self._tokens = tokens
        self._thread_key = hashlib.sha256(b"away-email threads\n" + thread_key).digest()
        self._base = public_base_url.rstrip("/")
        self._clock = clock
        self._reply_address = reply_address
        self._from = settings.sender()

    @property
    def envelope_from(self) -> str:
        return self._from.addr_spec

    def message_id(self, attempt_id: str) -> str:
        return new_message_id(attempt_id, self._settings.mail_domain)

    def _links(self, tenant: str, conv: str, user: str) -> tuple[str, str]:
        expires = int(
            (self._clock.now() + timedelta(seconds=self._settings.link_ttl_seconds)).timestamp()
        )
        opened = self._tokens.mint(
            "open", tenant=tenant, user=user, conversation=conv, expires=expires
        )
        unsubscribe = self._tokens.mint("unsubscribe", tenant=tenant, user=user, expires=expires)
        return (
            f"{self._base}/v1/open?token={opened}",
            f"{self._base}/v1/unsubscribe?token={unsubscribe}",
        )

    async def compose(self, note: dict[str, Any], batch: Batch, *, message_id: str) -> EmailMessage:
        tenant, conv, user = note["tenant"], note["conv"], note["user"]
        open_url, unsubscribe_url = self._links(tenant, conv, user)
        if batch.mode == "full":
            limit = self._settings.email_max_text_chars
            rendered = render_full(
                FullContent(
                    recipient_name=one_line(batch.recipient_name, 80),
                    subject_type=str(batch.conv["subject_type"]),
                    subject_id=str(batch.conv["subject_id"]),
                    title=batch.conv.get("title"),
                    messages=[
                        MessageLine(
                            sender_name=one_line(batch.names.get(m.sender_id, "A participant"), 80),
                            text=_text_of(m.text, len(m.attachments), limit),
                            sent_at=m.created_at,
                        )
                        for m in batch.messages
                    ],
                    open_url=open_url,
                    unsubscribe_url=unsubscribe_url,
                )
            )
        else:
            rendered = render_redacted(RedactedContent(open_url, unsubscribe_url))
        reply_to = None
        if self._reply_address is not None and reply_by_email_allowed(batch.policy, batch.mode):
            reply_to = await self._reply_address(tenant, conv, user)
        return build_email(
            rendered,
            sender=self._from,
            to=batch.email,
            date=self._clock.now(),
            message_id=message_id,
            thread=thread_id(self._thread_key, tenant, conv, user, self._settings.mail_domain),
            unsubscribe_url=unsubscribe_url,
            reply_to=reply_to,
        )


def _text_of(text: str | None, photos: int, limit: int) -> str:
    shown = text or ""
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    if photos:
        note = f"[{photos} photo{'s' if photos != 1 else ''}]"
        shown = f"{shown}\n{note}" if shown else note
    return shown
