"""The WebSocket protocol, without I/O: parse a client frame or say why not.

Every client frame is one JSON object of at most ``max_bytes`` UTF-8 bytes with
a ``type``; an optional ``ref`` (a short string) is echoed in the reply so a
client can match answers to requests. Field types are strict: an object where
a string is expected (``{"$ne": null}``) is refused, never passed on.
See ``docs/protocol.md`` for the full description.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from chat_service.conversations.schemas import (
    CLIENT_MSG_ID_PATTERN,
    MAX_ATTACHMENTS_PER_MESSAGE,
    AttachmentId,
)
from chat_service.ids import INTERNAL_ID_PATTERN

__all__ = [
    "ActionFrame",
    "AuthFrame",
    "ClientFrame",
    "DeleteFrame",
    "EditFrame",
    "PingFrame",
    "ProtocolError",
    "ReadFrame",
    "SendFrame",
    "SubscribeFrame",
    "TypingFrame",
    "UnsubscribeFrame",
    "encode",
    "error_frame",
    "parse_client_frame",
]

Ref = Annotated[StrictStr, Field(max_length=64)]
ConversationId = Annotated[StrictStr, Field(pattern=INTERNAL_ID_PATTERN)]
ClientMsgId = Annotated[StrictStr, Field(pattern=CLIENT_MSG_ID_PATTERN)]
Seq = Annotated[StrictInt, Field(ge=0, le=2**53)]


class ProtocolError(Exception):
    """A frame the server refuses; ``code`` is stable and documented."""

    def __init__(self, code: str, detail: str, ref: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.ref = ref


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: Ref | None = None


class AuthFrame(_Frame):
    type: Literal["auth"]
    token: Annotated[StrictStr, Field(min_length=1, max_length=4096)]


class SubscribeFrame(_Frame):
    type: Literal["subscribe"]
    conversation_id: ConversationId
    after_seq: Seq = 0


class UnsubscribeFrame(_Frame):
    type: Literal["unsubscribe"]
    conversation_id: ConversationId


class SendFrame(_Frame):
    type: Literal["send"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    text: Annotated[StrictStr, Field(min_length=1)] | None = None
    attachments: Annotated[
        tuple[AttachmentId, ...], Field(max_length=MAX_ATTACHMENTS_PER_MESSAGE)
    ] = ()

    @model_validator(mode="after")
    def _text_or_attachments(self) -> SendFrame:
        if self.text is None and not self.attachments:
            raise ValueError("a message needs text, attachments or both")
        return self


class EditFrame(_Frame):
    type: Literal["edit"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    seq: Seq
    text: Annotated[StrictStr, Field(min_length=1)]


class DeleteFrame(_Frame):
    type: Literal["delete"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    seq: Seq


class ActionFrame(_Frame):
    """A seller's quick action; the payload's rules (and codes) are the
    conversations domain's (``chat_service.conversations.actions``)."""

    type: Literal["action"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    action: dict[StrictStr, Any]


class TypingFrame(_Frame):
    type: Literal["typing"]
    conversation_id: ConversationId
    state: Literal["start", "stop"]


class ReadFrame(_Frame):
    type: Literal["read"]
    conversation_id: ConversationId
    seq: Seq


class PingFrame(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    AuthFrame
    | SubscribeFrame
    | UnsubscribeFrame
    | SendFrame
    | EditFrame
    | DeleteFrame
    | ActionFrame
    | TypingFrame
    | ReadFrame
    | PingFrame,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
FRAME_TYPES = frozenset(
    {
        "auth",
        "subscribe",
        "unsubscribe",
        "send",
        "edit",
        "delete",
        "action",
        "typing",
        "read",
        "ping",
    }
)


def parse_client_frame(raw: str | bytes | None, *, max_bytes: int) -> ClientFrame:
    """Validate one received frame. Raises :class:`ProtocolError` with codes
    ``binary_not_supported``, ``frame_too_large``, ``bad_json``, ``bad_frame``,
    ``unknown_type`` or ``invalid_field``."""
    if raw is None or isinstance(raw, bytes):
        raise ProtocolError("binary_not_supported", "frames must be JSON text")
    if len(raw) > max_bytes or len(raw.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ProtocolError("frame_too_large", f"frames may be at most {max_bytes} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_json", "frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "frame must be a JSON object")
    ref = data.get("ref") if isinstance(data.get("ref"), str) else None
    ref = ref[:64] if ref else None
    frame_type = data.get("type")
    if not isinstance(frame_type, str) or frame_type not in FRAME_TYPES:
        raise ProtocolError("unknown_type", "unknown or missing frame type", ref)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError("invalid_field", _describe(exc), ref) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"][1:]) or "frame"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode("utf-8")


def error_frame(code: str, detail: str, ref: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if ref is not None:
        frame["ref"] = ref
    return frame
