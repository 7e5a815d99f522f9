"""What each client frame does, for one authenticated connection.

Translates frames into calls of the conversations service and replies into
frames; every frame re-checks that the user takes part in the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chat_service.conversations.service import ConversationService
from chat_service.errors import BadRequest
from chat_service.hub.connection import Connection
from chat_service.hub.presence import PresenceTracker
from chat_service.hub.protocol import (
    ActionFrame,
    AuthFrame,
    ClientFrame,
    DeleteFrame,
    EditFrame,
    PingFrame,
    ReadFrame,
    SendFrame,
    SubscribeFrame,
    TypingFrame,
    UnsubscribeFrame,
)
from chat_service.hub.ratelimit import RateLimiter
from chat_service.hub.rooms import Rooms
from chat_service.metrics import Metrics

__all__ = ["FrameHandler", "HubLimits"]


@dataclass(frozen=True)
class HubLimits:
    send_rate_per_minute: int
    typing_rate_per_minute: int
    max_subscriptions: int


class FrameHandler:
    def __init__(
        self,
        conversations: ConversationService,
        rooms: Rooms,
        presence: PresenceTracker,
        limiter: RateLimiter,
        limits: HubLimits,
        metrics: Metrics,
    ) -> None:
        self._conversations = conversations
        self._rooms = rooms
        self._presence = presence
        self._limiter = limiter
        self._limits = limits
        self._metrics = metrics

    async def handle(self, conn: Connection, frame: ClientFrame) -> None:
        """Run one frame; raises :class:`ChatError` for the caller to report."""
        match frame:
            case SendFrame():
                await self._send(conn, frame)
            case SubscribeFrame():
                await self._subscribe(conn, frame)
            case UnsubscribeFrame():
                sub = conn.subscriptions.get(frame.conversation_id)
                if sub is not None:
                    await self._rooms.leave(sub)
                conn.enqueue(
                    _reply(frame.ref, "unsubscribed", conversation_id=frame.conversation_id)
                )
            case TypingFrame():
                await self._typing(conn, frame)
            case ReadFrame():
                seq = await self._conversations.mark_read(
                    conn.principal, frame.conversation_id, frame.seq
                )
                conn.enqueue(
                    _reply(frame.ref, "ack", conversation_id=frame.conversation_id, read_seq=seq)
                )
            case EditFrame():
                await self._limit_send(conn)
                result = await self._conversations.edit(
                    conn.principal,
                    frame.conversation_id,
                    target_seq=frame.seq,
                    text=frame.text,
                    client_msg_id=frame.client_msg_id,
                )
                conn.enqueue(
                    _ack(frame.ref, result.message.model_dump(mode="json"), result.created)
                )
            case DeleteFrame():
                await self._limit_send(conn)
                result = await self._conversations.delete(
                    conn.principal,
                    frame.conversation_id,
                    target_seq=frame.seq,
                    client_msg_id=frame.client_msg_id,
                )
                conn.enqueue(
                    _ack(frame.ref, result.message.model_dump(mode="json"), result.created)
                )
            case ActionFrame():
                await self._limit_send(conn)
                result = await self._conversations.actions.send(
                    conn.principal,
                    frame.conversation_id,
                    client_msg_id=frame.client_msg_id,
                    action=frame.action,
                )
                if result.created:
                    self._metrics.messages_stored.inc()
                conn.enqueue(
                    _ack(frame.ref, result.message.model_dump(mode="json"), result.created)
                )
            case PingFrame():
                conn.enqueue(_reply(frame.ref, "pong"))
            case AuthFrame():
                raise BadRequest(
                    "this connection is already authenticated", code="already_authenticated"
                )

    async def _send(self, conn: Connection, frame: SendFrame) -> None:
        await self._limit_send(conn)
        result = await self._conversations.send(
            conn.principal,
            frame.conversation_id,
            client_msg_id=frame.client_msg_id,
            text=frame.text,
            attachments=list(frame.attachments),
        )
        if result.created:
            self._metrics.messages_stored.inc()
        conn.enqueue(_ack(frame.ref, result.message.model_dump(mode="json"), result.created))

    async def _limit_send(self, conn: Connection) -> None:
        user = conn.principal
        await self._limiter.hit(
            user.tenant, user.user_id, "send", limit=self._limits.send_rate_per_minute
        )

    async def _subscribe(self, conn: Connection, frame: SubscribeFrame) -> None:
        user = conn.principal
        if (
            frame.conversation_id not in conn.subscriptions
            and len(conn.subscriptions) >= self._limits.max_subscriptions
        ):
            raise BadRequest(
                f"at most {self._limits.max_subscriptions} subscriptions per connection",
                code="too_many_subscriptions",
            )
        conv = await self._conversations.assert_participant(user, frame.conversation_id)
        last_seq = await self._conversations.last_seq(conv["_id"])
        # A client cannot have seen what does not exist yet; starting past the end
        # would silently skip future messages.
        after_seq = min(frame.after_seq, last_seq)
        # Join before reading the rest, so nothing published meanwhile is missed.
        sub = await self._rooms.join(conn, user.tenant, conv["_id"], after_seq)
        try:
            others = [p["user_id"] for p in conv["participants"] if p["user_id"] != user.user_id]
            online = await self._presence.online(user.tenant, others)
            reads = await self._conversations.read_marks(conv)
        except BaseException:
            await self._rooms.leave(sub)
            raise
        conn.enqueue(
            _reply(
                frame.ref,
                "subscribed",
                conversation_id=conv["_id"],
                after_seq=after_seq,
                last_seq=last_seq,
                read=reads,
                presence={u: "online" if up else "away" for u, up in online.items()},
            )
        )
        sub.catch_up()
        await self._rooms.publish_presence(user.tenant, conv["_id"], user.user_id, "online")

    async def _typing(self, conn: Connection, frame: TypingFrame) -> None:
        user = conn.principal
        await self._limiter.hit(
            user.tenant, user.user_id, "typing", limit=self._limits.typing_rate_per_minute
        )
        await self._conversations.assert_participant(user, frame.conversation_id)
        await self._rooms.publish(
            user.tenant,
            frame.conversation_id,
            {
                "type": "typing",
                "conversation_id": frame.conversation_id,
                "user_id": user.user_id,
                "state": frame.state,
            },
        )


def _reply(ref: str | None, frame_type: str, **fields: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": frame_type, **fields}
    if ref is not None:
        frame["ref"] = ref
    return frame


def _ack(ref: str | None, message: dict[str, Any], created: bool) -> dict[str, Any]:
    return _reply(
        ref,
        "ack",
        conversation_id=message["conversation_id"],
        client_msg_id=message["client_msg_id"],
        seq=message["seq"],
        message_id=message["id"],
        created_at=message["created_at"],
        duplicate=not created,
    )
