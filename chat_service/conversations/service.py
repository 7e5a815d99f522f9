"""The conversations service layer: every rule about who may read and write what.

HTTP endpoints and WebSocket frames both call this; it never sees a socket.
A user may touch only conversations they take part in; anything else gets the
same ``not_found`` as an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bson import Binary

from chat_service.audit import AuditActor, AuditLog
from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.clock import Clock
from chat_service.conversations.events import EventPublisher
from chat_service.conversations.quick_actions import SellerActions
from chat_service.conversations.repository import (
    ConversationRepository,
    MessageRepository,
    ReadRepository,
)
from chat_service.conversations.rules import check_text, conversation_public, idempotency_key
from chat_service.conversations.schemas import (
    SYSTEM_SENDER,
    ConversationCreate,
    ConversationPublic,
    ConversationSummary,
    MessageKind,
    MessagePage,
    MessagePublic,
    MessageVia,
)
from chat_service.conversations.sealing import MessageCodec
from chat_service.conversations.writing import (
    AttachmentClaims,
    MessageWriter,
    PolicySource,
    SendResult,
)
from chat_service.crypto import FieldCipher
from chat_service.errors import BadRequest, Forbidden, NotFound
from chat_service.ids import is_internal_id, new_id
from chat_service.notifications.service import PendingNotifications
from chat_service.users.service import UserDirectory
from chat_service.webhooks.service import WebhookOutbox

__all__ = ["Actor", "ConversationService", "Limits", "SendResult"]

Actor = UserPrincipal | ServerPrincipal


@dataclass(frozen=True)
class Limits:
    max_message_chars: int
    history_page_max: int


# A user's conversations are ordered by activity in memory, over at most this many.
_LIST_SCAN_MAX = 1000


def _may_see(actor: Actor, conv: dict[str, Any]) -> bool:
    if isinstance(actor, ServerPrincipal):
        return True
    return actor.user_id in {p["user_id"] for p in conv["participants"]}


class ConversationService:
    def __init__(
        self,
        *,
        conversations: ConversationRepository,
        messages: MessageRepository,
        reads: ReadRepository,
        users: UserDirectory,
        cipher: FieldCipher,
        publisher: EventPublisher,
        claims: AttachmentClaims,
        policies: PolicySource,
        notifications: PendingNotifications | None,
        audit: AuditLog | None,
        clock: Clock,
        limits: Limits,
        outbox: WebhookOutbox | None = None,
    ) -> None:
        self._convs = conversations
        self._messages = messages
        self._reads = reads
        self._users = users
        self._codec = MessageCodec(cipher, clock)
        self._publisher = publisher
        self._writer = MessageWriter(
            messages, self._codec, publisher, claims, policies, notifications, outbox
        )
        self._clock = clock
        self._limits = limits
        self._audit = audit
        self.actions = SellerActions(self.check_access, self._writer, policies)

    # -- conversations -------------------------------------------------------

    async def open_conversation(
        self, actor: ServerPrincipal, request: ConversationCreate
    ) -> tuple[ConversationPublic, bool]:
        """Create the conversation of an order or quote, or return the existing one
        (adding participants it did not have yet)."""
        ids = [p.user_id for p in request.participants]
        if len(set(ids)) != len(ids):
            raise BadRequest("a participant is listed twice", code="invalid_request")
        now = self._clock.now()
        for p in request.participants:
            await self._users.remember(
                actor.tenant, p.user_id, role=p.role, display_name=p.display_name, email=p.email
            )
        participants = [
            {"user_id": p.user_id, "role": p.role, "display_name": p.display_name}
            for p in request.participants
        ]
        doc, created = await self._convs.insert_or_get(
            {
                "_id": new_id("c"),
                "tenant": actor.tenant,
                "subject_type": request.subject_type,
                "subject_id": request.subject_id,
                "title": request.title,
                "participants": participants,
                "created_at": now,
            }
        )
        if not created:
            known = {p["user_id"] for p in doc["participants"]}
            added = [p for p in participants if p["user_id"] not in known]
            if added:
                doc["participants"] = [*doc["participants"], *added]
                await self._convs.set_participants(actor.tenant, doc["_id"], doc["participants"])
                await self._publisher.publish(
                    actor.tenant,
                    doc["_id"],
                    {
                        "type": "participants",
                        "conversation_id": doc["_id"],
                        "participants": doc["participants"],
                    },
                )
        activity = await self._messages.activity([doc["_id"]])
        return await self._public(doc, activity.get(doc["_id"])), created

    async def get_conversation(self, actor: Actor, conv_id: str) -> ConversationPublic:
        conv = await self._visible(actor, conv_id, fresh=True)
        return await self._public(conv, (await self._messages.activity([conv_id])).get(conv_id))

    async def list_conversations(
        self, user: UserPrincipal, *, limit: int = 50
    ) -> list[ConversationSummary]:
        docs = await self._convs.for_user(user.tenant, user.user_id, _LIST_SCAN_MAX)
        activity = await self._messages.activity([d["_id"] for d in docs])
        # Most recent activity first; conversations without messages by creation.
        docs.sort(key=lambda d: activity.get(d["_id"], (0, d["created_at"]))[1], reverse=True)
        docs = docs[: min(limit, 200)]
        reads = await self._reads.for_user(user.tenant, user.user_id, [d["_id"] for d in docs])
        summaries = []
        for doc in docs:
            public = await self._public(doc, activity.get(doc["_id"]))
            last_read = reads.get(doc["_id"], 0)
            last = await self._messages.last_visible(doc["_id"])
            summaries.append(
                ConversationSummary(
                    **public.model_dump(),
                    unread_count=await self._messages.count_unread(
                        doc["_id"], user.user_id, last_read
                    ),
                    last_message=await self._codec.decode(user.tenant, last) if last else None,
                )
            )
        return summaries

    def forget_cached(self, conv_id: str) -> None:
        """Drop the few-seconds memory of a conversation (its participants changed)."""
        self._convs.forget(conv_id)

    async def assert_participant(self, user: UserPrincipal, conv_id: str) -> dict[str, Any]:
        """Checked on every frame, not only at subscribe time."""
        return await self._visible(user, conv_id)

    async def check_access(self, actor: Actor, conv_id: str) -> dict[str, Any]:
        """The conversation if ``actor`` may see it, else ``not_found``."""
        return await self._visible(actor, conv_id)

    # -- messages ------------------------------------------------------------

    async def send(
        self,
        actor: Actor,
        conv_id: str,
        *,
        client_msg_id: str,
        text: str | None,
        as_user: str | None = None,
        attachments: Sequence[str] = (),
        via: MessageVia = "chat",
    ) -> SendResult:
        """A message with text, photos (ids of the sender's uploads) or both;
        ``via="email"`` marks a reply to an away email posted by the notifier."""
        conv = await self._visible(actor, conv_id)
        if text is None and not attachments:
            raise BadRequest("a message needs text, attachments or both", code="invalid_text")
        if attachments and not isinstance(actor, UserPrincipal):
            raise BadRequest("photos are sent by the user who uploaded them", code="user_required")
        kind: MessageKind
        if isinstance(actor, UserPrincipal):
            sender, kind = actor.user_id, "text"
        elif as_user is not None:
            if as_user not in {p["user_id"] for p in conv["participants"]}:
                raise BadRequest(
                    "sender_id is not a participant of this conversation", code="invalid_request"
                )
            sender, kind = as_user, "text"
        else:
            sender, kind = SYSTEM_SENDER, "system"
        return await self._writer.append(
            conv,
            sender=sender,
            kind=kind,
            client_msg_id=client_msg_id,
            text=None if text is None else self._text(text),
            attachment_ids=attachments,
            via=via,
        )

    async def edit(
        self, user: UserPrincipal, conv_id: str, *, target_seq: int, text: str, client_msg_id: str
    ) -> SendResult:
        """Log an ``edit`` entry, then apply it to the target. A resend finds the
        logged entry and re-applies *its* text, so a crash between the two steps
        converges, and a resend never changes what the log says."""
        conv = await self._visible(user, conv_id)
        text = self._text(text)
        if (
            await self._messages.get_by_idem(conv_id, idempotency_key(user.user_id, client_msg_id))
            is None
        ):
            await self._own_message(user, conv_id, target_seq)
        result = await self._writer.append(
            conv,
            sender=user.user_id,
            kind="edit",
            client_msg_id=client_msg_id,
            text=text,
            target_seq=target_seq,
        )
        entry = result.message
        if entry.kind == "edit" and entry.target_seq is not None and entry.text is not None:
            target = await self._messages.get_by_seq(conv_id, entry.target_seq)
            if target is not None and not target.get("deleted"):
                sealed = await self._codec.seal(conv, target["_id"], entry.text, target["sender"])
                await self._messages.apply_edit(
                    conv_id,
                    entry.target_seq,
                    edit_seq=entry.seq,
                    fields={
                        "key_id": sealed.key_id,
                        "text": Binary(sealed.blob),
                        "edited_at": entry.created_at,
                    },
                )
        return result

    async def delete(
        self, user: UserPrincipal, conv_id: str, *, target_seq: int, client_msg_id: str
    ) -> SendResult:
        """Log a ``delete`` entry, then scrub the text of the target and of every
        edit of it; the tombstone keeps seq, sender and time."""
        conv = await self._visible(user, conv_id)
        if (
            await self._messages.get_by_idem(conv_id, idempotency_key(user.user_id, client_msg_id))
            is None
        ):
            await self._own_message(user, conv_id, target_seq, allow_deleted=True)
        result = await self._writer.append(
            conv,
            sender=user.user_id,
            kind="delete",
            client_msg_id=client_msg_id,
            text=None,
            target_seq=target_seq,
        )
        if result.message.kind == "delete" and result.message.target_seq is not None:
            target = await self._messages.get_by_seq(conv_id, result.message.target_seq)
            if target is not None:
                # Photos first: a crash in between leaves a tombstone-to-be that a
                # resend of the delete finishes.
                await self._writer.discard_attachments(user.tenant, conv_id, target)
            await self._messages.scrub(conv_id, result.message.target_seq)
        return result

    async def history(
        self,
        actor: Actor,
        conv_id: str,
        *,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 50,
    ) -> MessagePage:
        conv = await self._visible(actor, conv_id)
        if self._audit is not None and (
            isinstance(actor, ServerPrincipal) or actor.role == "staff"
        ):  # staff and the backend read people's messages: audited (DESIGN.md)
            await self._audit.record(
                actor.tenant,
                AuditActor.of(actor),
                "conversation.viewed_by_staff",
                target_type="conversation",
                target_id=conv_id,
            )
        limit = max(1, min(limit, self._limits.history_page_max))
        if before_seq is not None:
            docs = await self._messages.page_before(conv["_id"], before_seq, limit + 1)
            has_more = len(docs) > limit
            docs = docs[-limit:] if has_more else docs
        else:
            docs = await self._messages.page_after(conv["_id"], after_seq or 0, limit + 1)
            has_more = len(docs) > limit
            docs = docs[:limit]
        return MessagePage(
            messages=[await self._codec.decode(actor.tenant, d) for d in docs], has_more=has_more
        )

    async def mark_read(self, user: UserPrincipal, conv_id: str, seq: int) -> int:
        conv = await self._visible(user, conv_id)
        seq = await self._messages.clamp_to_last_seq(conv["_id"], seq)
        stored = await self._reads.mark(user.tenant, conv["_id"], user.user_id, seq)
        await self._publisher.publish(
            user.tenant,
            conv["_id"],
            {
                "type": "read",
                "conversation_id": conv["_id"],
                "user_id": user.user_id,
                "seq": stored,
            },
        )
        return stored

    async def read_marks(self, conv: dict[str, Any]) -> dict[str, int]:
        return await self._reads.for_conversation(
            conv["_id"], [p["user_id"] for p in conv["participants"]]
        )

    async def last_seq(self, conv_id: str) -> int:
        return await self._messages.last_seq(conv_id)

    async def messages_after(
        self, tenant: str, conv_id: str, after_seq: int, limit: int
    ) -> list[MessagePublic]:
        """For the hub's catch-up; the caller has already checked access."""
        docs = await self._messages.page_after(conv_id, after_seq, limit)
        return [await self._codec.decode(tenant, d) for d in docs]

    # -- internals -----------------------------------------------------------

    def _text(self, text: str) -> str:
        return check_text(text, max_chars=self._limits.max_message_chars)

    async def _visible(self, actor: Actor, conv_id: str, *, fresh: bool = False) -> dict[str, Any]:
        """The conversation if ``actor`` may see it; else the same ``not_found``
        whether it exists or not. Answers from memory unless ``fresh``; a refusal
        from memory is re-checked against the store (participants may have been
        added by another process)."""
        if not is_internal_id(conv_id):
            raise NotFound("conversation not found")
        conv = await (self._convs.get if fresh else self._convs.get_recent)(actor.tenant, conv_id)
        if conv is not None and not fresh and not _may_see(actor, conv):
            conv = await self._convs.get(actor.tenant, conv_id)
        if conv is None or not _may_see(actor, conv):
            raise NotFound("conversation not found")
        return conv

    async def _own_message(
        self, user: UserPrincipal, conv_id: str, seq: int, *, allow_deleted: bool = False
    ) -> dict[str, Any]:
        target = await self._messages.get_by_seq(conv_id, seq)
        if target is None or target["kind"] != "text":
            raise NotFound("message not found")
        if target["sender"] != user.user_id:
            raise Forbidden("only the author may change a message", code="not_author")
        if target.get("deleted") and not allow_deleted:
            raise BadRequest("message was deleted", code="message_deleted")
        return target

    async def _public(
        self, doc: dict[str, Any], activity: tuple[int, Any] | None
    ) -> ConversationPublic:
        return conversation_public(doc, await self.read_marks(doc), activity)
