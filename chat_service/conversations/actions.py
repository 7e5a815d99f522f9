"""Seller quick actions: structured messages from a closed list.

A quick action is a log entry of kind ``action``. Its payload is one of the
models below, chosen by its ``action`` field; every string is capped, unknown
fields are refused. The payload travels and is stored as canonical JSON in the
entry's ``text`` field, so it is sealed, scrubbed, shredded and exported
exactly like message text; clients receive it parsed (``action``) next to a
plain-language ``text`` summary. Pure: no I/O, unit-tested without a store.

Refusals carry stable codes: ``unknown_action`` (no such action),
``invalid_action`` (a field missing, extra, of the wrong type or malformed)
and ``action_too_large`` (a string over its cap, or the whole payload over
:data:`MAX_ACTION_BYTES`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from chat_service.errors import BadRequest

__all__ = [
    "ACTION_NAMES",
    "MAX_ACTION_BYTES",
    "MAX_NOTE_CHARS",
    "ActionName",
    "ConfirmDeliveryDate",
    "ProposeReplacement",
    "RequestPhoto",
    "SellerAction",
    "action_from_stored",
    "action_summary",
    "action_to_stored",
    "mask_action",
    "parse_action",
]

ActionName = Literal["propose_replacement", "request_photo", "confirm_delivery_date"]
ACTION_NAMES: frozenset[str] = frozenset(get_args(ActionName))
MAX_NOTE_CHARS = 500
MAX_NAME_CHARS = 200
# The payload as JSON; far below the frame limit, so a card stays a card.
MAX_ACTION_BYTES = 2048
_SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _clean(value: str) -> str:
    """Free text: no NUL, not only whitespace."""
    if "\x00" in value or not value.strip():
        raise ValueError("must be text without NUL characters, not only whitespace")
    return value


Note = Annotated[StrictStr, Field(max_length=MAX_NOTE_CHARS), AfterValidator(_clean)]
Name = Annotated[StrictStr, Field(max_length=MAX_NAME_CHARS), AfterValidator(_clean)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    note: Note | None = None


class ProposeReplacement(_Payload):
    """The seller offers another item in place of one ordered."""

    action: Literal["propose_replacement"]
    sku: StrictStr = Field(max_length=64, pattern=_SKU_PATTERN)
    name: Name


class RequestPhoto(_Payload):
    """The seller asks the buyer for a photo (of a damage, a label, ...)."""

    action: Literal["request_photo"]


class ConfirmDeliveryDate(_Payload):
    """The seller confirms the day of delivery (a calendar date, no time)."""

    action: Literal["confirm_delivery_date"]
    date: dt.date

    @field_validator("date", mode="before")
    @classmethod
    def _iso_day(cls, value: object) -> object:
        # Strict: only "YYYY-MM-DD" (no timestamps, numbers or week dates).
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if not isinstance(value, str) or not re.fullmatch(_DATE_PATTERN, value):
            raise ValueError("must be a date as YYYY-MM-DD")
        return dt.date.fromisoformat(value)


SellerAction = Annotated[
    ProposeReplacement | RequestPhoto | ConfirmDeliveryDate, Field(discriminator="action")
]
_ADAPTER: TypeAdapter[SellerAction] = TypeAdapter(SellerAction)


def parse_action(raw: object) -> SellerAction:
    """A payload sent by a client, or :class:`BadRequest` with a stable code."""
    if not isinstance(raw, dict):
        raise BadRequest("action must be a JSON object", code="invalid_action")
    try:
        size = len(orjson.dumps(raw))
    except (TypeError, orjson.JSONEncodeError):
        raise BadRequest("action must be plain JSON", code="invalid_action") from None
    if size > MAX_ACTION_BYTES:
        raise BadRequest(f"action is larger than {MAX_ACTION_BYTES} bytes", code="action_too_large")
    name = raw.get("action")
    if not isinstance(name, str) or name not in ACTION_NAMES:
        raise BadRequest(
            f"unknown action; one of: {', '.join(sorted(ACTION_NAMES))}", code="unknown_action"
        )
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        errors = exc.errors()
        code = (
            "action_too_large"
            if any(e["type"] == "string_too_long" for e in errors)
            else "invalid_action"
        )
        raise BadRequest(_describe(errors), code=code) from None


def _describe(errors: list[Any]) -> str:
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error["loc"][1:]) or "action"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def mask_action(action: SellerAction, mask: Callable[[str], str]) -> SellerAction:
    """The payload with ``mask`` applied to its free text (name, note)."""
    changes: dict[str, str] = {}
    if action.note is not None:
        changes["note"] = mask(action.note)
    if isinstance(action, ProposeReplacement):
        changes["name"] = mask(action.name)
    return action.model_copy(update=changes) if changes else action


def action_to_stored(action: SellerAction) -> str:
    """Canonical JSON, sealed as the entry's text."""
    fields = action.model_dump(mode="json", exclude_none=True)
    return orjson.dumps({"action": fields.pop("action"), **fields}).decode()


def action_from_stored(text: str) -> SellerAction:
    """The payload of a stored entry; ``ValueError`` if it no longer parses."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


def action_summary(action: SellerAction) -> str:
    """Plain language, for previews, away e-mails and clients that do not know the kind."""
    match action:
        case ProposeReplacement():
            text = f"Proposed a replacement: {action.name} (SKU {action.sku})."
        case RequestPhoto():
            text = "Asked for a photo."
        case ConfirmDeliveryDate():
            text = f"Confirmed the delivery date: {action.date.isoformat()}."
    return f"{text} Note: {action.note}" if action.note else text
