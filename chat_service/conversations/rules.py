"""Pure rules of the conversations domain: what text is acceptable, how keys
and times are normalised. No I/O; unit-tested without a store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chat_service.conversations.schemas import ConversationPublic, ParticipantPublic
from chat_service.errors import BadRequest

__all__ = ["check_text", "conversation_public", "idempotency_key", "to_millis"]


def check_text(text: str, *, max_chars: int) -> str:
    """The text of a message, or :class:`BadRequest` with ``invalid_text`` or
    ``message_too_long``."""
    if "\x00" in text:
        raise BadRequest("text may not contain NUL characters", code="invalid_text")
    if not text.strip():
        raise BadRequest("text is empty", code="invalid_text")
    if len(text) > max_chars:
        raise BadRequest(f"text is longer than {max_chars} characters", code="message_too_long")
    return text


def idempotency_key(sender: str, client_msg_id: str) -> str:
    """Unique per conversation: the same client id from two senders is two messages."""
    return f"{sender}|{client_msg_id}"


def to_millis(moment: datetime) -> datetime:
    """The precision the store keeps, so a fresh reply and a later read agree."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def conversation_public(
    doc: dict[str, Any], reads: dict[str, int], activity: tuple[int, Any] | None
) -> ConversationPublic:
    """A stored conversation as callers see it, with read marks and the log's
    activity (last seq, time of the last entry)."""
    return ConversationPublic(
        id=doc["_id"],
        subject_type=doc["subject_type"],
        subject_id=doc["subject_id"],
        title=doc.get("title"),
        participants=[
            ParticipantPublic(**p, last_read_seq=reads.get(p["user_id"], 0))
            for p in doc["participants"]
        ],
        last_seq=activity[0] if activity else 0,
        created_at=doc["created_at"],
        last_message_at=activity[1] if activity else None,
    )
