"""Handling one inbound email: checks, then the reply posted as the recipient.

``InboundReplies.handle(raw, envelope_recipient)`` gives an :class:`Outcome`:

* ``posted``    stored and fanned out like any chat message (masking applies);
* ``duplicate`` this Message-ID was handled before for this reply address;
* ``dropped``   accepted and discarded on purpose (auto-reply, bounce, loop,
  bulk, empty after stripping): the sender's server must not retry;
* ``rejected``  refused for good (bad token, wrong sender, replies disabled,
  limits, malformed): the SMTP edge answers 5xx.

A store or Redis failure raises :class:`InboundUnavailable` (SMTP 451).

Exactly once: the chat message's ``client_msg_id`` is derived from the
Message-ID, so even two concurrent deliveries of one email create one message;
``processed_inbound`` (one document per reply address and Message-ID) records
the outcome; the message itself carries ``via: "email"``. Photos attached to
a reply go through the attachments pipeline as the replying user's uploads
(upload ids derived from the Message-ID, so a redelivery finds them) and are
carried by the same message; a file the pipeline refuses is skipped and
counted, the rest is posted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat_service.attachments.service import AttachmentService
from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.clock import Clock
from chat_service.conversations.service import ConversationService
from chat_service.errors import ChatError, Unavailable
from chat_service.stores import Document
from notifier.inbound.checks import automatic_reason, sender_reason
from notifier.inbound.errors import InboundUnavailable, Refused
from notifier.inbound.parse import ParsedMail, ParseLimits, parse_inbound, strip_reply
from notifier.inbound.tokens import ReplyAddresses, ReplyTarget
from policies import Policy, email_content_mode, reply_by_email_allowed

__all__ = ["InboundReplies", "Outcome", "Status", "client_msg_id_for"]

log = logging.getLogger("notifier.inbound")
Status = Literal["posted", "duplicate", "dropped", "rejected"]
_TRANSIENT = (ConnectionFailure, RedisConnectionError, RedisTimeoutError, Unavailable, OSError)


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str
    seq: int | None = None


def client_msg_id_for(message_key: str) -> str:
    """``email-`` and 40 hex characters: fits ``[A-Za-z0-9_-]{1,64}``."""
    return "email-" + hashlib.sha256(message_key.encode()).hexdigest()[:40]


class InboundReplies:
    def __init__(
        self,
        *,
        db: AsyncDatabase[Document],
        addresses: ReplyAddresses,
        conversations: ConversationService,
        attachments: AttachmentService,
        email_of: Callable[[str, str], Awaitable[str | None]],
        policies: Callable[[str], Awaitable[Policy]],
        clock: Clock,
        limits: ParseLimits,
        own_addresses: Collection[str],
        own_domains: Collection[str],
        max_message_chars: int,
    ) -> None:
        self._processed = db["processed_inbound"]
        self._addresses = addresses
        self._conversations = conversations
        self._attachments = attachments
        self._email_of = email_of
        self._policies = policies
        self._clock = clock
        self._limits = limits
        self._own = tuple(own_addresses)
        self._own_domains = tuple(own_domains)
        self._max_chars = max_message_chars

    async def check_recipient(self, address: str) -> ReplyTarget:
        """For RCPT: the target, :class:`Refused` or :class:`InboundUnavailable`."""
        try:
            return await self._addresses.resolve(address)
        except _TRANSIENT as exc:
            raise InboundUnavailable(type(exc).__name__) from None

    async def handle(
        self, raw: bytes, envelope_recipient: str, *, envelope_sender: str | None = None
    ) -> Outcome:
        try:
            outcome = await self._handle(raw, envelope_recipient, envelope_sender)
        except Refused as refused:
            outcome = Outcome("rejected", refused.reason)
        except _TRANSIENT as exc:
            raise InboundUnavailable(type(exc).__name__) from None
        log.info("inbound email %s", outcome.status, extra={"reason": outcome.reason})
        return outcome

    async def _handle(self, raw: bytes, recipient: str, envelope_sender: str | None) -> Outcome:
        if len(raw) > self._limits.max_bytes:
            raise Refused("too_large")
        target = await self._addresses.resolve(recipient)
        mail = parse_inbound(raw, self._limits)
        message_key = mail.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
        record_id = hashlib.sha256(
            "\n".join((target.tenant, target.conversation, target.user, message_key)).encode()
        ).hexdigest()
        seen = await self._processed.find_one({"_id": record_id})
        if seen is not None:
            return Outcome("duplicate", str(seen.get("reason", seen["status"])), seen.get("seq"))
        automatic = automatic_reason(
            mail,
            envelope_sender=envelope_sender,
            own_addresses=self._own,
            own_domains=self._own_domains,
        )
        if automatic is not None:
            return await self._record(record_id, target, Outcome("dropped", automatic), mail)
        wrong_sender = sender_reason(mail, await self._email_of(target.tenant, target.user))
        if wrong_sender is not None:
            raise Refused(wrong_sender)
        participant = await self._check_allowed(target)
        text = strip_reply(mail.text, max_chars=self._limits.max_text_chars)
        if len(text) > self._max_chars:
            text = text[: self._max_chars - 1] + "…"
        replier = UserPrincipal(
            tenant=target.tenant,
            user_id=target.user,
            name=participant.get("display_name") or target.user,
            role=participant.get("role", "buyer"),
            expires_at=self._clock.now() + timedelta(minutes=5),
        )
        photos = await self._upload_photos(replier, target, mail, message_key)
        if not text and not photos:
            return await self._record(record_id, target, Outcome("dropped", "empty_reply"), mail)
        try:
            result = await self._conversations.send(
                replier,
                target.conversation,
                client_msg_id=client_msg_id_for(f"{target.user}\n{message_key}"),
                text=text or None,
                attachments=photos,
                via="email",
            )
        except Unavailable:
            raise
        except ChatError as exc:
            raise Refused(exc.code) from None
        outcome = Outcome("posted", "posted", result.message.seq)
        return await self._record(record_id, target, outcome, mail)

    async def _upload_photos(
        self, replier: UserPrincipal, target: ReplyTarget, mail: ParsedMail, message_key: str
    ) -> list[str]:
        """The ids of the reply's photos, uploaded as the replier's own."""
        ids: list[str] = []
        for index, data in enumerate(mail.images):

            async def body(data: bytes = data) -> AsyncIterator[bytes]:
                yield data

            try:
                photo, _ = await self._attachments.upload(
                    replier,
                    target.conversation,
                    client_msg_id_for(f"{target.user}\n{message_key}\n{index}"),
                    body(),
                    declared_length=len(data),
                )
            except Unavailable:
                raise
            except ChatError as exc:
                log.info("inbound photo skipped", extra={"reason": exc.code})
                continue
            ids.append(photo.id)
        return ids

    async def _check_allowed(self, target: ReplyTarget) -> dict[str, Any]:
        """Still a participant, and the policy still allows replies for their
        role; returns the participant."""
        try:
            conv = await self._conversations.check_access(
                ServerPrincipal(tenant=target.tenant), target.conversation
            )
        except ChatError:
            raise Refused("not_participant") from None
        found = [p for p in conv["participants"] if p["user_id"] == target.user]
        if not found:
            raise Refused("not_participant")
        policy = await self._policies(target.tenant)
        if not reply_by_email_allowed(policy, email_content_mode(policy, found[0].get("role", ""))):
            raise Refused("replies_disabled")
        return dict(found[0])

    async def _record(
        self, record_id: str, target: ReplyTarget, outcome: Outcome, mail: ParsedMail
    ) -> Outcome:
        fields: dict[str, Any] = {
            "tenant": target.tenant,
            "conv": target.conversation,
            "user": target.user,
            "status": outcome.status,
            "reason": outcome.reason,
            "seq": outcome.seq,
            "via": "email",
            "attachments": mail.attachments,
            "created_at": self._clock.now(),
        }
        # A concurrent delivery of the same email may have recorded it first.
        with contextlib.suppress(DuplicateKeyError):
            await self._processed.update_one(
                {"_id": record_id}, {"$setOnInsert": fields}, upsert=True
            )
        return outcome
