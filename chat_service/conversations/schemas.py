"""Request and response shapes of the conversations domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from chat_service.auth.principals import Role
from chat_service.conversations.actions import SellerAction
from chat_service.ids import EXTERNAL_ID_PATTERN, INTERNAL_ID_PATTERN

__all__ = [
    "MAX_ATTACHMENTS_PER_MESSAGE",
    "ActionSend",
    "AttachmentRendition",
    "ConversationCreate",
    "ConversationPublic",
    "ConversationSummary",
    "MessageAttachment",
    "MessageKind",
    "MessagePage",
    "MessagePublic",
    "MessageVia",
    "ParticipantIn",
    "ParticipantPublic",
    "ReadMark",
    "ServerMessageSend",
    "SubjectType",
    "UserMessageSend",
]

SubjectType = Literal["order", "quote"]
# "action": a seller's quick action (chat_service.conversations.actions).
MessageKind = Literal["text", "system", "edit", "delete", "action"]
# How a message reached the service: the widget/API, or a reply to an away email.
MessageVia = Literal["chat", "email"]
CLIENT_MSG_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SYSTEM_SENDER = "system"
# The hard cap; a marketplace's policy may allow fewer.
MAX_ATTACHMENTS_PER_MESSAGE = 20
AttachmentId = Annotated[StrictStr, Field(pattern=INTERNAL_ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParticipantIn(_Strict):
    user_id: StrictStr = Field(pattern=EXTERNAL_ID_PATTERN)
    role: Role
    display_name: StrictStr = Field(min_length=1, max_length=200)
    email: StrictStr | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class ConversationCreate(_Strict):
    subject_type: SubjectType
    subject_id: StrictStr = Field(pattern=EXTERNAL_ID_PATTERN)
    title: StrictStr | None = Field(default=None, max_length=200)
    participants: list[ParticipantIn] = Field(min_length=1, max_length=50)


class ParticipantPublic(BaseModel):
    user_id: str
    role: Role
    display_name: str
    last_read_seq: int = 0


class AttachmentRendition(BaseModel):
    content_type: str
    width: int
    height: int
    size: int


class MessageAttachment(BaseModel):
    """What a message says about a photo it carries; the bytes come from a
    short-lived signed link (``GET /v1/conversations/{id}/attachments/{id}``)."""

    id: str
    renditions: dict[str, AttachmentRendition]


class MessagePublic(BaseModel):
    id: str
    conversation_id: str
    seq: int
    kind: MessageKind
    sender_id: str
    text: str | None
    client_msg_id: str
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    target_seq: int | None = None
    # Set when the text could not be shown: "integrity_error" or "key_destroyed".
    text_error: str | None = None
    attachments: list[MessageAttachment] = Field(default_factory=list)
    via: MessageVia = "chat"
    # The payload of an ``action`` entry; ``text`` then holds a plain summary.
    action: SellerAction | None = None


class ConversationPublic(BaseModel):
    id: str
    subject_type: SubjectType
    subject_id: str
    title: str | None
    participants: list[ParticipantPublic]
    last_seq: int
    created_at: datetime
    last_message_at: datetime | None


class ConversationSummary(ConversationPublic):
    unread_count: int
    last_message: MessagePublic | None


class UserMessageSend(_Strict):
    client_msg_id: StrictStr = Field(pattern=CLIENT_MSG_ID_PATTERN)
    # No max_length here: the service checks the configured limit, so any text
    # that is too long gets the same stable code (``message_too_long``).
    text: StrictStr | None = Field(default=None, min_length=1)
    attachments: list[AttachmentId] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS_PER_MESSAGE
    )

    @model_validator(mode="after")
    def _text_or_attachments(self) -> UserMessageSend:
        if self.text is None and not self.attachments:
            raise ValueError("a message needs text, attachments or both")
        return self


class ServerMessageSend(UserMessageSend):
    """Sent by the marketplace backend: as a participant, or as the system when
    ``sender_id`` is absent."""

    sender_id: StrictStr | None = Field(default=None, pattern=EXTERNAL_ID_PATTERN)


class ActionSend(_Strict):
    """A seller's quick action. The payload is checked by the service, so each
    problem gets its stable code (``unknown_action``, ``invalid_action``, ...)."""

    client_msg_id: StrictStr = Field(pattern=CLIENT_MSG_ID_PATTERN)
    action: dict[StrictStr, Any]


class ReadMark(_Strict):
    seq: StrictInt = Field(ge=0)


class MessagePage(BaseModel):
    messages: list[MessagePublic]
    has_more: bool
