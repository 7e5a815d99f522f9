"""The final gate: at due time, is an away email still wanted, and with what?

Re-checks everything that may have changed since the notification was
scheduled: the conversation and the recipient's place in it, the policy
(fails closed: unreadable -> ``redacted``), the recipient's preference
(unsubscribed), presence (back online), read marks (read since) and the
messages themselves (deleted). What is left is every unread message from
others after the notification's high-water mark, in ``seq`` order.

The gate only reads; :mod:`notifier.delivery` acts on its verdict.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from chat_service.conversations.repository import (
    ConversationRepository,
    MessageRepository,
    ReadRepository,
)
from chat_service.conversations.schemas import SYSTEM_SENDER, MessagePublic
from chat_service.conversations.sealing import MessageCodec
from chat_service.errors import ChatError
from chat_service.notifications.service import NOTIFIED_KINDS, EmailPreferences
from policies import EmailMode, Policy, email_content_mode

__all__ = ["Batch", "Gate", "Skip", "Verdict", "candidates"]

PolicySource = Callable[[str], Awaitable[Policy]]
OnlineCheck = Callable[[str, str], Awaitable[bool]]
# How many log entries one gate reads at most (edits and deletes included).
_SCAN_LIMIT = 500


@dataclass(frozen=True)
class Skip:
    """No email; every message up to ``through_seq`` is settled."""

    reason: str
    through_seq: int


@dataclass(frozen=True)
class Batch:
    """One email: ``messages`` (decoded), everything up to ``through_seq``."""

    conv: dict[str, Any]
    role: str
    mode: EmailMode
    policy: Policy | None
    email: str
    recipient_name: str
    messages: list[MessagePublic]
    through_seq: int
    names: dict[str, str] = field(default_factory=dict)


Verdict = Skip | Batch


def candidates(docs: list[dict[str, Any]], user_id: str) -> list[dict[str, Any]]:
    """Entries worth telling ``user_id`` about: visible, not deleted, from someone else."""
    return [
        d
        for d in docs
        if d["kind"] in NOTIFIED_KINDS and not d.get("deleted") and d["sender"] != user_id
    ]


class Gate:
    def __init__(
        self,
        *,
        conversations: ConversationRepository,
        messages: MessageRepository,
        reads: ReadRepository,
        codec: MessageCodec,
        email_of: Callable[[str, str], Awaitable[str | None]],
        preferences: EmailPreferences,
        policies: PolicySource,
        online: OnlineCheck,
        max_messages: int,
    ) -> None:
        self._convs = conversations
        self._messages = messages
        self._reads = reads
        self._codec = codec
        self._email_of = email_of
        self._preferences = preferences
        self._policies = policies
        self._online = online
        self._max_messages = max_messages

    async def policy_of(self, tenant: str) -> Policy | None:
        """The policy in force, or ``None`` when it cannot be read (fail closed)."""
        try:
            return await self._policies(tenant)
        except ChatError:
            return None

    async def last_seq(self, note: dict[str, Any]) -> int:
        return await self._messages.last_seq(note["conv"])

    async def unsettled(self, note: dict[str, Any]) -> dict[str, Any] | None:
        """The first message that still needs a decision for this recipient."""
        mark = int(note.get("settled_through_seq") or 0)
        read = (await self._reads.for_conversation(note["conv"], [note["user"]])).get(
            note["user"], 0
        )
        docs = await self._messages.page_after(note["conv"], max(mark, read), _SCAN_LIMIT)
        wanted = candidates(docs, note["user"])
        return wanted[0] if wanted else None

    async def check(self, note: dict[str, Any]) -> Verdict:
        tenant, conv_id, user_id = note["tenant"], note["conv"], note["user"]
        mark = int(note.get("settled_through_seq") or 0)
        conv = await self._convs.get(tenant, conv_id)
        if conv is None:
            return Skip("conversation_gone", mark)
        me = next((p for p in conv["participants"] if p["user_id"] == user_id), None)
        if me is None:
            return Skip("not_participant", mark)
        read = (await self._reads.for_conversation(conv_id, [user_id])).get(user_id, 0)
        docs = await self._messages.page_after(conv_id, max(mark, read), _SCAN_LIMIT)
        seen = docs[-1]["seq"] if docs else max(mark, read)
        wanted = candidates(docs, user_id)
        if not wanted:
            return Skip("nothing_unread", seen)  # read since, deleted, or only edits
        policy = await self.policy_of(tenant)
        mode = email_content_mode(policy, me.get("role", ""))
        if mode == "off":
            return Skip("mode_off", seen)
        if not await self._preferences.away_emails_enabled(tenant, user_id):
            return Skip("unsubscribed", seen)
        if await self._online(tenant, user_id):
            return Skip("online", seen)
        email = await self._email_of(tenant, user_id)
        if not email:
            return Skip("no_address", seen)
        if len(wanted) > self._max_messages:
            # The rest opens a new window when this email is done.
            wanted = wanted[: self._max_messages]
            seen = wanted[-1]["seq"]
        decoded = [await self._codec.decode(tenant, d) for d in wanted]
        shown = [m for m in decoded if m.text is not None or m.attachments]
        if not shown:
            return Skip("nothing_readable", seen)
        names = {
            p["user_id"]: p.get("display_name") or "A participant" for p in conv["participants"]
        }
        names[SYSTEM_SENDER] = "Marketplace"
        return Batch(
            conv=conv,
            role=me.get("role", ""),
            mode=mode,
            policy=policy,
            email=email,
            recipient_name=me.get("display_name") or "there",
            messages=shown,
            through_seq=seen,
            names=names,
        )
