"""A real SMTP server (``aiosmtpd``) on a free port that keeps what it receives.

It can be told to refuse: ``reject_rcpt`` answers every RCPT with that reply
(e.g. ``"550 5.1.1 no such user"``); ``data_replies`` are the answers to the
next DATA commands, in order (e.g. ``["421 4.3.0 try later"]``), before it
goes back to accepting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from chat_service.embedded.servers import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    def parsed(self) -> EmailMessage:
        message = message_from_bytes(self.raw, policy=default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Sink:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    reject_rcpt: str | None = None
    data_replies: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.reject_rcpt:
            return self.reject_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [r.parsed() for r in self.received]


class SinkServer:
    def __init__(self) -> None:
        self.sink = Sink(port=free_port())
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.sink.port)

    def start(self) -> Sink:
        self._controller.start()
        return self.sink

    def stop(self) -> None:
        self._controller.stop()
