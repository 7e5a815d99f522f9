"""Helpers of the inbound tests: building emails, and the real listener wired up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

import aiosmtplib

from chat_service.services import Services
from notifier.config import NotifierSettings
from notifier.inbound.config import InboundSettings
from notifier.inbound.listener import InboundSmtpServer
from notifier.inbound.service import InboundReplies
from notifier.inbound.tokens import ReplyAddresses
from notifier.inbound.wiring import build_inbound, reply_addresses

REPLY_DOMAIN = "reply.shop.test"
SELLER_EMAIL = "s@mail.test"
OWN_FROM = "Shop notifications <notify@shop.test>"


def inbound_settings(**overrides: object) -> InboundSettings:
    values: dict[str, object] = {
        "environment": "test",
        "reply_domain": REPLY_DOMAIN,
        "inbound_max_bytes": 64 * 1024,
        "inbound_max_parts": 10,
        "inbound_max_depth": 4,
    }
    values.update(overrides)
    return InboundSettings(**values)  # type: ignore[arg-type]


def outbound_settings() -> NotifierSettings:
    return NotifierSettings(environment="test", mail_from=OWN_FROM)


def reply_email(
    text: str,
    *,
    sender: str = f"Sam Seller <{SELLER_EMAIL}>",
    message_id: str | None = "<reply-1@mail.test>",
    subject: str = "Re: 1 new message",
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = "reply@placeholder.test"
    message["Subject"] = subject
    if message_id is not None:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    if html is None:
        message.set_content(text)
    elif text:
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")
    return message


@dataclass
class Inbound:
    services: Services
    replies: InboundReplies
    addresses: ReplyAddresses
    server: InboundSmtpServer
    settings: InboundSettings

    async def address(self, tenant: str, conv: str, user: str = "seller-1") -> str:
        address = await self.addresses(tenant, conv, user)
        assert address is not None
        return address

    async def deliver(
        self, message: EmailMessage | bytes, to: str, *, mail_from: str = SELLER_EMAIL
    ) -> tuple[int, str]:
        """Send over SMTP; the final reply (code, text) of RCPT or DATA."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=self.server.port, timeout=10)
        await client.connect()
        try:
            await client.mail(mail_from)
            try:
                await client.rcpt(to)
                reply = await client.data(raw)
            except aiosmtplib.SMTPResponseException as exc:
                return exc.code, exc.message
            return reply.code, reply.message
        finally:
            await client.quit()


@asynccontextmanager
async def running_inbound(
    services: Services, *, ensure_indexes: bool = True, **overrides: object
) -> AsyncIterator[Inbound]:
    settings = inbound_settings(**overrides)
    addresses = reply_addresses(services, settings)
    if ensure_indexes:
        await addresses.ensure_indexes()
    replies = build_inbound(services, settings, outbound_settings())
    server = InboundSmtpServer(replies, max_bytes=settings.inbound_max_bytes)
    await server.start()
    try:
        yield Inbound(services, replies, addresses, server, settings)
    finally:
        await server.stop()
