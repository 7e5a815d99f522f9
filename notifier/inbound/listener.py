"""The SMTP edge: an ``aiosmtpd`` server on the caller's event loop.

* RCPT: only ``reply+<token>@<reply domain>`` with a valid, unexpired token
  whose handle exists; anything else ``550 5.1.1``, so mail for unknown
  addresses is refused before its content is sent. One recipient per
  transaction (``452 4.5.3`` for more): each reply has one target.
* DATA: the size is capped by the server (``data_size_limit``, ``552``) and
  again here; then :class:`~notifier.inbound.service.InboundReplies` decides.
  ``250`` once stored *or deliberately dropped* (auto-replies and bounces are
  accepted and discarded so that nobody retries), ``550``/``552`` when refused,
  ``451`` when the store or Redis is down (the sending server retries later).

It runs on the loop that owns the store clients (``loop.create_server``), not
in ``aiosmtpd.controller.Controller``'s own thread and loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP

from notifier.inbound.errors import InboundUnavailable, Refused
from notifier.inbound.service import InboundReplies

__all__ = ["InboundSmtpServer", "ReplyHandler", "smtp_reply"]

log = logging.getLogger("notifier.inbound")

_REFUSALS = {
    "too_large": "552 5.3.4 message too big",
    "sender_mismatch": "550 5.7.1 sender not allowed to reply here",
    "replies_disabled": "550 5.7.1 replies by email are not accepted here",
    "not_participant": "550 5.7.1 replies by email are not accepted here",
    "token_invalid": "550 5.1.1 no such recipient",
    "token_expired": "550 5.1.1 this reply address has expired",
}


def smtp_reply(status: str, reason: str) -> str:
    if status in ("posted", "duplicate"):
        return "250 2.0.0 reply accepted"
    if status == "dropped":
        return "250 2.0.0 accepted, not posted"
    return _REFUSALS.get(reason, "550 5.6.0 message refused")


class ReplyHandler:
    def __init__(self, replies: InboundReplies, *, max_bytes: int) -> None:
        self._replies = replies
        self._max_bytes = max_bytes

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if envelope.rcpt_tos:
            return "452 4.5.3 one recipient per message"
        try:
            await self._replies.check_recipient(address)
        except Refused as refused:
            return _REFUSALS.get(refused.reason, "550 5.1.1 no such recipient")
        except InboundUnavailable:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        if len(raw) > self._max_bytes:
            return _REFUSALS["too_large"]
        try:
            outcome = await self._replies.handle(
                raw, envelope.rcpt_tos[0], envelope_sender=envelope.mail_from
            )
        except InboundUnavailable:
            return "451 4.3.0 try again later"
        except Exception:  # the request boundary: refuse, log, keep serving
            log.exception("inbound email failed")
            return "451 4.3.0 try again later"
        return smtp_reply(outcome.status, outcome.reason)


class InboundSmtpServer:
    """``await start()`` binds (port 0 picks a free one, see ``port``)."""

    def __init__(
        self,
        replies: InboundReplies,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_bytes: int,
        hostname: str = "localhost",
        timeout_seconds: float = 60.0,
    ) -> None:
        self._handler = ReplyHandler(replies, max_bytes=max_bytes)
        self._host, self._port = host, port
        self._max_bytes = max_bytes
        self._hostname = hostname
        self._timeout = timeout_seconds
        self._server: asyncio.Server | None = None
        self.port = port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(
                self._handler,
                data_size_limit=self._max_bytes,
                hostname=self._hostname,
                ident="marketplace-chat inbound",
                timeout=self._timeout,
                loop=loop,
            )

        self._server = await loop.create_server(protocol, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
